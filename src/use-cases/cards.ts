// The CRM cards (HubSpot app card, Salesforce LWC): who is calling, the card of a CRM record, and the
// actions a card may take. Card actions go through the same use cases as the API (approve, reject,
// decide an extension) with a `crm_user` principal, so the ledger names the CRM user and the card.
//
// The card is the hot path of a rep's page load: the caller is resolved in one query (connection and
// the user's mapped role), the card in one more (link → registration → partner → pending extension),
// then the attribution.
import { z } from 'zod';
import { sqlPool } from '../data/prisma';
import { appendLedgerEvent } from '../data/ledger';
import { buildCardView, type CardViewInput } from '../domain/card-view';
import type { CardActionId, CardActionResult, CardView, CardViewer } from '../domain/card-view-model';
import type { CrmName, Outcome, PartnerTier, PartnerType, Reason, RegistrationStatus } from '../domain/types';
import { constantTimeEqual, generateSecret, hashSecret } from '../lib/crypto';
import { conflict, forbidden, notFound } from '../lib/errors';
import { attributionFor } from './attribution';
import { approveRegistration, decideExtension, rejectRegistration } from './registration-lifecycle';
import { crmUserRoleSql, isCardRole, normaliseEmail } from './crm-users';
import { actorOf, type CrmUserPrincipal, type StaffPrincipal, type UseCaseContext } from './context';

export const CARD_SECRET_PREFIX = 'drc';
/** The Salesforce custom permission the Apex controller checks before it lets a user act. */
export const SALESFORCE_APPROVE_PERMISSION = 'Dealreg_Approve';

const DECIDERS = ['partner_manager', 'admin'] as const;
const CRM_LABEL: Record<CrmName, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

/** The person looking at the card, as the CRM told us, with their dealreg role already resolved. */
export interface CardUser {
  crm: CrmName;
  /** HubSpot user id / Salesforce user id (18 characters). */
  userId: string;
  role: CardViewer['role'];
  name?: string;
  /** A CRM-side permission the user lacks (Salesforce: Dealreg_Approve); they may see, not act. */
  missingCrmPermission?: string | null;
}

/** The connection a card request belongs to, and the calling user's mapped role (null: no crm-users row). */
export interface CardConnection {
  connectionId: string;
  workspaceId: string;
  crm: CrmName;
  externalAccountId: string;
  status: 'active' | 'parked' | 'disconnected';
  mappedRole: CardViewer['role'] | null;
}

interface ConnectionRow {
  connection_id: string;
  workspace_id: string;
  crm: CrmName;
  external_account_id: string;
  status: CardConnection['status'];
  card_secret_hash: string | null;
  role: string | null;
}

const roleOf = crmUserRoleSql({ ws: 'c.workspace_id', crm: 'c.crm', account: 'c.external_account_id', userId: '$3', email: '$4' });

// A portal connected to several workspaces (rare): the one whose link holds this record wins.
const BY_ACCOUNT_SQL = `
  SELECT c.id AS connection_id, c.workspace_id, c.crm, c.external_account_id, c.status::text AS status, c.card_secret_hash, ${roleOf} AS role
  FROM crm_connections c
  WHERE c.crm = $1 AND c.external_account_id = $2 AND c.status = 'active'
  ORDER BY EXISTS (SELECT 1 FROM crm_links l WHERE l.connection_id = c.id AND l.external_id = $5) DESC, c.created_at
  LIMIT 1`;

const BY_SECRET_SQL = `
  SELECT c.id AS connection_id, c.workspace_id, c.crm, c.external_account_id, c.status::text AS status, c.card_secret_hash, ${roleOf} AS role
  FROM crm_connections c
  WHERE c.card_secret_hash = $1 AND c.crm = $2`;

function toConnection(r: ConnectionRow): CardConnection {
  return {
    connectionId: r.connection_id,
    workspaceId: r.workspace_id,
    crm: r.crm,
    externalAccountId: r.external_account_id,
    status: r.status,
    mappedRole: isCardRole(r.role) ? r.role : null,
  };
}

