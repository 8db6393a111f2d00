// The adapter against the real in-process Salesforce sandbox (src/sandbox/salesforce): proves that the
// shapes the nock tests use are the shapes the fake (modelled on Salesforce) really answers with, and
// walks the whole loop: write → read → changed since → change events, with the faults Salesforce serves.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Connection, type Record as SfRecord } from 'jsforce';
import type { CrmAdapter, OpportunityWrite } from '../../../src/crm/crm-adapter';
import { createApiBudget } from '../../../src/crm/salesforce/salesforce-budget';
import { createSalesforceAdapter } from '../../../src/crm/salesforce/salesforce-adapter';
import { refreshAccessToken } from '../../../src/crm/salesforce/salesforce-oauth';
import { createSalesforceSandbox, type CreatedOrg, type SalesforceSandbox } from '../../../src/sandbox/salesforce';
import { silentLogger } from '../../../src/lib/logger';
import { countingGate, recordingTokens, type CountingGate } from './helpers';

let clock = Date.parse('2026-11-20T10:00:00Z');
let sandbox: SalesforceSandbox;
let org: CreatedOrg;
let adapter: CrmAdapter;
let gate: CountingGate;
const sleeps: number[] = [];

async function control<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sandbox.baseUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T) };
}

function adapterFor(o: CreatedOrg, extra: Partial<Parameters<typeof createSalesforceAdapter>[0]> = {}): CrmAdapter {
  return createSalesforceAdapter({
    orgId: o.orgId,
    instanceUrl: o.instanceUrl,
    apiVersion: '66.0',
    loginUrl: o.loginUrl,
    tokens: recordingTokens(o.accessToken),
    gate: countingGate(),
    log: silentLogger(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
}

/** A person editing in Lightning (the sandbox's X-Sandbox-Actor), through plain jsforce. */
function asUser(o: CreatedOrg, userId: string) {
  const conn = new Connection({ instanceUrl: o.instanceUrl, accessToken: o.accessToken, version: '66.0' });
  return {
    update: (sobject: string, record: Record<string, unknown>) => conn.sobject(sobject).update(record as { Id: string }, { headers: { 'X-Sandbox-Actor': `user:${userId}` } }),
    query: <T extends SfRecord>(q: string) => conn.query<T>(q),
  };
}

beforeAll(async () => {
  sandbox = createSalesforceSandbox({ now: () => clock });
  await sandbox.listen(0);
  org = sandbox.createOrg();
  gate = countingGate();
  adapter = adapterFor(org, { gate });
});
afterAll(() => sandbox.close());

const creates = (from: number, n: number, accountId: string, partnerAccountId?: string): OpportunityWrite[] =>
  Array.from({ length: n }, (_, i) => ({
    registrationId: `00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`,
    externalId: null,
    fields: { Name: `Acme deal ${from + i}`, Amount: 1000 + i, Dealreg_Status__c: 'approved', Dealreg_Partner__c: 'Channel One', CloseDate: null, Dealreg_Protection_End__c: '2027-02-15' },
    pipelineId: 'default',
    stageId: 'Prospecting',
    accountExternalId: accountId,
    partner: partnerAccountId ? { accountExternalId: partnerAccountId, name: 'Channel One', type: 'reseller' } : null,
  }));

describe('the Salesforce adapter against the sandbox', () => {
  const ids = new Map<string, string>();
  let customerId = '';
  let partnerId = '';
  let repId = '';
  let feedCursor: string;
  let startedAt = '';

  it('proves the token and names the org it belongs to', async () => {
    expect(await adapter.verifyCredentials()).toEqual({ accountId: org.orgId });
    expect(adapter).toMatchObject({ crm: 'salesforce', accountId: org.orgId, writeBatchSize: 200, readBatchSize: 200 });
  });

  it('reports the dealreg fields as present in an org that has them, and missing in one that does not', async () => {
    expect(await adapter.ensureSchema()).toEqual({
      created: [],
      present: ['Dealreg_Registration_Id__c', 'Dealreg_Partner__c', 'Dealreg_Partner_Tier__c', 'Dealreg_Status__c', 'Dealreg_Protection_End__c', 'Dealreg_Verdict__c'],
      missing: [],
    });
    const bare = sandbox.createOrg({ withDealregFields: false });
    const report = await adapterFor(bare).ensureSchema();
    expect(report.present).toEqual([]);
    expect(report.missing).toHaveLength(6);
  });

  it('describes fields and one default pipeline with the org’s active stages in order', async () => {
    const d = await adapter.describe();
    expect(d.opportunityFields.find((f) => f.name === 'Dealreg_Registration_Id__c')).toMatchObject({ type: 'string', unique: true, readOnly: false });
    expect(d.opportunityFields.find((f) => f.name === 'IsWon')).toMatchObject({ type: 'boolean', readOnly: true });
    expect(d.opportunityFields.find((f) => f.name === 'Amount')).toMatchObject({ type: 'number' });
    expect(d.opportunityFields.find((f) => f.name === 'Dealreg_Status__c')?.options?.map((o) => o.value)).toContain('withdrawn');
    expect(d.pipelines.map((p) => p.id)).toEqual(['default']);
    const stages = d.pipelines[0]!.stages;
    expect(stages[0]).toMatchObject({ id: 'Prospecting', isClosed: false });
    expect(stages.find((s) => s.id === 'Closed Won')).toMatchObject({ isClosed: true, isWon: true });
    expect(stages.find((s) => s.id === 'Closed Lost')).toMatchObject({ isClosed: true, isWon: false });
  });

  it('lists active users as owners, partner community users marked by their user type', async () => {
    const seeded = await control('POST', `/_sandbox/orgs/${org.orgId}/seed`, {
      users: [
        { Username: `rep-${org.orgId}@vendor.test`, FirstName: 'Rita', LastName: 'Rep', Email: 'rita@vendor.test' },
        { Username: `pp-${org.orgId}@partner.test`, LastName: 'Partner', Email: 'pat@partner.test', UserType: 'PowerPartner' },
        { Username: `gone-${org.orgId}@vendor.test`, LastName: 'Gone', IsActive: false },
      ],
      accounts: [
        { Name: 'Acme Ltd', Website: 'https://www.acme.co.uk', Type: 'Customer - Direct', BillingCountry: 'United Kingdom' },
        { Name: 'Channel One', Website: 'channelone-partners.com', Type: 'Channel Partner / Reseller' },
      ],
    });
    expect(seeded.status).toBe(201);
    [repId] = seeded.body.users;
    [customerId, partnerId] = seeded.body.accounts;
    const owners = await adapter.listOwners();
    expect(owners.find((u) => u.email === 'rita@vendor.test')).toEqual({ id: repId, userId: repId, name: 'Rita Rep', email: 'rita@vendor.test', teamIds: ['userType:Standard'] });
    expect(owners.find((u) => u.email === 'pat@partner.test')?.teamIds).toEqual(['userType:PowerPartner']);
    expect(owners.some((u) => u.name === 'Gone')).toBe(false);
  });

  it('writes 200 new opportunities in ONE call, then their partners (as VAR/Reseller OpportunityPartners) in one more', async () => {
    feedCursor = (await adapter.pullChanges!(null, { limit: 10 })).cursor;
    startedAt = new Date(clock).toISOString();
    const before = gate.acquired.length;
    const results = await adapter.writeOpportunities(creates(0, 200, customerId, partnerId));
    expect(gate.acquired.length - before).toBe(2); // the upsert, the Partner rows
    for (const r of results) {
      expect(r).toMatchObject({ ok: true, created: true });
      if (r.ok) ids.set(r.registrationId, r.externalId);
    }
    expect(ids.size).toBe(200);
    const partners = await asUser(org, repId).query<{ OpportunityId: string; AccountToId: string; Role: string; IsPrimary: boolean }>(
      `SELECT OpportunityId, AccountToId, Role, IsPrimary FROM OpportunityPartner WHERE AccountToId = '${partnerId}'`,
    );
    expect(partners.totalSize).toBe(200);
    expect(partners.records[0]).toMatchObject({ AccountToId: partnerId, Role: 'VAR/Reseller', IsPrimary: true });
  });

  it('reads them back in our shape, the close date taken from the protection end', async () => {
    const all = [...ids.values()];
    const read = await adapter.readOpportunities(all.slice(0, 200), ['Dealreg_Status__c', 'Amount', 'Not_A_Field__c']);
    expect(read.size).toBe(200);
    const regId = creates(7, 1, customerId)[0]!.registrationId;
    expect(read.get(ids.get(regId)!)).toMatchObject({
      externalId: ids.get(regId),
      registrationId: regId,
      name: 'Acme deal 7',
      amount: 1007,
      closeDate: '2027-02-15',
      pipelineId: 'default',
      stageId: 'Prospecting',
      isClosed: false,
      accountExternalIds: [customerId],
      fields: { Dealreg_Status__c: 'approved', Amount: '1007', Not_A_Field__c: null },
    });
    // A 15-char id finds the record too, under the id as asked.
    const id15 = all[0]!.slice(0, 15);
    expect((await adapter.readOpportunities([id15], [])).get(id15)?.externalId).toBe(all[0]);

    const accounts = await adapter.readAccounts([customerId, partnerId]);
    expect(accounts.get(customerId)).toMatchObject({ name: 'Acme Ltd', domains: ['acme.co.uk'], country: 'United Kingdom', isCustomer: true });
    expect(accounts.get(partnerId)).toMatchObject({ domains: ['channelone-partners.com'], isCustomer: false });
  });

  it('updates by id, and a repeated create (crash after create) updates the record it made instead of a second one', async () => {
    clock += 5_000;
    const regA = creates(3, 1, customerId)[0]!.registrationId;
    const regB = creates(5, 1, customerId)[0]!;
    const results = await adapter.writeOpportunities([
      { registrationId: regA, externalId: ids.get(regA)!, fields: { Dealreg_Status__c: 'won', NextStep: null }, stageId: 'Closed Won' },
      { ...regB, fields: { ...regB.fields, Name: 'Acme deal 5 (again)' } },
    ]);
    expect(results).toEqual(
      expect.arrayContaining([
        { registrationId: regA, ok: true, externalId: ids.get(regA), created: false },
        { registrationId: regB.registrationId, ok: true, externalId: ids.get(regB.registrationId), created: false },
      ]),
    );
    const read = await adapter.readOpportunities([ids.get(regA)!, ids.get(regB.registrationId)!], ['Dealreg_Status__c']);
    expect(read.get(ids.get(regA)!)).toMatchObject({ stageId: 'Closed Won', isClosed: true, isWon: true, fields: { Dealreg_Status__c: 'won' } });
    expect(read.get(ids.get(regB.registrationId)!)!.name).toBe('Acme deal 5 (again)');
  });

  it('finds changes since a time: a second holding 200 records is read whole, and the next page starts after it', async () => {
    const page = await adapter.opportunitiesChangedSince(startedAt, 50, ['Dealreg_Status__c']);
    // 200 records share the create's SystemModstamp: the page of 50 is completed with the other 148 of that
    // second (the 2 updated ones moved on), and newestAt lies just past it.
    expect(page.records).toHaveLength(198);
    expect(new Set(page.records.map((r) => r.externalId)).size).toBe(198);
    expect(page.more).toBe(true);
    expect(page.newestAt).toBe('2026-11-20T10:00:00.001Z');
    const next = await adapter.opportunitiesChangedSince(page.newestAt!, 50, []);
    expect(next.records.map((r) => r.name).sort()).toEqual(['Acme deal 3', 'Acme deal 5 (again)']);
    expect(next).toMatchObject({ more: false, newestAt: '2026-11-20T10:00:05.000Z' });
    const accounts = await adapter.accountsChangedSince(startedAt, 10);
    expect(accounts.records.map((a) => a.externalId).sort()).toEqual([customerId, partnerId].sort());
  });

  it('lists every record in Id order a page at a time, following nextRecordsUrl, and survives an expired locator', async () => {
    const big = sandbox.createOrg();
    const opportunities = Array.from({ length: 4100 }, (_, i) => ({ Name: `Seeded ${i}`, StageName: 'Prospecting', CloseDate: '2027-01-31' }));
    expect((await control('POST', `/_sandbox/orgs/${big.orgId}/seed`, { opportunities })).status).toBe(201);
    const g = countingGate();
    const a = adapterFor(big, { gate: g });
    const first = await a.listOpportunities(null, []);
    expect(first.records).toHaveLength(2000);
    const second = await a.listOpportunities(first.next, []);
    expect(second.records).toHaveLength(2000);
    // The sandbox forgets a locator after 15 idle minutes, as Salesforce does: the cursor restarts after the last id seen.
    clock += 16 * 60_000;
    const third = await a.listOpportunities(second.next, []);
    expect(third).toMatchObject({ next: null });
    expect(third.records).toHaveLength(100);
    expect(g.acquired).toHaveLength(5); // describe and page 1; page 2; the expired locator and the restart after it
    const seen = [...first.records, ...second.records, ...third.records].map((r) => r.externalId);
    expect(new Set(seen).size).toBe(4100);
    expect(seen).toEqual([...seen].sort());

    const accounts = await adapter.listAccounts(null);
    expect(accounts).toMatchObject({ next: null });
    expect(accounts.records.map((r) => r.externalId).sort()).toEqual([customerId, partnerId].sort());
  });

  it('pulls change events: our writes are self, a person’s edit is theirs, a multi-record event becomes one event per record', async () => {
    clock += 5_000;
    const two = [ids.get(creates(10, 1, customerId)[0]!.registrationId)!, ids.get(creates(11, 1, customerId)[0]!.registrationId)!];
    // One collection update giving two records the same values: one CDC event naming both.
    await adapter.writeOpportunities(two.map((id, i) => ({ registrationId: `r${i}`, externalId: id, fields: { Dealreg_Status__c: 'lost' } })));
    await asUser(org, repId).update('Opportunity', { Id: two[0], Amount: 5 });

    const events = [];
    let cursor = feedCursor;
    for (;;) {
      const page = await adapter.pullChanges!(cursor, { limit: 100 });
      expect(page.gap).toBe(false);
      events.push(...page.events);
      cursor = page.cursor;
      if (!page.more) break;
    }
    const ofOpportunities = events.filter((e) => e.object === 'opportunity');
    expect(ofOpportunities.filter((e) => e.change === 'created')).toHaveLength(200);
    expect(events.every((e) => e.object === 'opportunity')).toBe(true); // Partner rows are not mirrored
    const lost = events.filter((e) => e.change === 'updated' && e.changedFields.includes('Dealreg_Status__c') && two.includes(e.externalId) && e.origin.kind === 'self');
    expect(lost.map((e) => e.externalId).sort()).toEqual([...two].sort());
    expect(lost[0]!.eventKey.split(':')[1]).toBe(lost[1]!.eventKey.split(':')[1]); // the same replay id
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(events.length);
    const edit = events.at(-1)!;
    expect(edit).toMatchObject({ externalId: two[0], change: 'updated', origin: { kind: 'user', userId: repId }, occurredAt: new Date(clock).toISOString() });
    expect(edit.changedFields).toContain('Amount');

    // Nothing new: a short long-poll ends empty at the same place.
    const idle = await adapter.pullChanges!(cursor, { limit: 100, waitMs: 50 });
    expect(idle).toEqual({ events: [], cursor, more: false, gap: false });
  });

  it('a replay id the feed does not know is a gap: the cursor moves to the tip', async () => {
    const tip = (await adapter.pullChanges!(null, { limit: 1 })).cursor;
    expect(await adapter.pullChanges!('999999', { limit: 10 })).toEqual({ events: [], cursor: tip, more: false, gap: true });
  });

  it('a create refused for one record fails only that record', async () => {
    const [bad, good] = creates(300, 2, customerId);
    const results = await adapter.writeOpportunities([{ ...bad!, stageId: 'No Such Stage' }, good!]);
    expect(results.find((r) => r.registrationId === bad!.registrationId)).toMatchObject({ ok: false, error: { code: 'INVALID', crmCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' } });
    expect(results.find((r) => r.registrationId === good!.registrationId)).toMatchObject({ ok: true, created: true });
  });

  it('resends a record that was locked, and a PATCH that hit a 503, and ends up written', async () => {
    const [w1, w2] = creates(400, 2, customerId);
    expect((await control('POST', '/_sandbox/record-faults', { orgId: org.orgId, errorCode: 'UNABLE_TO_LOCK_ROW', count: 1, sobject: 'Opportunity' })).status).toBe(200);
    expect((await control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 503, count: 1 })).status).toBe(200);
    const results = await adapter.writeOpportunities([w1!, w2!]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
  });

  it('turns 403 REQUEST_LIMIT_EXCEEDED into RATE_LIMITED and pauses the connection for a quarter of an hour', async () => {
    expect((await control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 403, count: 1 })).status).toBe(200);
    const paused = gate.paused.length;
    await expect(adapter.listOwners()).rejects.toMatchObject({ name: 'CrmError', code: 'RATE_LIMITED', status: 403, crmCode: 'REQUEST_LIMIT_EXCEEDED', retryAfterMs: 15 * 60_000 });
    expect(gate.paused.slice(paused)).toEqual([15 * 60_000]);
  });

  it('after the sandbox expires the session, refreshes once through the real token endpoint and carries on', async () => {
    const tokens = recordingTokens(org.accessToken);
    let current = org.accessToken;
    tokens.current = async () => current;
    tokens.refresh = async (rejected) => {
      tokens.refreshed.push(rejected);
      current = (await refreshAccessToken({ loginUrl: org.loginUrl, clientId: org.clientId, clientSecret: org.clientSecret, refreshToken: org.refreshToken })).accessToken;
      return current;
    };
    const fresh = adapterFor(org, { tokens });
    expect((await control('POST', '/_sandbox/expire-tokens', { orgId: org.orgId })).status).toBe(200);
    expect((await fresh.listOwners()).length).toBeGreaterThan(0);
    expect(tokens.refreshed).toEqual([org.accessToken]);
    expect(current).not.toBe(org.accessToken);
  });

  it('records Sforce-Limit-Info in the shared daily budget, which stops dealreg at its share', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    const prefix = `test-sf-${randomBytes(4).toString('hex')}`;
    try {
      const small = sandbox.createOrg({ dailyApiLimit: 100 });
      const budget = createApiBudget({ redis, prefix, orgId: small.orgId, percent: 50 });
      const a = adapterFor(small, { budget });
      expect((await control('POST', `/_sandbox/orgs/${small.orgId}/api-usage`, { used: 48 })).status).toBe(200);
      await a.listOwners(); // the 49th request
      expect(await redis.hgetall(`${prefix}:crm-budget:salesforce:${small.orgId}`)).toMatchObject({ used: '49', max: '100' });
      await a.listOwners(); // the 50th: dealreg's half is now spent
      await expect(a.listOwners()).rejects.toMatchObject({ code: 'RATE_LIMITED', crmCode: 'DAILY_BUDGET' });
      expect((await control('GET', `/_sandbox/orgs/${small.orgId}/stats`)).body.apiUsage.used).toBe(50);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('revokes the refresh token on disconnect; a second revoke is not an error', async () => {
    const other = sandbox.createOrg();
    const a = adapterFor(other, { refreshToken: async () => other.refreshToken });
    await a.revoke();
    await a.revoke();
    await expect(refreshAccessToken({ loginUrl: other.loginUrl, clientId: other.clientId, clientSecret: other.clientSecret, refreshToken: other.refreshToken })).rejects.toMatchObject({ code: 'AUTH' });
  });
});
