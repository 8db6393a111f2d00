// Shared setup for end-to-end tests: dealreg (in process, real PostgreSQL and Redis, workers on) wired to
// a HubSpot sandbox that delivers signed webhooks to it.
import { createHubspotSandbox, type HubspotSandbox } from '../../src/sandbox/hubspot';
import { seedWorkspace, startHarness, type Harness } from '../helpers/harness';

export const APP_ID = 3_000_777;
export const CLIENT_ID = 'dealreg-e2e-client';
export const CLIENT_SECRET = 'dealreg-e2e-client-secret-0123456789';

export interface HubspotE2E {
  h: Harness;
  sandbox: HubspotSandbox;
  portal: { portalId: number; accessToken: string; refreshToken: string; clientSecret: string };
  ws: Awaited<ReturnType<typeof seedWorkspace>>;
  /** The sandbox's control API and CRM API as plain JSON calls (the SDK is dealreg's business, not the test's). */
  hs<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** A sales rep's edit in HubSpot's UI. */
  asRep<T = any>(userId: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startHubspotE2E(o: { portal?: Record<string, unknown>; harness?: Parameters<typeof startHarness>[0] } = {}): Promise<HubspotE2E> {
  const sandbox = createHubspotSandbox({ webhookDispatchIntervalMs: 25 });
  await sandbox.listen(0);
  const h = await startHarness({
    withJobs: true,
    realClock: true,
    outboxPollMs: 25,
    ...o.harness,
    crm: { hubspot: { apiBaseUrl: sandbox.baseUrl, appBaseUrl: sandbox.baseUrl, appId: String(APP_ID), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, sweepMs: 300, ...o.harness?.crm },
  });
  const hs = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const created = await hs<HubspotE2E['portal']>('POST', '/_sandbox/portals', {
    appId: APP_ID,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    webhookTargetUrl: `${h.baseUrl}/webhooks/hubspot`,
    ...o.portal,
  });
  if (created.status !== 201) throw new Error(`sandbox portal: ${created.status} ${JSON.stringify(created.body)}`);
  const portal = created.body;
  const ws = await seedWorkspace(h, [{ name: 'Northwind Resellers', tier: 'gold' }, { name: 'Contoso Referrals', type: 'referral', tier: 'silver' }]);
  return {
    h,
    sandbox,
    portal,
    ws,
    hs,
    asRep: (userId, method, path, body) => hs(method, path, body, { 'x-sandbox-actor': `user:${userId}`, 'x-sandbox-portal-id': String(portal.portalId) }),
    close: async () => {
      await h.close();
      await sandbox.close();
    },
  };
}

/** Polls until `fn` returns a value that is not undefined/false, or fails with the last value seen. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Deals in the sandbox carrying a registration id, via the sandbox's search. */
export async function dealsFor(e: HubspotE2E, registrationId: string): Promise<{ id: string; properties: Record<string, string | null> }[]> {
  const r = await e.hs<{ results: { id: string; properties: Record<string, string | null> }[] }>(
    'POST',
    '/crm/v3/objects/deals/search',
    {
      filterGroups: [{ filters: [{ propertyName: 'dealreg_registration_id', operator: 'EQ', value: registrationId }] }],
      properties: ['dealname', 'amount', 'closedate', 'dealstage', 'pipeline', 'deal_currency_code', 'dealreg_registration_id', 'dealreg_status', 'dealreg_partner_name', 'dealreg_partner_tier', 'dealreg_partner_type', 'dealreg_protection_end', 'dealreg_verdict_summary', 'dealreg_registration_url'],
      limit: 10,
    },
    // Read as a person in HubSpot's UI would: not counted against the portal's API limits (dealreg's quota).
    { 'x-sandbox-actor': 'user:1', 'x-sandbox-portal-id': String(e.portal.portalId) },
  );
  if (r.status !== 200) throw new Error(`sandbox search answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.results ?? [];
}

export async function connect(e: HubspotE2E): Promise<{ id: string; schema: { created: string[]; present: string[]; missing: string[] } }> {
  const r = await e.h.api.post('/v1/connections/hubspot', e.ws.adminToken, { portalId: e.portal.portalId, accessToken: e.portal.accessToken });
  if (r.status !== 201) throw new Error(`connect failed: ${r.status} ${JSON.stringify(r.body)}`);
  await eventually('the backfill to finish', async () => {
    const list = await e.h.api.get('/v1/connections', e.ws.adminToken);
    return list.body.data.find((c: any) => c.id === r.body.connection.id)?.backfill?.state === 'done';
  });
  return { id: r.body.connection.id, schema: r.body.schema };
}