/** The active connection of a CRM account (HubSpot portal), with the user's mapped role; null: not connected. */
export async function cardConnectionByAccount(
  ctx: UseCaseContext,
  q: { crm: CrmName; externalAccountId: string; recordId: string; userId: string; email?: string | null },
): Promise<CardConnection | null> {
  const { rows } = await sqlPool(ctx.prisma).query<ConnectionRow>({
    name: 'dealreg_card_connection_by_account_v1',
    text: BY_ACCOUNT_SQL,
    values: [q.crm, q.externalAccountId, q.userId, normaliseEmail(q.email), q.recordId],
  });
  return rows[0] ? toConnection(rows[0]) : null;
}

/**
 * The connection whose card secret this is (Salesforce Named Credential), with the user's mapped role;
 * null: no connection has it. Looked up by its SHA-256, then compared in constant time.
 */
export async function cardConnectionBySecret(
  ctx: UseCaseContext,
  q: { crm: CrmName; secret: string; userId: string; email?: string | null },
): Promise<CardConnection | null> {
  const hash = hashSecret(q.secret);
  const { rows } = await sqlPool(ctx.prisma).query<ConnectionRow>({
    name: 'dealreg_card_connection_by_secret_v1',
    text: BY_SECRET_SQL,
    values: [hash, q.crm, q.userId, normaliseEmail(q.email)],
  });
  const row = rows[0];
  if (!row || !row.card_secret_hash || !constantTimeEqual(row.card_secret_hash, hash)) return null;
  return toConnection(row);
}

// ---------------------------------------------------------------------------------------------------
// The card

interface CardRow {
  id: string;
  status: RegistrationStatus;
  company_name: string;
  company_domain: string;
  amount_value: string | null;
  amount_currency: string | null;
  verdict: { outcome?: Outcome; reasons?: Reason[] } | null;
  protection_starts_at: Date | null;
  protection_ends_at: Date | null;
  ended_at: Date | null;
  created_at: Date;
  partner_id: string;
  partner_name: string;
  partner_type: PartnerType;
  partner_tier: PartnerTier;
  contact_name: string | null;
  contact_email: string | null;
  ext_id: string | null;
  ext_days: number | null;
  ext_reason: string | null;
  ext_created_at: Date | null;
}

const CARD_SQL = `
  SELECT r.id, r.status::text AS status, r.company_name, r.company_domain, r.amount_value::text AS amount_value, r.amount_currency,
         r.verdict, r.protection_starts_at, r.protection_ends_at, r.ended_at, r.created_at,
         p.id AS partner_id, p.name AS partner_name, p.type::text AS partner_type, p.tier::text AS partner_tier,
         p.contact_name, p.contact_email,
         x.id AS ext_id, x.requested_days AS ext_days, x.reason AS ext_reason, x.created_at AS ext_created_at
  FROM crm_connections c
  JOIN crm_links l ON l.connection_id = c.id AND l.external_id = $4 AND l.state <> 'deleted'
  JOIN registrations r ON r.id = l.registration_id AND r.workspace_id = c.workspace_id
  JOIN partners p ON p.id = r.partner_id
  LEFT JOIN LATERAL (
    SELECT e.id, e.requested_days, e.reason, e.created_at FROM extension_requests e
    WHERE e.workspace_id = r.workspace_id AND e.registration_id = r.id AND e.status = 'pending'
    ORDER BY e.created_at DESC LIMIT 1
  ) x ON true
  WHERE c.workspace_id = $1::uuid AND c.crm = $2 AND c.external_account_id = $3 AND c.status = 'active'
  LIMIT 1`;

export interface CardArgs {
  workspaceId: string;
  crm: CrmName;
  /** HubSpot portal id / Salesforce org id of the connection. */
  externalAccountId: string;
  /** HubSpot deal id / Salesforce Opportunity id (18 characters). */
  recordId: string;
  viewer: CardUser;
}

export function cardViewer(u: CardUser): CardViewer {
  return { id: `${u.crm}:${u.userId}`, role: u.role };
}

