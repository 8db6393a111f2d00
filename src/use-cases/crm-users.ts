// CRM users' roles in dealreg, for the cards inside the CRM (admin only): list, upsert, delete, each
// change audited in the ledger. A card's user resolves by their CRM user id first, then by lower-cased
// email (rows without a user id only); nobody found → "viewer" (sees the card, may not act).
import { z } from 'zod';
import { appendLedgerEvent } from '../data/ledger';
import { sqlPool } from '../data/prisma';
import { toId18 } from '../crm/salesforce/salesforce-ids';
import { CRM_NAMES, type CrmName } from '../domain/types';
import type { CardViewer } from '../domain/card-view-model';
import { conflict, notFound } from '../lib/errors';
import { actorOf, type StaffPrincipal, type UseCaseContext } from './context';

export const CRM_USER_ROLES = ['admin', 'revops', 'partner_manager', 'viewer'] as const;
export type CrmUserRoleName = (typeof CRM_USER_ROLES)[number];

const HUBSPOT_USER_ID = /^\d{1,20}$/;

export const upsertCrmUserSchema = z
  .object({
    crm: z.enum(CRM_NAMES),
    /** HubSpot user id (digits) / Salesforce user id (15 or 18 characters, stored as 18). */
    crmUserId: z.string().trim().min(1).max(40).optional(),
    email: z.string().trim().toLowerCase().pipe(z.email()).optional(),
    role: z.enum(CRM_USER_ROLES),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.crmUserId === undefined && v.email === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give crmUserId, email, or both', path: ['crmUserId'] });
      return;
    }
    if (v.crmUserId === undefined) return;
    if (v.crm === 'hubspot' && !HUBSPOT_USER_ID.test(v.crmUserId)) {
      ctx.addIssue({ code: 'custom', message: 'a HubSpot user id is a number, e.g. "7012345"', path: ['crmUserId'] });
    }
    if (v.crm === 'salesforce' && !toId18(v.crmUserId)) {
      ctx.addIssue({ code: 'custom', message: 'a Salesforce user id has 15 or 18 letters and digits, e.g. "005xx000001Sv6AAAS"', path: ['crmUserId'] });
    }
  })
  .transform((v) => ({ ...v, crmUserId: v.crmUserId === undefined ? undefined : v.crm === 'salesforce' ? toId18(v.crmUserId)! : v.crmUserId }));

export type UpsertCrmUserInput = z.output<typeof upsertCrmUserSchema>;

export interface CrmUserView {
  id: string;
  crm: CrmName;
  externalAccountId: string;
  crmUserId: string | null;
  email: string | null;
  role: CrmUserRoleName;
  name: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

type Row = { id: string; crm: string; externalAccountId: string; crmUserId: string | null; email: string | null; role: string; name: string | null; createdBy: string; createdAt: Date; updatedAt: Date };

function view(r: Row): CrmUserView {
  return {
    id: r.id,
    crm: r.crm as CrmName,
    externalAccountId: r.externalAccountId,
    crmUserId: r.crmUserId,
    email: r.email,
    role: r.role as CrmUserRoleName,
    name: r.name,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export async function listCrmUsers(ctx: UseCaseContext, by: StaffPrincipal, crm?: CrmName): Promise<CrmUserView[]> {
  const rows = await ctx.prisma.crmUserRole.findMany({ where: { workspaceId: by.workspaceId, ...(crm ? { crm } : {}) }, orderBy: { createdAt: 'asc' } });
  return rows.map(view);
}

/**
 * Creates or updates the role of a CRM user (matched by crmUserId, else by email). The CRM must be
 * connected: the row records the account (portal / org) it applies to.
 */
export async function upsertCrmUser(ctx: UseCaseContext, by: StaffPrincipal, input: UpsertCrmUserInput): Promise<{ created: boolean; user: CrmUserView }> {
  const connection = await ctx.prisma.crmConnection.findFirst({
    where: { workspaceId: by.workspaceId, crm: input.crm, status: { in: ['active', 'parked'] } },
    orderBy: { createdAt: 'asc' },
    select: { externalAccountId: true },
  });
  if (!connection) {
    throw conflict('CRM_NOT_CONNECTED', `This workspace has no ${input.crm} connection: connect ${input.crm} first (POST /v1/connections/${input.crm}), then map its users.`);
  }
  const at = ctx.clock();
  const actor = actorOf(by);
  const ws = by.workspaceId;
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const byId = input.crmUserId ? await tx.crmUserRole.findFirst({ where: { workspaceId: ws, crm: input.crm, crmUserId: input.crmUserId } }) : null;
      const byEmail = input.email ? await tx.crmUserRole.findFirst({ where: { workspaceId: ws, crm: input.crm, email: input.email } }) : null;
      if (byId && byEmail && byId.id !== byEmail.id) {
        throw conflict('CRM_USER_CONFLICT', `${input.crm} user ${input.crmUserId} and ${input.email} are two different rows; delete one of them first.`, { ids: [byId.id, byEmail.id] });
      }
      const existing = byId ?? byEmail;
      const data = {
        externalAccountId: connection.externalAccountId,
        role: input.role,
        ...(input.crmUserId !== undefined ? { crmUserId: input.crmUserId } : {}),
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
      };
      const row = existing
        ? await tx.crmUserRole.update({ where: { id: existing.id }, data })
        : await tx.crmUserRole.create({ data: { workspaceId: ws, crm: input.crm, createdBy: `${actor.type}:${actor.id ?? actor.source}`, ...data } });
      await appendLedgerEvent(tx, {
        workspaceId: ws,
        type: existing ? 'crm_user.updated' : 'crm_user.created',
        actor,
        data: {
          crmUserRoleId: row.id,
          crm: row.crm,
          externalAccountId: row.externalAccountId,
          crmUserId: row.crmUserId,
          email: row.email,
          role: row.role,
          ...(existing ? { previousRole: existing.role } : {}),
        },
        at,
      });
      return { created: !existing, user: view(row) };
    });
  } catch (err) {
    // Two admins mapping the same user at once: the unique index refuses the second insert.
    if ((err as { code?: string }).code === 'P2002') throw conflict('CRM_USER_CONFLICT', 'This CRM user was mapped by someone else at the same moment; read the list and try again.');
    throw err;
  }
}

