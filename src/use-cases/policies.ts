// Rules-of-engagement policy: read, replace (a new version), and dry-run a proposal over past registrations.
import { z } from 'zod';
import { appendLedgerEvent } from '../data/ledger';
import { policySchema, defaultPolicy, type Policy } from '../domain/policy';
import { dryRun } from '../domain/policy-dry-run';
import type { Evidence, Verdict } from '../domain/types';
import { unprocessable } from '../lib/errors';
import { actorOf, type StaffPrincipal, type UseCaseContext } from './context';
import type { Db } from '../data/prisma';

export interface PolicyView {
  version: number;
  policy: Policy;
  createdAt: string;
  createdBy: string;
}

export async function currentPolicy(db: Db, workspaceId: string): Promise<{ version: number; policy: Policy; createdAt: Date; createdBy: string }> {
  const row = await db.policy.findFirst({ where: { workspaceId }, orderBy: { version: 'desc' } });
  if (!row) return { version: 0, policy: defaultPolicy(), createdAt: new Date(0), createdBy: 'system' };
  return { version: row.version, policy: parseStoredPolicy(row.body), createdAt: row.createdAt, createdBy: row.createdBy };
}

/** Stored policies were valid when written; re-parse so defaults added later apply. */
export function parseStoredPolicy(body: unknown): Policy {
  const r = policySchema.safeParse(body);
  return r.success ? r.data : defaultPolicy();
}

export async function getPolicy(ctx: UseCaseContext, workspaceId: string): Promise<PolicyView> {
  const p = await currentPolicy(ctx.prisma, workspaceId);
  return { version: p.version, policy: p.policy, createdAt: p.createdAt.toISOString(), createdBy: p.createdBy };
}

export function validatePolicy(body: unknown): Policy {
  const r = policySchema.safeParse(body);
  if (!r.success) {
    throw unprocessable('VALIDATION_FAILED', 'The policy is not valid: see details for each problem.', {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}

export async function replacePolicy(ctx: UseCaseContext, by: StaffPrincipal, body: unknown): Promise<PolicyView> {
  const policy = validatePolicy(body);
  const at = ctx.clock();
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await ctx.prisma.$transaction(async (tx) => {
        const latest = await tx.policy.findFirst({ where: { workspaceId: by.workspaceId }, orderBy: { version: 'desc' }, select: { version: true } });
        const version = (latest?.version ?? 0) + 1;
        const created = await tx.policy.create({ data: { workspaceId: by.workspaceId, version, body: policy, createdBy: `${by.kind}:${by.tokenId}` } });
        await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'policy.updated', actor: actorOf(by), data: { version, previousVersion: latest?.version ?? null }, at });
        return created;
      });
      return { version: row.version, policy, createdAt: row.createdAt.toISOString(), createdBy: row.createdBy };
    } catch (err) {
      // Two concurrent PUTs picked the same version number: the loser retries on top of the winner.
      if ((err as { code?: string }).code === 'P2002' && attempt < 3) continue;
      throw err;
    }
  }
}

export const dryRunSchema = z
  .object({
    policy: z.unknown(),
    /** Only registrations created at or after this instant. */
    since: z.string().datetime({ offset: true }).optional(),
    /** How many of the most recent registrations to replay (default 1,000, at most 10,000). */
    limit: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

export async function dryRunPolicy(ctx: UseCaseContext, workspaceId: string, input: z.output<typeof dryRunSchema>) {
  const policy = validatePolicy(input.policy);
  const current = await currentPolicy(ctx.prisma, workspaceId);
  const rows = await ctx.prisma.registration.findMany({
    where: { workspaceId, ...(input.since ? { createdAt: { gte: new Date(input.since) } } : {}) },
    orderBy: { id: 'desc' },
    take: input.limit,
    select: { id: true, partnerId: true, companyName: true, companyDomain: true, companyCountry: true, verdict: true, evidence: true, createdAt: true },
  });
  const report = dryRun(
    rows.map((r) => ({
      registrationId: r.id,
      candidate: { partnerId: r.partnerId, company: { name: r.companyName, domain: r.companyDomain, country: r.companyCountry } },
      evidence: r.evidence as unknown as Evidence,
      previous: r.verdict as unknown as Verdict,
      decidedAt: r.createdAt,
    })),
    policy,
    current.version + 1,
  );
  return { currentVersion: current.version, ...report };
}
