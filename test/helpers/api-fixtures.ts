// Small helpers shared by the component tests: error-shape assertions, row counts (to prove "nothing
// written"), raw responses (to assert on exact bytes), policies and account-mirror rows.
import { randomBytes } from 'node:crypto';
import type { ApiResponse, Harness } from './harness';
import { companyNameKey } from '../../src/domain/company-name';

/** Every error answers `{ error: { code, message, details? } }` with the given status and a real message. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  const seen = { status: res.status, body: res.body as unknown };
  expect(seen).toEqual({ status, body: { error: expect.objectContaining({ code, message: expect.any(String) }) } });
  expect(Object.keys(res.body)).toEqual(['error']);
  for (const k of Object.keys(res.body.error)) expect(['code', 'message', 'details']).toContain(k);
  expect((res.body.error.message as string).trim().length).toBeGreaterThan(5);
}

/** The raw text of a response, for "never leaks X" assertions. */
export async function rawRequest(
  h: Harness,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export interface RowCounts {
  registrations: number;
  ledger: number;
  outbox: number;
  holds: number;
  extensionRequests: number;
  partners: number;
  apiKeys: number;
  staffTokens: number;
  policies: number;
}

/** Everything a workspace has written, counted: compare before and after to prove nothing was written. */
export async function rowCounts(h: Harness, workspaceId: string): Promise<RowCounts> {
  const where = { workspaceId };
  const [registrations, ledger, outbox, holds, extensionRequests, partners, apiKeys, staffTokens, policies] = await Promise.all([
    h.prisma.registration.count({ where }),
    h.prisma.ledgerEvent.count({ where }),
    h.prisma.outboxMessage.count({ where }),
    h.prisma.accountHold.count({ where }),
    h.prisma.extensionRequest.count({ where }),
    h.prisma.partner.count({ where }),
    h.prisma.partnerApiKey.count({ where }),
    h.prisma.staffToken.count({ where }),
    h.prisma.policy.count({ where }),
  ]);
  return { registrations, ledger, outbox, holds, extensionRequests, partners, apiKeys, staffTokens, policies };
}

/**
 * A registration body whose company name is unique to its domain. Registrations of one workspace that
 * share a company name on different domains trip SIMILAR_COMPANY_NAME, so tests that are not about that
 * rule must not reuse names.
 */
export function dealFor(domain: string, extra: Record<string, unknown> = {}) {
  const label = domain.replace(/^https?:\/\//, '').split('/')[0]!.replace(/^www\./, '').split('.')[0]!;
  return {
    company: { name: `${label.charAt(0).toUpperCase()}${label.slice(1)} Holdings`, domain },
    contact: { name: 'Jane Buyer', email: 'jane.buyer@buyer-mail.net' },
    ...extra,
  };
}

/** A fresh, unique company domain. */
export const uniqueDomain = (stem = 'company'): string => `${stem}-${randomBytes(3).toString('hex')}.com`;

/** Replaces the workspace policy (revops or admin token) and returns the new version. */
export async function putPolicy(h: Harness, token: string, policy: Record<string, unknown>): Promise<number> {
  const res = await h.api.put('/v1/policy', token, policy);
  if (res.status !== 200) throw new Error(`PUT /v1/policy failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.version as number;
}

/**
 * A mirrored CRM account (what the HubSpot / Salesforce connectors will fill), optionally with one open
 * opportunity on it. Inserted directly: the connectors that fill the mirror come later.
 */
export async function mirrorAccount(
  h: Harness,
  workspaceId: string,
  a: {
    domain: string;
    name: string;
    ownerName?: string;
    ownerRole?: 'direct' | 'partner' | 'unknown';
    isCustomer?: boolean;
    country?: string;
    openOpportunity?: { name: string; ownerName?: string; stage?: string; amount?: number };
    crm?: 'hubspot' | 'salesforce';
  },
): Promise<{ accountId: string; externalId: string; opportunityExternalId: string | null }> {
  const crm = a.crm ?? 'hubspot';
  const externalId = String(Math.floor(Math.random() * 1e12));
  const account = await h.prisma.mirrorAccount.create({
    data: {
      workspaceId,
      crm,
      externalId,
      name: a.name,
      nameKey: companyNameKey(a.name),
      country: a.country ?? null,
      ownerExternalId: a.ownerName ? `owner-${externalId}` : null,
      ownerName: a.ownerName ?? null,
      ownerRole: a.ownerRole ?? 'unknown',
      isCustomer: a.isCustomer ?? false,
    },
  });
  await h.prisma.mirrorAccountDomain.create({ data: { workspaceId, domain: a.domain, accountId: account.id } });
  let opportunityExternalId: string | null = null;
  if (a.openOpportunity) {
    opportunityExternalId = String(Math.floor(Math.random() * 1e12));
    await h.prisma.mirrorOpportunity.create({
      data: {
        workspaceId,
        crm,
        externalId: opportunityExternalId,
        accountExternalId: externalId,
        name: a.openOpportunity.name,
        stage: a.openOpportunity.stage ?? 'qualification',
        isClosed: false,
        amount: a.openOpportunity.amount ?? null,
        ownerName: a.openOpportunity.ownerName ?? null,
      },
    });
  }
  return { accountId: account.id, externalId, opportunityExternalId };
}

export const reasonCodes = (registration: { verdict: { reasons: { code: string }[] } }): string[] => registration.verdict.reasons.map((r) => r.code);
