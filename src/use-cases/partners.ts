// Partners and their API keys (stored hashed, shown once).
import { z } from 'zod';
import { appendLedgerEvent } from '../data/ledger';
import { generateSecret, hashSecret } from '../lib/crypto';
import { conflict, notFound } from '../lib/errors';
import { PARTNER_STATUSES, PARTNER_TIERS, PARTNER_TYPES } from '../domain/types';
import { isUuid } from '../data/repositories/registrations';
import { actorOf, type StaffPrincipal, type UseCaseContext } from './context';
import { PARTNER_KEY_PREFIX } from './workspaces';
import type { Partner } from '../generated/prisma/client';

const crmRefsSchema = z
  .object({
    salesforceAccountId: z.string().regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'a 15- or 18-character Salesforce Account id').optional(),
    hubspotCompanyId: z.string().regex(/^\d{1,20}$/, 'a numeric HubSpot company id').optional(),
  })
  .strict();

export const createPartnerSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.enum(PARTNER_TYPES),
    tier: z.enum(PARTNER_TIERS).default('registered'),
    status: z.enum(PARTNER_STATUSES).default('active'),
    contact: z.object({ name: z.string().trim().min(1).max(200).optional(), email: z.string().trim().email().max(320).optional() }).strict().optional(),
    crmRefs: crmRefsSchema.optional(),
  })
  .strict();

export const updatePartnerSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    type: z.enum(PARTNER_TYPES).optional(),
    tier: z.enum(PARTNER_TIERS).optional(),
    status: z.enum(PARTNER_STATUSES).optional(),
    contact: z.object({ name: z.string().trim().min(1).max(200).nullable().optional(), email: z.string().trim().email().max(320).nullable().optional() }).strict().optional(),
    crmRefs: crmRefsSchema.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'send at least one field to change' });

export interface PartnerView {
  id: string;
  name: string;
  type: string;
  tier: string;
  status: string;
  contact: { name: string | null; email: string | null };
  crmRefs: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export function partnerView(p: Partner): PartnerView {
  return {
    id: p.id,
    name: p.name,
    type: p.type,
    tier: p.tier,
    status: p.status,
    contact: { name: p.contactName, email: p.contactEmail },
    crmRefs: (p.crmRefs ?? {}) as Record<string, string>,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'P2002';
}

export async function createPartner(ctx: UseCaseContext, by: StaffPrincipal, input: z.output<typeof createPartnerSchema>): Promise<{ partner: PartnerView; apiKey: string }> {
  const apiKey = generateSecret(PARTNER_KEY_PREFIX);
  const at = ctx.clock();
  try {
    const partner = await ctx.prisma.$transaction(async (tx) => {
      const p = await tx.partner.create({
        data: {
          workspaceId: by.workspaceId,
          name: input.name,
          type: input.type,
          tier: input.tier,
          status: input.status,
          contactName: input.contact?.name ?? null,
          contactEmail: input.contact?.email ?? null,
          crmRefs: input.crmRefs ?? {},
        },
      });
      const key = await tx.partnerApiKey.create({
        data: { workspaceId: by.workspaceId, partnerId: p.id, keyHash: hashSecret(apiKey), keyPrefix: apiKey.slice(0, 8) },
        select: { id: true },
      });
      await appendLedgerEvent(tx, {
        workspaceId: by.workspaceId,
        type: 'partner.created',
        actor: actorOf(by),
        data: { partnerId: p.id, name: p.name, type: p.type, tier: p.tier, status: p.status, apiKeyId: key.id },
        at,
      });
      return p;
    });
    return { partner: partnerView(partner), apiKey };
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('PARTNER_EXISTS', `A partner named "${input.name}" already exists in this workspace.`);
    throw err;
  }
}

export async function getPartner(ctx: UseCaseContext, workspaceId: string, id: string): Promise<PartnerView> {
  const p = isUuid(id) ? await ctx.prisma.partner.findFirst({ where: { id, workspaceId } }) : null;
  if (!p) throw notFound('Partner');
  return partnerView(p);
}

export async function listPartners(ctx: UseCaseContext, workspaceId: string, args: { afterId?: string; limit: number; status?: string; tier?: string }) {
  const rows = await ctx.prisma.partner.findMany({
    where: {
      workspaceId,
      ...(args.afterId ? { id: { gt: args.afterId } } : {}),
      ...(args.status ? { status: args.status as never } : {}),
      ...(args.tier ? { tier: args.tier as never } : {}),
    },
    orderBy: { id: 'asc' },
    take: args.limit + 1,
  });
  const more = rows.length > args.limit;
  const page = more ? rows.slice(0, args.limit) : rows;
  return { data: page.map(partnerView), nextCursor: more ? page[page.length - 1]!.id : null };
}

export async function updatePartner(ctx: UseCaseContext, by: StaffPrincipal, id: string, input: z.output<typeof updatePartnerSchema>): Promise<PartnerView> {
  if (!isUuid(id)) throw notFound('Partner');
  const at = ctx.clock();
  try {
    const updated = await ctx.prisma.$transaction(async (tx) => {
      const before = await tx.partner.findFirst({ where: { id, workspaceId: by.workspaceId } });
      if (!before) throw notFound('Partner');
      const after = await tx.partner.update({
        where: { id },
        data: {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.type !== undefined ? { type: input.type } : {}),
          ...(input.tier !== undefined ? { tier: input.tier } : {}),
          ...(input.status !== undefined ? { status: input.status } : {}),
          ...(input.contact?.name !== undefined ? { contactName: input.contact.name } : {}),
          ...(input.contact?.email !== undefined ? { contactEmail: input.contact.email } : {}),
          ...(input.crmRefs !== undefined ? { crmRefs: { ...((before.crmRefs ?? {}) as object), ...input.crmRefs } } : {}),
        },
      });
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const k of ['name', 'type', 'tier', 'status', 'contactName', 'contactEmail'] as const) {
        if (before[k] !== after[k]) changes[k] = { from: before[k], to: after[k] };
      }
      if (JSON.stringify(before.crmRefs) !== JSON.stringify(after.crmRefs)) changes.crmRefs = { from: before.crmRefs, to: after.crmRefs };
      if (Object.keys(changes).length > 0) {
        await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'partner.updated', actor: actorOf(by), data: { partnerId: id, changes }, at });
      }
      return after;
    });
    return partnerView(updated);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('PARTNER_EXISTS', `A partner named "${input.name}" already exists in this workspace.`);
    throw err;
  }
}

