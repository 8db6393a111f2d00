// The adapter against the real in-process HubSpot sandbox (src/sandbox/hubspot): proves that the shapes
// the nock tests use are the shapes the fake (modelled on HubSpot) really answers with.
import { createHubspotSandbox, type HubspotSandbox, type PortalCreated } from '../../../src/sandbox/hubspot';
import { createHubspotAdapter, introspect, refreshAccessToken, type HubspotAdapter } from '../../../src/crm/hubspot';
import type { OpportunityWrite } from '../../../src/crm/crm-adapter';
import { silentLogger } from '../../../src/lib/logger';
import { countingGate, recordingTokens, type CountingGate } from './helpers';

let sandbox: HubspotSandbox;
let portal: PortalCreated;
let adapter: HubspotAdapter;
let gate: CountingGate;

async function control(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sandbox.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = createHubspotSandbox();
  await sandbox.listen(0);
  portal = (await control('/_sandbox/portals', {})).body as unknown as PortalCreated;
  gate = countingGate();
  // A private-app token; the app id is learned by verifyCredentials (the sandbox introspects such tokens).
  adapter = createHubspotAdapter({ portalId: String(portal.portalId), baseUrl: sandbox.baseUrl, tokens: recordingTokens(portal.accessToken), gate, log: silentLogger() });
});
afterAll(() => sandbox.close());

const writes = (from: number, n: number, companyId: string): OpportunityWrite[] =>
  Array.from({ length: n }, (_, i) => ({
    registrationId: `reg-${from + i}`,
    externalId: null,
    fields: { dealname: `Acme deal ${from + i}`, amount: 1000 + i, dealreg_status: 'approved', dealreg_partner_name: 'Partner One' },
    pipelineId: 'default',
    stageId: 'appointmentscheduled',
    accountExternalId: companyId,
  }));

