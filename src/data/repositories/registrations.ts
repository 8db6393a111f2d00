// Registration reads and the one write path for state changes.
import type { Prisma } from '../../generated/prisma/client';
import type { Db, PrismaClient, Tx } from '../prisma';
import { appendLedgerEvent, type Actor } from '../ledger';
import { outboxInsert } from '../outbox';
import type { RegistrationStatus } from '../../domain/types';

export type RegistrationRow = Prisma.RegistrationGetPayload<{ include: { partner: { select: { id: true; name: true; type: true; tier: true; status: true } } } }>;

export const withPartner = { partner: { select: { id: true, name: true, type: true, tier: true, status: true } } } as const;

export async function findRegistration(db: Db, workspaceId: string, id: string, partnerId?: string): Promise<RegistrationRow | null> {
  if (!isUuid(id)) return null;
  return db.registration.findFirst({ where: { id, workspaceId, ...(partnerId ? { partnerId } : {}) }, include: withPartner });
}

export async function listRegistrations(
  db: Db,
  args: { workspaceId: string; partnerId?: string; status?: RegistrationStatus[]; afterId?: string; limit: number },
): Promise<{ rows: RegistrationRow[]; nextCursor: string | null }> {
  const rows = await db.registration.findMany({
    where: {
      workspaceId: args.workspaceId,
      ...(args.partnerId ? { partnerId: args.partnerId } : {}),
      ...(args.status && args.status.length > 0 ? { status: { in: args.status } } : {}),
      ...(args.afterId ? { id: { lt: args.afterId } } : {}),
    },
    orderBy: { id: 'desc' },
    take: args.limit + 1,
    include: withPartner,
  });
  const more = rows.length > args.limit;
  const page = more ? rows.slice(0, args.limit) : rows;
  return { rows: page, nextCursor: more ? page[page.length - 1]!.id : null };
}

export interface StateChange {
  workspaceId: string;
  registrationId: string;
  /** The version read before deciding; the update applies only if nobody changed the row since. */
  expectedVersion: number;
  data: Prisma.RegistrationUpdateManyMutationInput;
  /** Release the account hold (the registration stops being active). */
  releaseHold?: boolean;
  event: { type: string; actor: Actor; data: Record<string, unknown> };
  at: Date;
  /** More writes in the same transaction (run before the outbox row and the ledger append). */
  extra?: (tx: Tx) => Promise<unknown>;
}

export class StaleVersionError extends Error {
  constructor(readonly registrationId: string) {
    super(`registration ${registrationId} changed concurrently`);
  }
}

/**
 * Applies a state change: registration update (guarded by version), hold release, outbox row and
 * ledger event, in ONE transaction. Throws StaleVersionError (and writes nothing) when the row moved.
 */
export async function applyStateChange(prisma: PrismaClient, c: StateChange): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const updated = await tx.registration.updateMany({
      where: { id: c.registrationId, workspaceId: c.workspaceId, version: c.expectedVersion },
      data: { ...c.data, version: { increment: 1 } },
    });
    if (updated.count !== 1) throw new StaleVersionError(c.registrationId);
    if (c.releaseHold) await tx.accountHold.deleteMany({ where: { registrationId: c.registrationId } });
    if (c.extra) await c.extra(tx);
    await outboxInsert(tx, { workspaceId: c.workspaceId, topic: 'registration.changed', registrationId: c.registrationId, payload: { event: c.event.type } });
    await appendLedgerEvent(tx, { workspaceId: c.workspaceId, registrationId: c.registrationId, type: c.event.type, actor: c.event.actor, data: c.event.data, at: c.at });
  });
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