/** Issues a new API key for a partner (the old ones keep working until revoked). */
export async function createPartnerApiKey(ctx: UseCaseContext, by: StaffPrincipal, partnerId: string): Promise<{ id: string; apiKey: string }> {
  if (!isUuid(partnerId)) throw notFound('Partner');
  const apiKey = generateSecret(PARTNER_KEY_PREFIX);
  const at = ctx.clock();
  const key = await ctx.prisma.$transaction(async (tx) => {
    const p = await tx.partner.findFirst({ where: { id: partnerId, workspaceId: by.workspaceId }, select: { id: true } });
    if (!p) throw notFound('Partner');
    const k = await tx.partnerApiKey.create({ data: { workspaceId: by.workspaceId, partnerId, keyHash: hashSecret(apiKey), keyPrefix: apiKey.slice(0, 8) }, select: { id: true } });
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'partner.api_key.created', actor: actorOf(by), data: { partnerId, apiKeyId: k.id }, at });
    return k;
  });
  return { id: key.id, apiKey };
}

export async function listPartnerApiKeys(ctx: UseCaseContext, workspaceId: string, partnerId: string) {
  if (!isUuid(partnerId)) throw notFound('Partner');
  const p = await ctx.prisma.partner.findFirst({ where: { id: partnerId, workspaceId }, select: { id: true } });
  if (!p) throw notFound('Partner');
  const rows = await ctx.prisma.partnerApiKey.findMany({
    where: { partnerId, workspaceId },
    orderBy: { createdAt: 'asc' },
    select: { id: true, keyPrefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt?.toISOString() ?? null, revokedAt: r.revokedAt?.toISOString() ?? null }));
}

export async function revokePartnerApiKey(ctx: UseCaseContext, by: StaffPrincipal, partnerId: string, keyId: string): Promise<void> {
  if (!isUuid(partnerId) || !isUuid(keyId)) throw notFound('API key');
  const at = ctx.clock();
  await ctx.prisma.$transaction(async (tx) => {
    const r = await tx.partnerApiKey.updateMany({ where: { id: keyId, partnerId, workspaceId: by.workspaceId, revokedAt: null }, data: { revokedAt: at } });
    if (r.count === 0) {
      const exists = await tx.partnerApiKey.findFirst({ where: { id: keyId, partnerId, workspaceId: by.workspaceId }, select: { id: true } });
      if (!exists) throw notFound('API key');
      return;
    }
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, type: 'partner.api_key.revoked', actor: actorOf(by), data: { partnerId, apiKeyId: keyId }, at });
  });
}
