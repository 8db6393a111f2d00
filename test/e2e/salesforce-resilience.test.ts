// The unpleasant parts, end to end against the Salesforce sandbox: 5xx on writes (jsforce does not retry
// POST/PATCH: dealreg does), row locks on single records, expired sessions, the daily API allowance
// running out, a change feed that lost its place, and an org without the dealreg fields deployed.
import { deleteKeys, registrationBody } from '../helpers/harness';
import { eventually } from './crm-e2e-kit';
import { connectSalesforce, oppsFor, startSalesforceE2E, type SalesforceE2E } from './salesforce-e2e-kit';

jest.setTimeout(90_000);

async function registerMany(e: SalesforceE2E, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await e.h.api.post('/v1/registrations', e.ws.partners[i % 2]!.apiKey, registrationBody(`${prefix}-${i}.com`, `${prefix} ${i} Ltd`, { amount: { value: 1000 + i, currency: 'USD' } }));
    expect(r.body.status).toBe('approved');
    ids.push(r.body.id);
  }
  return ids;
}

async function allLinked(e: SalesforceE2E, ids: string[], timeoutMs = 30_000) {
  return eventually(
    `all ${ids.length} registrations to have their opportunity`,
    async () => {
      const links = await e.h.prisma.crmLink.findMany({ where: { registrationId: { in: ids }, externalId: { not: null }, state: 'synced' } });
      return links.length === ids.length ? links : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Runs the connection's delayed push job now (a test cannot wait out a 15-minute pause). */
async function promotePush(e: SalesforceE2E, connectionId: string): Promise<void> {
  const q = e.h.jobs!.queues.crmSync;
  const jobId = await q.getDeduplicationJobId(`push-${connectionId}`);
  const job = jobId ? await q.getJob(jobId) : undefined;
  if (job && (await job.isDelayed())) await job.promote();
  else await e.h.jobs!.crm!.jobs.push(connectionId);
}

const ours = async (e: SalesforceE2E) => (await e.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Dealreg_Registration_Id__c != null`)).length;

describe('faults on writes, row locks, expired sessions', () => {
  let e: SalesforceE2E;
  let connectionId: string;
  beforeAll(async () => {
    e = await startSalesforceE2E();
    connectionId = (await connectSalesforce(e)).id;
  });
  afterAll(async () => {
    await e?.close();
  });

  test('503s on the collection upsert and a locked row: every registration gets exactly one opportunity', async () => {
    expect((await e.control('POST', '/_sandbox/faults', { orgId: e.org.orgId, status: 503, count: 2 })).status).toBeLessThan(300);
    expect((await e.control('POST', '/_sandbox/record-faults', { orgId: e.org.orgId, errorCode: 'UNABLE_TO_LOCK_ROW', count: 2, sobject: 'Opportunity' })).status).toBeLessThan(300);
    const ids = await registerMany(e, 'fault', 12);
    await allLinked(e, ids);
    for (const id of ids) expect(await oppsFor(e, id)).toHaveLength(1);
    expect(await ours(e)).toBe(12); // nothing doubled by the retries
    const stats = (await e.control<{ faultsServed: number }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body;
    expect(stats.faultsServed).toBeGreaterThanOrEqual(2);
  });

  test('an expired session is refreshed with the refresh token and the write goes through', async () => {
    const before = await e.h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect((await e.control<{ expired: number }>('POST', '/_sandbox/expire-tokens', { orgId: e.org.orgId })).body.expired).toBeGreaterThan(0);
    const [id] = await registerMany(e, 'after-expiry', 1);
    await allLinked(e, [id!]);
    const after = await e.h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(after.accessTokenEnc).not.toBe(before.accessTokenEnc);
    expect(after.status).toBe('active');
  });

  test('a change feed that lost its place (events expired) is caught up by a SystemModstamp sweep', async () => {
    const [id] = await registerMany(e, 'gap', 1);
    const [link] = await allLinked(e, [id!]);
    // The feed is unreachable while a rep edits the opportunity, and the org keeps only the newest event.
    expect((await e.control('POST', '/_sandbox/faults', { orgId: e.org.orgId, status: 503, count: 1000, target: 'feed' })).status).toBeLessThan(300);
    await e.control('PATCH', `/_sandbox/orgs/${e.org.orgId}`, { eventRetention: 1 });
    expect((await e.asUser(e.org.integrationUserId, 'PATCH', `/sobjects/Opportunity/${link!.externalId}`, { Amount: 77777 })).status).toBe(204);
    // Two more events push the rep's edit out of the retained window.
    await e.asUser(e.org.integrationUserId, 'POST', '/sobjects/Account', { Name: 'Filler One' });
    await e.asUser(e.org.integrationUserId, 'POST', '/sobjects/Account', { Name: 'Filler Two' });
    await e.control('DELETE', '/_sandbox/faults', { orgId: e.org.orgId });
    const r = await eventually(
      "the rep's amount, found by the catch-up sweep",
      async () => {
        const x = await e.h.api.get(`/v1/registrations/${id}`, e.ws.pmToken);
        return x.body.amount?.value === 77777 ? x : undefined;
      },
      30_000,
    );
    expect(r.body.status).toBe('approved');
    // It came through the gap path: the feed reported its lost place, and the sweep found the change.
    const gaps = (await e.h.ctx.metrics.webhookEvents.get()).values.filter((v) => v.labels.result === 'gap' && v.labels.crm === 'salesforce');
    expect(gaps.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(1);
    await e.control('PATCH', `/_sandbox/orgs/${e.org.orgId}`, { eventRetention: 100000 });
  });
});

describe('the daily API allowance', () => {
  let e: SalesforceE2E;
  let connectionId: string;
  beforeAll(async () => {
    e = await startSalesforceE2E({ org: { dailyApiLimit: 100_000 } });
    connectionId = (await connectSalesforce(e)).id;
  });
  afterAll(async () => {
    await e?.close();
  });

  test('when the org has spent its allowance, dealreg stops calling, loses nothing, and catches up when there is room', async () => {
    // Another integration spent the org's allowance.
    await e.control('POST', `/_sandbox/orgs/${e.org.orgId}/api-usage`, { used: 100_000 });
    const ids = await registerMany(e, 'limit', 5);
    await eventually('the connection to pause', async () => {
      const c = (await e.h.api.get('/v1/connections', e.ws.adminToken)).body.data.find((x: any) => x.id === connectionId);
      return c.health.rateLimitedForMs > 0 ? c : undefined;
    });
    expect(await ours(e)).toBe(0);
    const refused = (await e.control<{ limitExceeded: number }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body.limitExceeded;
    await new Promise((r) => setTimeout(r, 1500));
    // Paused: no call after the refusal (a 403 storm would be counted here).
    expect((await e.control<{ limitExceeded: number }>('GET', `/_sandbox/orgs/${e.org.orgId}/stats`)).body.limitExceeded).toBe(refused);
    const connection = (await e.h.api.get('/v1/connections', e.ws.adminToken)).body.data.find((x: any) => x.id === connectionId);
    expect(connection.status).toBe('active');
    // The next day: room again. (The pause is long; the test ends it instead of waiting.)
    await e.control('POST', `/_sandbox/orgs/${e.org.orgId}/api-usage`, { used: 0 });
    await deleteKeys(e.h.redis, `${e.h.prefix}:crm-pause:${connectionId}`);
    await deleteKeys(e.h.redis, `${e.h.prefix}:*budget*`);
    await e.h.prisma.crmLink.updateMany({ where: { connectionId }, data: { notBefore: null } });
    await promotePush(e, connectionId);
    await allLinked(e, ids);
    expect(await ours(e)).toBe(5);
  });
});

describe('an org without the dealreg fields', () => {
  let e: SalesforceE2E;
  beforeAll(async () => {
    e = await startSalesforceE2E({ org: { withDealregFields: false } });
  });
  afterAll(async () => {
    await e?.close();
  });

  test('connect says which fields are missing; pushes wait, and go once the metadata is deployed', async () => {
    const c = await connectSalesforce(e);
    expect(c.schema.missing.sort()).toEqual(['Dealreg_Partner_Tier__c', 'Dealreg_Partner__c', 'Dealreg_Protection_End__c', 'Dealreg_Registration_Id__c', 'Dealreg_Status__c', 'Dealreg_Verdict__c']);
    expect(c.connection.missingFields).toHaveLength(6);
    const ids = await registerMany(e, 'nofields', 2);
    await new Promise((r) => setTimeout(r, 1500));
    const links = await e.h.prisma.crmLink.findMany({ where: { registrationId: { in: ids } } });
    expect(links.every((l) => l.externalId === null && l.attempts === 0)).toBe(true); // waiting, not failing
    // An admin deploys crm-cards/salesforce (`sf project deploy start`).
    expect((await e.control('PATCH', `/_sandbox/orgs/${e.org.orgId}`, { withDealregFields: true })).status).toBe(200);
    await deleteKeys(e.h.redis, `${e.h.prefix}:crm-fields-check:${c.id}`); // instead of waiting a minute for the re-check
    await promotePush(e, c.id);
    await allLinked(e, ids);
    const view = (await e.h.api.get('/v1/connections', e.ws.adminToken)).body.data.find((x: any) => x.id === c.id);
    expect(view.missingFields).toEqual([]);
  });
});
