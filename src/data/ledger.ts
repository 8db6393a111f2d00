// The append-only, hash-chained audit ledger (one chain per workspace).
//
//   contentHash = sha256(canonical JSON of { type, registrationId, actorType, actorId, source, data, createdAt })
//   hash        = sha256(prevHash + ":" + seq + ":" + contentHash)
//
// Appending is one SQL statement that locks the workspace's ledger_heads row, advances it and inserts the
// event. Call it LAST in a transaction: the lock is then held only until commit. (The head is not on the
// workspace row: rows inserted earlier in the same transactions hold KEY SHARE locks on the workspace
// through their foreign keys, and every append would also bloat the row those checks read.)
import { Prisma } from '../generated/prisma/client';
import { canonicalJson, sha256Hex } from '../lib/crypto';
import type { Db } from './prisma';

export type ActorType = 'partner' | 'staff' | 'crm_user' | 'system';

export interface Actor {
  type: ActorType;
  id: string | null;
  /** Where the action came from: api, card:hubspot, card:salesforce, crm:hubspot, crm:salesforce, job, cli. */
  source: string;
}

export interface LedgerAppend {
  workspaceId: string;
  registrationId?: string | null;
  type: string;
  actor: Actor;
  data: Record<string, unknown>;
  at: Date;
}

export const GENESIS_HASH = '0'.repeat(64);

export function contentHashOf(e: {
  type: string;
  registrationId: string | null;
  actorType: string;
  actorId: string | null;
  source: string;
  data: unknown;
  createdAt: string;
}): string {
  return sha256Hex(
    canonicalJson({
      type: e.type,
      registrationId: e.registrationId,
      actorType: e.actorType,
      actorId: e.actorId,
      source: e.source,
      data: e.data,
      createdAt: e.createdAt,
    }),
  );
}

export function chainHash(prevHash: string, seq: bigint | number | string, contentHash: string): string {
  return sha256Hex(`${prevHash}:${seq}:${contentHash}`);
}

/** Builds the append statement (usable inside a batch `$transaction([...])`). */
export function ledgerAppendSql(db: Db, e: LedgerAppend) {
  const createdAt = e.at.toISOString();
  // Round-trip the data through JSON so what we hash is exactly what jsonb will give back.
  const data = JSON.parse(JSON.stringify(e.data)) as unknown;
  const contentHash = contentHashOf({
    type: e.type,
    registrationId: e.registrationId ?? null,
    actorType: e.actor.type,
    actorId: e.actor.id,
    source: e.actor.source,
    data,
    createdAt,
  });
  return db.$executeRaw`
    WITH head AS (
      SELECT hash AS prev, seq + 1 AS seq FROM ledger_heads WHERE workspace_id = ${e.workspaceId}::uuid FOR UPDATE
    ), next AS (
      SELECT prev, seq, encode(sha256(convert_to(prev || ':' || seq::text || ':' || ${contentHash}, 'UTF8')), 'hex') AS hash FROM head
    ), moved AS (
      UPDATE ledger_heads h SET seq = next.seq, hash = next.hash FROM next WHERE h.workspace_id = ${e.workspaceId}::uuid
      RETURNING next.seq, next.prev, next.hash
    )
    INSERT INTO ledger_events (workspace_id, seq, registration_id, type, actor_type, actor_id, source, data, content_hash, prev_hash, hash, created_at)
    SELECT ${e.workspaceId}::uuid, moved.seq, ${e.registrationId ?? null}::uuid, ${e.type}, ${e.actor.type}, ${e.actor.id}, ${e.actor.source},
           ${JSON.stringify(data)}::jsonb, ${contentHash}, moved.prev, moved.hash, ${createdAt}::timestamptz
    FROM moved`;
}

export async function appendLedgerEvent(db: Db, e: LedgerAppend): Promise<void> {
  const n = await ledgerAppendSql(db, e);
  if (n !== 1) throw new Error(`ledger append wrote ${n} rows (workspace ${e.workspaceId} missing?)`);
}

export interface LedgerProblem {
  workspaceId: string;
  seq: string;
  problem: string;
}

export interface VerifyResult {
  workspaces: number;
  events: number;
  problems: LedgerProblem[];
}

/**
 * Re-computes every chain. Detects edited rows (content hash or chain hash mismatch), deleted rows
 * (sequence gaps, a broken prev link, or a head that does not match the newest event) and
 * re-ordered rows. Streams in pages so it works on large ledgers.
 */
export async function verifyLedger(
  db: Db,
  opts: { workspaceId?: string; pageSize?: number; onProgress?: (done: number) => void } = {},
): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 5000;
  const workspaces = await db.workspace.findMany({
    where: opts.workspaceId ? { id: opts.workspaceId } : undefined,
    select: { id: true, ledgerHead: { select: { seq: true, hash: true } } },
    orderBy: { id: 'asc' },
  });
  const problems: LedgerProblem[] = [];
  let events = 0;
  for (const ws of workspaces) {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1n;
    let after = 0n;
    for (;;) {
      const rows = await db.ledgerEvent.findMany({
        where: { workspaceId: ws.id, seq: { gt: after } },
        orderBy: { seq: 'asc' },
        take: pageSize,
      });
      if (rows.length === 0) break;
      for (const r of rows) {
        events++;
        const at = r.seq.toString();
        if (r.seq !== expectedSeq) {
          problems.push({ workspaceId: ws.id, seq: at, problem: `sequence gap: expected ${expectedSeq}, found ${r.seq} (events deleted?)` });
        }
        const content = contentHashOf({
          type: r.type,
          registrationId: r.registrationId,
          actorType: r.actorType,
          actorId: r.actorId,
          source: r.source,
          data: r.data,
          createdAt: r.createdAt.toISOString(),
        });
        if (content !== r.contentHash) problems.push({ workspaceId: ws.id, seq: at, problem: 'content does not match its hash (event edited)' });
        if (r.prevHash !== prevHash) problems.push({ workspaceId: ws.id, seq: at, problem: 'previous-hash link broken (an earlier event was edited or deleted)' });
        if (chainHash(r.prevHash, r.seq, r.contentHash) !== r.hash) problems.push({ workspaceId: ws.id, seq: at, problem: 'chain hash does not match (event edited)' });
        prevHash = r.hash;
        expectedSeq = r.seq + 1n;
        after = r.seq;
      }
      opts.onProgress?.(events);
    }
    const head = ws.ledgerHead ?? { seq: 0n, hash: GENESIS_HASH };
    if (head.seq !== expectedSeq - 1n || head.hash !== prevHash) {
      problems.push({ workspaceId: ws.id, seq: head.seq.toString(), problem: 'ledger head does not match the newest event (events deleted at the end?)' });
    }
  }
  return { workspaces: workspaces.length, events, problems };
}

export { Prisma };