/** The card of a CRM record: its registration (through crm_links) in a rep's words, or the empty state. */
export async function cardFor(ctx: UseCaseContext, args: CardArgs): Promise<CardView> {
  const { rows } = await sqlPool(ctx.prisma).query<CardRow>({
    name: 'dealreg_card_v1',
    text: CARD_SQL,
    values: [args.workspaceId, args.crm, args.externalAccountId, args.recordId],
  });
  const row = rows[0];
  const base: Omit<CardViewInput, 'registration'> = {
    crm: args.crm,
    now: ctx.clock(),
    viewer: cardViewer(args.viewer),
    missingCrmPermission: args.viewer.missingCrmPermission ?? null,
  };
  if (!row) return buildCardView({ ...base, registration: null });
  const attribution = (await attributionFor(ctx, args.workspaceId, [row.id])).get(row.id) ?? null;
  return buildCardView({
    ...base,
    registration: {
      id: row.id,
      status: row.status,
      companyName: row.company_name,
      companyDomain: row.company_domain,
      amount: row.amount_value === null ? null : { value: Number(row.amount_value), currency: row.amount_currency },
      protectionStartsAt: row.protection_starts_at,
      protectionEndsAt: row.protection_ends_at,
      endedAt: row.ended_at,
      createdAt: row.created_at,
      verdict: { outcome: row.verdict?.outcome ?? 'review', reasons: row.verdict?.reasons ?? [] },
    },
    partner: {
      id: row.partner_id,
      name: row.partner_name,
      type: row.partner_type,
      tier: row.partner_tier,
      contactName: row.contact_name,
      contactEmail: row.contact_email,
    },
    attribution,
    extension:
      row.ext_id && row.ext_days !== null && row.ext_created_at
        ? { id: row.ext_id, requestedDays: row.ext_days, reason: row.ext_reason, createdAt: row.ext_created_at }
        : null,
  });
}

// ---------------------------------------------------------------------------------------------------
// Card actions

export const CARD_ACTIONS = ['approve', 'reject', 'approve_extension'] as const satisfies readonly CardActionId[];

/** The action part of a card's POST body (each CRM adds its record id field). */
export const cardActionFields = {
  registrationId: z.uuid(),
  action: z.enum(CARD_ACTIONS),
  /** Why (required to reject; kept as the decision's note otherwise). */
  reason: z.string().trim().min(1).max(2000).optional(),
  extensionRequestId: z.uuid().optional(),
};

/** Reject needs a reason, approve_extension the request it approves. */
export function refineCardAction(v: { action: CardActionId; reason?: string; extensionRequestId?: string }, ctx: z.RefinementCtx): void {
  if (v.action === 'reject' && v.reason === undefined) {
    ctx.addIssue({ code: 'custom', message: 'say why, so the partner understands', path: ['reason'] });
  }
  if (v.action === 'approve_extension' && v.extensionRequestId === undefined) {
    ctx.addIssue({ code: 'custom', message: 'name the extension request to approve (the card action carries its extensionRequestId)', path: ['extensionRequestId'] });
  }
}

export interface CardActionArgs extends CardArgs {
  registrationId: string;
  action: CardActionId;
  reason?: string;
  extensionRequestId?: string;
}

/**
 * A decision taken on the card: checked (role, CRM permission, the registration is this record's),
 * then applied by the same use case the API uses; answers with the new card.
 */
