// The control API beyond faults: snapshot / restore, reset, org isolation, seeding with refs, stages,
// undelete, extra tokens, identity; checked through jsforce where Salesforce paths are involved.
import { Connection } from 'jsforce';
import { createSalesforceSandbox } from '../../../src/sandbox/salesforce';
import { failure, useSalesforceSandbox } from './sf-test-kit';

const kit = useSalesforceSandbox();

describe('snapshot and restore', () => {
  test('a snapshot is JSON; restored into a new sandbox, records, tokens, events and usage are all back', async () => {
    const org = await kit.createOrg({ dailyApiLimit: 1000 });
    const conn = kit.connect(org);
    const acc = (await conn.sobject('Account').create({ Name: 'Persisted', Website: 'https://persisted.example' })) as { id: string };
    await conn.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'snap-1', Name: 'Snap', StageName: 'Prospecting', CloseDate: '2026-10-01', AccountId: acc.id } as never, 'Dealreg_Registration_Id__c');
    const snap = await kit.control('GET', '/_sandbox/snapshot');
    const json = JSON.stringify(snap.body);
    expect(JSON.parse(json)).toEqual(snap.body);

    const other = createSalesforceSandbox();
    const port = await other.listen(0);
    try {
      other.restore(JSON.parse(json));
      const again = new Connection({ instanceUrl: `http://127.0.0.1:${port}`, accessToken: org.accessToken, version: '66.0' });
      const rows = await again.query<{ Name: string; Account: { Website: string } }>("SELECT Name, Account.Website FROM Opportunity WHERE Dealreg_Registration_Id__c = 'snap-1'");
      expect(rows.records.map((r) => [r.Name, r.Account.Website])).toEqual([['Snap', 'https://persisted.example']]);
      const events = (await again.request('/services/data/v66.0/sandbox/change-events?channel=/data/ChangeEvents&replayId=-2')) as { events: unknown[] };
      expect(events.events).toHaveLength(2);
      expect(again.limitInfo.apiUsage).toEqual({ used: 3, limit: 1000 }); // two writes before the snapshot, one query after
      const up = (await again.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'snap-1', Amount: 1 } as never, 'Dealreg_Registration_Id__c')) as unknown as { created: boolean };
      expect(up.created).toBe(false);
    } finally {
      await other.close();
    }
  });

  test('restore through the control API replaces the state; a foreign document is refused', async () => {
    const sb = createSalesforceSandbox();
    await sb.listen(0);
    try {
      const org = sb.createOrg();
      const snap = sb.snapshot();
      sb.reset();
      const conn = new Connection({ instanceUrl: sb.baseUrl, accessToken: org.accessToken, version: '66.0' });
      expect((await failure(conn.query('SELECT Id FROM User'))).errorCode).toBe('INVALID_SESSION_ID');
      const res = await fetch(`${sb.baseUrl}/_sandbox/snapshot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snap) });
      expect(res.status).toBe(200);
      expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
      const bad = await fetch(`${sb.baseUrl}/_sandbox/snapshot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"format":"hubspot"}' });
      expect(bad.status).toBe(400);
    } finally {
      await sb.close();
    }
  });
});

