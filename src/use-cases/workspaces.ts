// Workspace creation (with its first admin token and the default policy) and staff tokens.
import { z } from 'zod';
import { appendLedgerEvent, type Actor } from '../data/ledger';
import { generateSecret, hashSecret } from '../lib/crypto';
import { notFound } from '../lib/errors';
import { defaultPolicy } from '../domain/policy';
import { STAFF_ROLES, type StaffRole } from '../domain/types';
import type { UseCaseContext } from './context';
import { actorOf, type StaffPrincipal } from './context';

export const STAFF_TOKEN_PREFIX = 'drs';
export const PARTNER_KEY_PREFIX = 'drp';

export async function createWorkspace(ctx: UseCaseContext, args: { name: string; actor?: Actor }): Promise<{ workspaceId: string; adminToken: string }> {
  const name = args.name.trim();
  if (name.length === 0 || name.length > 200) throw new Error('workspace name must be 1–200 characters');
  const adminToken = generateSecret(STAFF_TOKEN_PREFIX);
  const at = ctx.clock();
  const actor = args.actor ?? { type: 'system', id: null, source: 'cli' };
  const workspaceId = await ctx.prisma.$transaction(async (tx) => {
    const ws = await tx.workspace.create({ data: { name, ledgerHead: { create: {} } }, select: { id: true } });
    const token = await tx.staffToken.create({
      data: { workspaceId: ws.id, name: 'initial admin', role: 'admin', tokenHash: hashSecret(adminToken), tokenPrefix: adminToken.slice(0, 8) },
      select: { id: true },
    });
    await tx.policy.create({ data: { workspaceId: ws.id, version: 1, body: defaultPolicy(), createdBy: 'system' } });
    await appendLedgerEvent(tx, { workspaceId: ws.id, type: 'workspace.created', actor, data: { name, adminTokenId: token.id, policyVersion: 1 }, at });
    return ws.id;
  });
  return { workspaceId, adminToken };
}

export const createStaffTokenSchema = z
  .object({
    role: z.enum(STAFF_ROLES),
    name: z.string().trim().min(1).max(200),
  })
  .strict();

export async function createStaffToken(
  ctx: UseCaseContext,
  by: StaffPrincipal,
  input: z.infer<typeof createStaffTokenSchema>,
): Promise<{ id: string; token: string; role: StaffRole; name: string }> {
  const token = generateSecret(STAFF_TOKEN_PREFIX);
  const at = ctx.clock();
  const row = await ctx.prisma.$transaction(async (tx) => {
    const r = await tx.staffToken.create({
      data: { workspaceId: by.workspaceId, name: input.name, role: input.role, tokenHash: hashSecret(token), tokenPrefix: token.slice(0, 8) },
      select: { id: true },
    });
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'staff_token.created', actor: actorOf(by), data: { tokenId: r.id, role: input.role, name: input.name }, at });
    return r;
  });
  return { id: row.id, token, role: input.role, name: input.name };
}

export async function listStaffTokens(ctx: UseCaseContext, by: StaffPrincipal) {
  const rows = await ctx.prisma.staffToken.findMany({
    where: { workspaceId: by.workspaceId },
    orderBy: { createdAt: 'asc' },
    select: { id: true, name: true, role: true, tokenPrefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
  return rows;
}

export async function revokeStaffToken(ctx: UseCaseContext, by: StaffPrincipal, tokenId: string): Promise<void> {
  const at = ctx.clock();
  await ctx.prisma.$transaction(async (tx) => {
    const r = await tx.staffToken.updateMany({ where: { id: tokenId, workspaceId: by.workspaceId, revokedAt: null }, data: { revokedAt: at } });
    if (r.count === 0) {
      const exists = await tx.staffToken.findFirst({ where: { id: tokenId, workspaceId: by.workspaceId }, select: { id: true } });
      if (!exists) throw notFound('Staff token');
      return; // already revoked: idempotent
    }
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'staff_token.revoked', actor: actorOf(by), data: { tokenId }, at });
  });
}