describe('the HubSpot adapter against the sandbox', () => {
  const dealIds = new Map<string, string>();
  let companyId = '';
  let startedAt = '';

  it('verifies the private-app token and learns the portal and app id from introspection', async () => {
    const who = await adapter.verifyCredentials();
    expect(who).toEqual({ accountId: String(portal.portalId), appId: String(portal.appId) });
    expect(adapter.appId).toBe(String(portal.appId));
  });

  it('creates the dealreg properties once; a second run creates nothing', async () => {
    const first = await adapter.ensureSchema();
    expect(first.created).toHaveLength(8);
    expect(first.missing).toEqual([]);
    const before = gate.acquired.length;
    const second = await adapter.ensureSchema();
    expect(second).toEqual({ created: [], present: first.created, missing: [] });
    expect(gate.acquired.length - before).toBe(2); // read the group, read the properties
  });

  it('describes the deal fields (with the unique registration id) and the default pipeline', async () => {
    const d = await adapter.describe();
    const reg = d.opportunityFields.find((f) => f.name === 'dealreg_registration_id');
    expect(reg).toMatchObject({ type: 'string', unique: true, readOnly: false });
    expect(d.opportunityFields.find((f) => f.name === 'hs_is_closed')).toMatchObject({ type: 'boolean', readOnly: true });
    expect(d.opportunityFields.find((f) => f.name === 'dealreg_status')?.options?.map((o) => o.value)).toContain('withdrawn');
    const stages = d.pipelines.find((p) => p.id === 'default')!.stages;
    expect(stages.find((s) => s.id === 'closedwon')).toMatchObject({ isClosed: true, isWon: true });
    expect(stages.find((s) => s.id === 'closedlost')).toMatchObject({ isClosed: true, isWon: false });
    expect(stages.map((s) => s.order)).toEqual([...stages.map((s) => s.order)].sort((a, b) => a - b));
  });

  it('writes 150 new deals in two calls (100 + 50), each with its primary company', async () => {
    const [company] = await adapter.createAccounts([{ key: 'acme', name: 'Acme GmbH', domain: 'acme.de' }]);
    expect(company).toMatchObject({ key: 'acme', ok: true });
    companyId = (company as { externalId: string }).externalId;
    startedAt = new Date(Date.now() - 1000).toISOString();

    const before = gate.acquired.length;
    const first = await adapter.writeOpportunities(writes(0, 100, companyId));
    const second = await adapter.writeOpportunities(writes(100, 50, companyId));
    expect(gate.acquired.length - before).toBe(2);
    for (const r of [...first, ...second]) {
      expect(r).toMatchObject({ ok: true, created: true });
      if (r.ok) dealIds.set(r.registrationId, r.externalId);
    }
    expect(dealIds.size).toBe(150);
  });

  it('reads them back with their company (two calls for 100 deals) and recognises its own writes', async () => {
    const ids = [...dealIds.values()];
    const before = gate.acquired.length;
    const read = await adapter.readOpportunities(ids.slice(0, 100), ['dealreg_status', 'amount']);
    expect(gate.acquired.length - before).toBe(2);
    expect(read.size).toBe(100);
    const one = read.get(dealIds.get('reg-7')!)!;
    expect(one).toMatchObject({
      registrationId: 'reg-7',
      name: 'Acme deal 7',
      amount: 1007,
      pipelineId: 'default',
      stageId: 'appointmentscheduled',
      isClosed: false,
      accountExternalIds: [companyId],
      fields: { dealreg_status: 'approved', amount: '1007' },
    });
    // ≤ 50 ids: one call carries the property history too.
    const small = await adapter.readOpportunities(ids.slice(0, 10), ['dealreg_status']);
    expect(small.get(ids[0]!)!.fieldChanges?.dealreg_status?.origin).toEqual({ kind: 'self' });

    const accounts = await adapter.readAccounts([companyId]);
    expect(accounts.get(companyId)).toMatchObject({ name: 'Acme GmbH', domains: ['acme.de'], isCustomer: false });
  });

  it('updates deals, and completes a repeated create (crash after create) as an update of the same deal', async () => {
    const id = dealIds.get('reg-3')!;
    const results = await adapter.writeOpportunities([
      { registrationId: 'reg-3', externalId: id, fields: { dealreg_status: 'won' }, stageId: 'closedwon' },
      { ...writes(5, 1, companyId)[0]!, fields: { dealname: 'Acme deal 5 (again)' } },
    ]);
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: 'reg-3', ok: true, externalId: id, created: false },
        { registrationId: 'reg-5', ok: true, externalId: dealIds.get('reg-5'), created: false },
      ]),
    );
    const read = await adapter.readOpportunities([id, dealIds.get('reg-5')!], ['dealreg_status']);
    expect(read.get(id)).toMatchObject({ isClosed: true, isWon: true, fields: { dealreg_status: 'won' } });
    expect(read.get(dealIds.get('reg-5')!)!.name).toBe('Acme deal 5 (again)');
  });

  it('finds what changed since a time, oldest first, and pages by newestAt', async () => {
    const page = await adapter.opportunitiesChangedSince(startedAt, 100, ['dealreg_status']);
    expect(page.records).toHaveLength(100);
    expect(page.more).toBe(true);
    const times = page.records.map((r) => r.updatedAt);
    expect(times).toEqual([...times].sort());
    expect(page.newestAt).toBe(times[99]);
    expect(page.records[0]!.accountExternalIds).toEqual([companyId]);
    const all = await adapter.opportunitiesChangedSince(startedAt, 200, []);
    expect(all).toMatchObject({ more: false });
    expect(all.records).toHaveLength(150);
    const accounts = await adapter.accountsChangedSince(startedAt, 10);
    expect(accounts.records.map((a) => a.externalId)).toEqual([companyId]);
  });

  it('lists deals a page at a time with their companies, and the owners', async () => {
    const page = await adapter.listOpportunities(null, []);
    expect(page.records).toHaveLength(100);
    expect(page.next).not.toBeNull();
    expect(page.records[0]!.accountExternalIds).toEqual([companyId]);
    const rest = await adapter.listOpportunities(page.next, []);
    expect(rest).toMatchObject({ next: null });
    expect(rest.records).toHaveLength(50);
    await control(`/_sandbox/portals/${portal.portalId}/owners`, { email: 'rep@example.com', firstName: 'Rita', lastName: 'Rep', userId: 901, teams: [{ name: 'Direct' }] });
    const owners = await adapter.listOwners();
    expect(owners.find((o) => o.email === 'rep@example.com')).toMatchObject({ name: 'Rita Rep', userId: '901', teamIds: [expect.any(String)] });
  });

  it('turns a 429 from the sandbox into RATE_LIMITED and pauses the gate for Retry-After', async () => {
    expect((await control('/_sandbox/faults', { portalId: portal.portalId, status: 429, count: 1 })).status).toBe(201);
    const paused = gate.paused.length;
    await expect(adapter.listOwners()).rejects.toMatchObject({ name: 'CrmError', code: 'RATE_LIMITED', retryAfterMs: 10_000 });
    expect(gate.paused.slice(paused)).toEqual([10_000]);
  });
  it('after the sandbox expires the token, refreshes it once through the real token endpoint and carries on', async () => {
    const tokens = recordingTokens(portal.accessToken);
    const refreshed: string[] = [];
    let current = portal.accessToken;
    tokens.current = async () => current;
    tokens.refresh = async (rejected) => {
      refreshed.push(rejected);
      const fresh = await refreshAccessToken({ baseUrl: sandbox.baseUrl, clientId: portal.clientId, clientSecret: portal.clientSecret, refreshToken: portal.refreshToken });
      expect(fresh).toMatchObject({ refreshToken: portal.refreshToken, expiresIn: 1800 });
      current = fresh.accessToken;
      return current;
    };
    const oauthAdapter = createHubspotAdapter({ portalId: String(portal.portalId), baseUrl: sandbox.baseUrl, tokens, gate: countingGate() });
    expect((await control('/_sandbox/expire-tokens', { portalId: portal.portalId })).status).toBe(200);
    expect((await oauthAdapter.listOwners()).length).toBeGreaterThan(0);
    expect(refreshed).toEqual([portal.accessToken]);
    // The OAuth token introspects with its portal, app and time left.
    expect(await introspect({ baseUrl: sandbox.baseUrl, accessToken: current })).toMatchObject({ hubId: String(portal.portalId), appId: String(portal.appId), expiresIn: expect.any(Number) });
    await expect(refreshAccessToken({ baseUrl: sandbox.baseUrl, clientId: portal.clientId, clientSecret: 'wrong', refreshToken: portal.refreshToken })).rejects.toMatchObject({ code: 'AUTH', crmCode: 'BAD_CLIENT_SECRET' });
  });

});