describe('orgs', () => {
  test('orgs are isolated: ids and external ids of one org are invisible to another', async () => {
    const a = await kit.createOrg();
    const b = await kit.createOrg();
    const ca = kit.connect(a);
    const cb = kit.connect(b);
    const acc = (await ca.sobject('Account').create({ Name: 'A only' })) as { id: string };
    expect((await failure(cb.sobject('Account').retrieve(acc.id))).errorCode).toBe('NOT_FOUND');
    await ca.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'same-reg', Name: 'A', StageName: 'Prospecting', CloseDate: '2026-10-01' } as never, 'Dealreg_Registration_Id__c');
    const inB = (await cb.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'same-reg', Name: 'B', StageName: 'Prospecting', CloseDate: '2026-10-01' } as never, 'Dealreg_Registration_Id__c')) as unknown as { created: boolean };
    expect(inB.created).toBe(true);
  });

  test('POST /_sandbox/reset forgets every org', async () => {
    const sb = createSalesforceSandbox();
    await sb.listen(0);
    try {
      sb.createOrg();
      const res = await fetch(`${sb.baseUrl}/_sandbox/reset`, { method: 'POST' });
      expect(res.status).toBe(200);
      const list = await (await fetch(`${sb.baseUrl}/_sandbox/orgs`)).json();
      expect(list).toEqual([]);
    } finally {
      await sb.close();
    }
  });

  test('seeding links records by $ref, sets read-only fields such as UserType and costs no API usage', async () => {
    const org = await kit.createOrg();
    const seeded = await kit.seed(org, {
      users: [{ _ref: 'pu', Username: `partner-${org.orgId}@reseller.example`, LastName: 'Reseller', UserType: 'PowerPartner' }],
      accounts: [{ _ref: 'acme', Name: 'Acme', OwnerId: { $ref: 'pu' }, CreatedDate: '2025-01-01T00:00:00Z' }],
      opportunities: [{ Name: 'Seeded', StageName: 'Prospecting', CloseDate: '2026-01-01', AccountId: { $ref: 'acme' } }],
    });
    expect(seeded.refs).toEqual({ pu: seeded.users[0], acme: seeded.accounts[0] });
    const conn = kit.connect(org);
    const rows = await conn.query<any>('SELECT Account.Name, Account.CreatedDate, Owner.UserType FROM Opportunity');
    expect(rows.records[0]).toMatchObject({ Account: { Name: 'Acme', CreatedDate: '2025-01-01T00:00:00.000+0000' } });
    const acc = await conn.query<any>('SELECT Owner.UserType FROM Account');
    expect(acc.records[0].Owner.UserType).toBe('PowerPartner');
    expect(conn.limitInfo.apiUsage?.used).toBe(2);
    const bad = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/seed`, { opportunities: [{ Name: 'No stage', CloseDate: '2026-01-01' }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'opportunities', index: 0, errorCode: 'REQUIRED_FIELD_MISSING' });
  });

  test('custom stages can be added; a new closed-won stage drives IsClosed and IsWon', async () => {
    const org = await kit.createOrg();
    const res = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/stages`, { stages: [{ apiName: 'Won via Partner', isClosed: true, isWon: true, probability: 100 }] });
    expect(res.status).toBe(200);
    const conn = kit.connect(org);
    const opp = (await conn.sobject('Opportunity').create({ Name: 'P', StageName: 'Won via Partner', CloseDate: '2026-01-01' })) as { id: string };
    expect((await conn.sobject('Opportunity').retrieve(opp.id)) as Record<string, unknown>).toMatchObject({ IsClosed: true, IsWon: true, ForecastCategoryName: 'Closed' });
    const d = await conn.describe('Opportunity');
    expect(d.fields.find((f) => f.name === 'StageName')!.picklistValues!.map((p: { value: string }) => p.value)).toContain('Won via Partner');
  });

  test('undelete restores a deleted opportunity (as from the Recycle Bin) and emits UNDELETE', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const opp = (await conn.sobject('Opportunity').create({ Name: 'Back', StageName: 'Prospecting', CloseDate: '2026-01-01' })) as { id: string };
    await conn.sobject('Opportunity').destroy(opp.id);
    const res = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/undelete`, { sobject: 'Opportunity', ids: [opp.id] });
    expect(res.body).toEqual({ ids: [opp.id] });
    expect(((await conn.sobject('Opportunity').retrieve(opp.id)) as Record<string, unknown>).Name).toBe('Back');
    const feed = (await conn.request('/services/data/v66.0/sandbox/change-events?channel=/data/OpportunityChangeEvent&replayId=-2')) as { events: Array<{ payload: { ChangeEventHeader: { changeType: string } } }> };
    expect(feed.events.map((e) => e.payload.ChangeEventHeader.changeType)).toEqual(['CREATE', 'DELETE', 'UNDELETE']);
  });

  test('tokens for another user of the org can be issued; identity describes that user', async () => {
    const org = await kit.createOrg();
    const seeded = await kit.seed(org, { users: [{ Username: `second-${org.orgId}@vendor.example`, FirstName: 'Second', LastName: 'User' }] });
    const tok = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/tokens`, { userId: seeded.users[0] });
    expect(tok.status).toBe(201);
    const conn = new Connection({ instanceUrl: tok.body.instanceUrl, accessToken: tok.body.accessToken, version: '66.0' });
    const id = await conn.identity();
    expect(id).toMatchObject({ user_id: seeded.users[0], organization_id: org.orgId, username: `second-${org.orgId}@vendor.example`, display_name: 'Second User' });
    const acc = (await conn.sobject('Account').create({ Name: 'Mine' })) as { id: string };
    expect(((await conn.sobject('Account').retrieve(acc.id)) as Record<string, unknown>).OwnerId).toBe(seeded.users[0]);
  });
});