export async function cardAction(ctx: UseCaseContext, args: CardActionArgs): Promise<CardActionResult> {
  const user = args.viewer;
  const crmName = CRM_LABEL[args.crm];
  if (!(DECIDERS as readonly string[]).includes(user.role)) {
    throw forbidden(
      `${args.action === 'approve_extension' ? 'Approving extensions' : 'Approving or rejecting registrations'} needs the partner_manager (or admin) role in dealreg; ${crmName} user ${user.userId} has the ${user.role} role. A dealreg admin can map you with PUT /v1/crm-users.`,
      { requiredRoles: DECIDERS, role: user.role },
    );
  }
  if (user.missingCrmPermission) {
    throw forbidden(`Acting on registrations from ${crmName} needs the ${user.missingCrmPermission} permission on your ${crmName} user; ask your ${crmName} admin.`, {
      requiredPermission: user.missingCrmPermission,
    });
  }
  const linked = await linkedRegistration(ctx, args);
  if (linked !== args.registrationId) {
    throw notFound(`Registration ${args.registrationId} on this ${args.crm === 'salesforce' ? 'opportunity' : 'deal'} (reload the card)`);
  }
  const by: CrmUserPrincipal = { kind: 'crm_user', workspaceId: args.workspaceId, crm: args.crm, userId: user.userId, role: user.role, ...(user.name ? { name: user.name } : {}) };
  switch (args.action) {
    case 'approve':
      await approveRegistration(ctx, by, args.registrationId, args.reason ? { note: args.reason } : {});
      break;
    case 'reject':
      await rejectRegistration(ctx, by, args.registrationId, { reason: args.reason ?? '' });
      break;
    case 'approve_extension':
      await decideExtension(ctx, by, args.registrationId, args.extensionRequestId ?? '', 'approve', args.reason);
      break;
  }
  return { ok: true, action: args.action, view: await cardFor(ctx, args) };
}

async function linkedRegistration(ctx: UseCaseContext, args: CardArgs): Promise<string | null> {
  const { rows } = await sqlPool(ctx.prisma).query<{ registration_id: string }>({
    name: 'dealreg_card_link_v1',
    text: `SELECT l.registration_id FROM crm_connections c
           JOIN crm_links l ON l.connection_id = c.id AND l.external_id = $4 AND l.state <> 'deleted'
           WHERE c.workspace_id = $1::uuid AND c.crm = $2 AND c.external_account_id = $3 AND c.status = 'active'`,
    values: [args.workspaceId, args.crm, args.externalAccountId, args.recordId],
  });
  return rows[0]?.registration_id ?? null;
}

// ---------------------------------------------------------------------------------------------------
// Card secrets (Salesforce Named Credential)

export interface CardSecretAnswer {
  cardSecret: string;
  connectionId: string;
  note: string;
}

/**
 * A new card secret for a Salesforce connection: shown once, stored as its SHA-256. A second call
 * rotates it (the old one stops working at once).
 */
export async function createCardSecret(ctx: UseCaseContext, by: StaffPrincipal, connectionId: string): Promise<CardSecretAnswer> {
  const c = await ctx.prisma.crmConnection.findFirst({
    where: { id: connectionId, workspaceId: by.workspaceId },
    select: { id: true, crm: true, status: true, cardSecretHash: true, externalAccountId: true },
  });
  if (!c) throw notFound('Connection');
  if (c.crm !== 'salesforce') {
    throw conflict('CARD_SECRET_NOT_SUPPORTED', `${CRM_LABEL[c.crm as CrmName] ?? c.crm} cards are verified by the CRM's own request signature; card secrets are for Salesforce connections.`);
  }
  if (c.status === 'disconnected') throw conflict('CONNECTION_DISCONNECTED', 'This connection is disconnected: reconnect the org first, then create its card secret.');
  const cardSecret = generateSecret(CARD_SECRET_PREFIX);
  const rotated = c.cardSecretHash !== null;
  await ctx.prisma.$transaction(async (tx) => {
    await tx.crmConnection.update({ where: { id: c.id }, data: { cardSecretHash: hashSecret(cardSecret) } });
    await appendLedgerEvent(tx, {
      workspaceId: by.workspaceId,
      type: rotated ? 'connection.card_secret_rotated' : 'connection.card_secret_created',
      actor: actorOf(by),
      data: { connectionId: c.id, crm: c.crm, externalAccountId: c.externalAccountId },
      at: ctx.clock(),
    });
  });
  return {
    cardSecret,
    connectionId: c.id,
    note:
      'Shown once: dealreg keeps only its hash. In Salesforce Setup, put it in the CardSecret authentication parameter of the Dealreg external credential (principal DealregCard); the Dealreg named credential sends it as "Authorization: Bearer <cardSecret>". ' +
      (rotated ? 'The previous card secret stopped working just now.' : 'Creating another one replaces it.'),
  };
}
