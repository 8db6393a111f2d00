// Shared setup for Salesforce end-to-end tests: dealreg (in process, real PostgreSQL and Redis, workers
// on) connected to a Salesforce sandbox org. Inbound changes travel the way they do in production: the
// feed job pulls the org's change events, the inbox applies them.
import { createSalesforceSandbox, type CreatedOrg, type SalesforceSandbox } from '../../src/sandbox/salesforce';
import { seedWorkspace, startHarness, type Harness } from '../helpers/harness';
import { eventually } from './crm-e2e-kit';

export const SF_API = '/services/data/v66.0';
export const SF_CLIENT_ID = 'dealreg-e2e-connected-app';
export const SF_CLIENT_SECRET = 'dealreg-e2e-connected-app-secret-0123456789';

/** The org the sandbox's control API made (`POST /_sandbox/orgs`). */
export type SfOrg = CreatedOrg;

export interface SalesforceE2E {
  h: Harness;
  sandbox: SalesforceSandbox;
  org: SfOrg;
  ws: Awaited<ReturnType<typeof seedWorkspace>>;
  /** The sandbox's control API (no auth). */
  control<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A person's edit (or read) in Lightning: the org's REST API as that user, not counted as API usage. */
  asUser<T = any>(userId: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SOQL as a person would see it (not counted against dealreg's API allowance). */
  query<T = Record<string, any>>(soql: string): Promise<T[]>;
  close(): Promise<void>;
}

export async function startSalesforceE2E(o: { org?: Record<string, unknown>; harness?: Parameters<typeof startHarness>[0]; sandbox?: Parameters<typeof createSalesforceSandbox>[0] } = {}): Promise<SalesforceE2E> {
  const sandbox = createSalesforceSandbox(o.sandbox);
  await sandbox.listen(0);
  const h = await startHarness({
    withJobs: true,
    realClock: true,
    outboxPollMs: 25,
    ...o.harness,
    crm: { salesforce: { loginUrl: sandbox.baseUrl, clientId: SF_CLIENT_ID, clientSecret: SF_CLIENT_SECRET, feedWaitMs: 0 }, sweepMs: 300, ...o.harness?.crm },
  });
  const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const created = await call<SfOrg>('POST', '/_sandbox/orgs', { clientId: SF_CLIENT_ID, clientSecret: SF_CLIENT_SECRET, ...o.org });
  if (created.status !== 201) throw new Error(`sandbox org: ${created.status} ${JSON.stringify(created.body)}`);
  const org = created.body;
  // The test's own session (not dealreg's): revoking or expiring dealreg's tokens must not blind the test.
  const newViewer = async () => {
    const v = await call<{ accessToken: string }>('POST', `/_sandbox/orgs/${org.orgId}/tokens`, { userId: org.integrationUserId });
    if (v.status !== 201) throw new Error(`sandbox token: ${v.status} ${JSON.stringify(v.body)}`);
    return v.body.accessToken;
  };
  let viewer = await newViewer();
  const ws = await seedWorkspace(h, [{ name: 'Northwind Resellers', tier: 'gold' }, { name: 'Contoso Referrals', type: 'referral', tier: 'silver' }]);
  const asUser = async <T>(userId: string, method: string, path: string, body?: unknown) => {
    const url = path.startsWith('/services') ? path : `${SF_API}${path}`;
    let r = await call<T>(method, url, body, { authorization: `Bearer ${viewer}`, 'x-sandbox-actor': `user:${userId}` });
    if (r.status === 401) {
      // A test expired the org's tokens: get a fresh session for the test itself.
      viewer = await newViewer();
      r = await call<T>(method, url, body, { authorization: `Bearer ${viewer}`, 'x-sandbox-actor': `user:${userId}` });
    }
    return r;
  };
  return {
    h,
    sandbox,
    org,
    ws,
    control: call,
    asUser,
    query: async <T>(soql: string) => {
      const r = await asUser<{ records: T[]; done: boolean }>(org.integrationUserId, 'GET', `/query?q=${encodeURIComponent(soql)}`);
      if (r.status !== 200) throw new Error(`SOQL answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body.records;
    },
    close: async () => {
      await h.close();
      await sandbox.close();
    },
  };
}

/** Seeds records in the org (Salesforce field names; `_ref` / `{ $ref }` link them). */
export async function seedOrg(e: SalesforceE2E, body: Record<string, unknown>): Promise<{ users: string[]; accounts: string[]; opportunities: string[]; partners: string[]; refs: Record<string, string> }> {
  const r = await e.control<any>('POST', `/_sandbox/orgs/${e.org.orgId}/seed`, body);
  if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export const OPP_FIELDS = 'Id, Name, Amount, CloseDate, StageName, IsClosed, IsWon, AccountId, OwnerId, Dealreg_Registration_Id__c, Dealreg_Status__c, Dealreg_Partner__c, Dealreg_Partner_Tier__c, Dealreg_Protection_End__c, Dealreg_Verdict__c';

/** Opportunities carrying a registration id. */
export async function oppsFor(e: SalesforceE2E, registrationId: string): Promise<Record<string, any>[]> {
  return e.query(`SELECT ${OPP_FIELDS} FROM Opportunity WHERE Dealreg_Registration_Id__c = '${registrationId}'`);
}

export async function connectSalesforce(e: SalesforceE2E, body: Record<string, unknown> = {}): Promise<{ id: string; schema: { created: string[]; present: string[]; missing: string[] }; connection: any }> {
  const r = await e.h.api.post('/v1/connections/salesforce', e.ws.adminToken, { instanceUrl: e.org.instanceUrl, accessToken: e.org.accessToken, refreshToken: e.org.refreshToken, ...body });
  if (r.status !== 201) throw new Error(`connect failed: ${r.status} ${JSON.stringify(r.body)}`);
  await eventually('the Salesforce backfill to finish', async () => {
    const list = await e.h.api.get('/v1/connections', e.ws.adminToken);
    return list.body.data.find((c: any) => c.id === r.body.connection.id)?.backfill?.state === 'done';
  });
  return { id: r.body.connection.id, schema: r.body.schema, connection: r.body.connection };
}