export async function deleteCrmUser(ctx: UseCaseContext, by: StaffPrincipal, id: string): Promise<void> {
  const at = ctx.clock();
  await ctx.prisma.$transaction(async (tx) => {
    const row = await tx.crmUserRole.findFirst({ where: { id, workspaceId: by.workspaceId } });
    if (!row) throw notFound('CRM user');
    await tx.crmUserRole.delete({ where: { id: row.id } });
    await appendLedgerEvent(tx, {
      workspaceId: by.workspaceId,
      type: 'crm_user.deleted',
      actor: actorOf(by),
      data: { crmUserRoleId: row.id, crm: row.crm, externalAccountId: row.externalAccountId, crmUserId: row.crmUserId, email: row.email, role: row.role },
      at,
    });
  });
}

/**
 * SQL that yields the mapped role (or NULL) of a CRM user: the row with that user id, else a row without
 * a user id whose email matches. `ws`, `crm`, `account` are SQL expressions; `userId` and `email` are
 * parameter placeholders (email already lower-cased, or NULL).
 */
export function crmUserRoleSql(args: { ws: string; crm: string; account: string; userId: string; email: string }): string {
  const scope = `u.workspace_id = ${args.ws} AND u.crm = ${args.crm} AND u.external_account_id = ${args.account}`;
  return `COALESCE(
    (SELECT u.role FROM crm_user_roles u WHERE ${scope} AND u.crm_user_id = ${args.userId}),
    (SELECT u.role FROM crm_user_roles u WHERE ${scope} AND u.crm_user_id IS NULL AND ${args.email}::text IS NOT NULL AND u.email = ${args.email}::text)
  )`;
}

/** The dealreg role of a CRM user of a connected account, or null when no row maps them. */
export async function mappedCrmUserRole(
  ctx: UseCaseContext,
  q: { workspaceId: string; crm: CrmName; externalAccountId: string; userId: string; email?: string | null },
): Promise<CrmUserRoleName | null> {
  const { rows } = await sqlPool(ctx.prisma).query<{ role: string | null }>(
    `SELECT ${crmUserRoleSql({ ws: '$1::uuid', crm: '$2', account: '$3', userId: '$4', email: '$5' })} AS role`,
    [q.workspaceId, q.crm, q.externalAccountId, q.userId, normaliseEmail(q.email)],
  );
  return (rows[0]?.role as CrmUserRoleName | null | undefined) ?? null;
}

export function normaliseEmail(email: string | null | undefined): string | null {
  const e = email?.trim().toLowerCase();
  return e ? e : null;
}

export function isCardRole(role: string | null | undefined): role is CardViewer['role'] {
  return (CRM_USER_ROLES as readonly string[]).includes(role ?? '');
}
