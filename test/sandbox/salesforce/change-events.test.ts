// Change detection: changeOrigin / commitUser of API writes (with and without the dealreg client name)
// and of UI edits (X-Sandbox-Actor), and the replayable change-event feed mapped onto CDC.
import type { Connection } from 'jsforce';
import type { ChangeEvent } from '../../../src/sandbox/salesforce';
import { failure, useSalesforceSandbox, type TestOrg } from './sf-test-kit';

let clock = Date.parse('2026-07-01T10:00:00Z');
const kit = useSalesforceSandbox({ now: () => clock });

interface Feed {
  channel: string;
  events: ChangeEvent[];
  nextReplayId: number;
  latestReplayId: number;
  oldestReplayId: number;
  hasMore: boolean;
}

function feed(conn: Connection, channel: string, replayId: number, extra = ''): Promise<Feed> {
  return conn.request(`/services/data/v66.0/sandbox/change-events?channel=${encodeURIComponent(channel)}&replayId=${replayId}${extra}`) as Promise<Feed>;
}

async function newOpportunity(conn: Connection, name: string): Promise<string> {
  const r = (await conn.sobject('Opportunity').create({ Name: name, StageName: 'Prospecting', CloseDate: '2026-09-30', Amount: 100 })) as { id: string };
  return r.id;
}

describe('changeOrigin and commitUser', () => {
  let org: TestOrg;
  let rep: string;

  beforeAll(async () => {
    org = await kit.createOrg();
    const seeded = await kit.seed(org, { users: [{ Username: `rep-${org.orgId}@vendor.example`, FirstName: 'Sam', LastName: 'Seller' }] });
    rep = seeded.users[0];
  });

  test('a write with Sforce-Call-Options client=dealreg carries the client in changeOrigin', async () => {
    const conn = kit.connect(org);
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    const id = await newOpportunity(conn, 'From dealreg');
    const { events } = await feed(conn, '/data/OpportunityChangeEvent', tip.nextReplayId);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload.ChangeEventHeader).toMatchObject({
      entityName: 'Opportunity',
      recordIds: [id],
      changeType: 'CREATE',
      changeOrigin: 'com/salesforce/api/rest/66.0;client=dealreg',
      commitUser: org.integrationUserId,
      changedFields: [],
    });
    expect(events[0]!.payload).toMatchObject({ Name: 'From dealreg', StageName: 'Prospecting', CloseDate: '2026-09-30', Amount: 100, LastModifiedDate: '2026-07-01T10:00:00.000Z' });
  });

  test('a write without a client name has a bare REST changeOrigin', async () => {
    const conn = kit.connect(org, { callOptions: undefined });
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    await newOpportunity(conn, 'Other integration');
    const { events } = await feed(conn, '/data/OpportunityChangeEvent', tip.nextReplayId);
    expect(events[0]!.payload.ChangeEventHeader.changeOrigin).toBe('com/salesforce/api/rest/66.0');
  });

  test('an edit with X-Sandbox-Actor is a person’s UI edit: commitUser is that user, no dealreg client, no API usage', async () => {
    const conn = kit.connect(org);
    const id = await newOpportunity(conn, 'Edited by a rep');
    const before = await kit.control('GET', `/_sandbox/orgs/${org.orgId}/stats`);
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    clock += 5_000;
    await conn.sobject('Opportunity').update({ Id: id, StageName: 'Closed Won' }, { headers: { 'X-Sandbox-Actor': `user:${rep}` } });
    const { events } = await feed(conn, '/data/OpportunityChangeEvent', tip.nextReplayId);
    const header = events[0]!.payload.ChangeEventHeader;
    expect(header).toMatchObject({ changeType: 'UPDATE', commitUser: rep, changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/' });
    expect(header.changeOrigin).not.toContain('client=dealreg');
    expect(header.changedFields).toEqual(['StageName', 'Probability', 'IsClosed', 'IsWon', 'ForecastCategory', 'ForecastCategoryName', 'LastModifiedDate', 'LastModifiedById']);
    expect(events[0]!.payload).toMatchObject({ StageName: 'Closed Won', IsClosed: true, IsWon: true, LastModifiedById: rep, LastModifiedDate: '2026-07-01T10:00:05.000Z' });
    const row = (await conn.sobject('Opportunity').retrieve(id)) as Record<string, unknown>;
    expect(row.LastModifiedById).toBe(rep);
    const after = await kit.control('GET', `/_sandbox/orgs/${org.orgId}/stats`);
    // Only the retrieve counts: neither the UI edit nor the event feed (a streaming allocation) spends API requests.
    expect(after.body.apiUsage.used - before.body.apiUsage.used).toBe(1);
  });

  test('an unknown X-Sandbox-Actor user is refused', async () => {
    const conn = kit.connect(org);
    const id = await newOpportunity(conn, 'x');
    const err = await failure(conn.sobject('Opportunity').update({ Id: id, Name: 'y' }, { headers: { 'X-Sandbox-Actor': 'user:005000000000000AAA' } }));
    expect(err.errorCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });
});

describe('change-event feed', () => {
  test('replay from an id returns the events after it; -2 replays from the earliest retained; -1 is the tip', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const a = await newOpportunity(conn, 'A');
    const b = await newOpportunity(conn, 'B');
    await conn.sobject('Opportunity').update({ Id: a, Amount: 250, NextStep: null });
    await conn.sobject('Opportunity').destroy(b);

    const all = await feed(conn, '/data/OpportunityChangeEvent', -2);
    expect(all.events.map((e) => [e.payload.ChangeEventHeader.changeType, e.payload.ChangeEventHeader.recordIds[0]])).toEqual([
      ['CREATE', a],
      ['CREATE', b],
      ['UPDATE', a],
      ['DELETE', b],
    ]);
    const ids = all.events.map((e) => e.replayId);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(all.events[2]!.payload).toEqual({ ChangeEventHeader: expect.objectContaining({ changedFields: ['Amount', 'LastModifiedDate'], nulledFields: [] }), Amount: 250, LastModifiedDate: expect.any(String) });
    expect(Object.keys(all.events[3]!.payload)).toEqual(['ChangeEventHeader']);

    const after = await feed(conn, '/data/OpportunityChangeEvent', ids[1]!);
    expect(after.events.map((e) => e.replayId)).toEqual(ids.slice(2));
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    expect(tip.events).toEqual([]);
    expect(tip.nextReplayId).toBe(tip.latestReplayId);

    const paged = await feed(conn, '/data/OpportunityChangeEvent', -2, '&limit=3');
    expect(paged.events).toHaveLength(3);
    expect(paged.hasMore).toBe(true);
    const rest = await feed(conn, '/data/OpportunityChangeEvent', paged.nextReplayId);
    expect(rest.events.map((e) => e.replayId)).toEqual(ids.slice(3));
  });

  test('channels filter by object; /data/ChangeEvents has all; an Account address change uses the compound field', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const acc = (await conn.sobject('Account').create({ Name: 'Acme', BillingCountry: 'DE', BillingCity: 'Berlin' })) as { id: string };
    await newOpportunity(conn, 'O');
    await conn.sobject('Account').update({ Id: acc.id, BillingCountry: 'FR', BillingCity: null });
    const accounts = await feed(conn, '/data/AccountChangeEvent', -2);
    expect(accounts.events.map((e) => e.payload.ChangeEventHeader.changeType)).toEqual(['CREATE', 'UPDATE']);
    expect(accounts.events[0]!.payload.BillingAddress).toEqual({ City: 'Berlin', Country: 'DE' });
    expect(accounts.events[1]!.payload.ChangeEventHeader).toMatchObject({ changedFields: ['BillingAddress.City', 'BillingAddress.Country', 'LastModifiedDate'], nulledFields: ['BillingAddress.City'] });
    expect(accounts.events[1]!.payload.BillingAddress).toEqual({ City: null, Country: 'FR' });
    const everything = await feed(conn, '/data/ChangeEvents', -2);
    expect(everything.events.map((e) => e.payload.ChangeEventHeader.entityName)).toEqual(['Account', 'Opportunity', 'Account']);
    const unknown = await failure(feed(conn, '/data/LeadChangeEvent', -1));
    expect(unknown.errorCode).toBe('INVALID_CHANNEL');
  });

  test('identical changes to several records in one collection call arrive as one event with several recordIds', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const ids = [await newOpportunity(conn, 'X'), await newOpportunity(conn, 'Y'), await newOpportunity(conn, 'Z')];
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    await conn.sobject('Opportunity').update(ids.map((Id) => ({ Id, Dealreg_Status__c: 'won' })));
    const { events } = await feed(conn, '/data/OpportunityChangeEvent', tip.nextReplayId);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload.ChangeEventHeader.recordIds).toEqual(ids);
    expect(events[0]!.payload.ChangeEventHeader.changedFields).toEqual(['LastModifiedDate', 'Dealreg_Status__c']);
  });

  test('a replay id older than the retention answers 400 INVALID_REPLAY_ID with the retained range', async () => {
    const org = await kit.createOrg({ eventRetention: 3 });
    const conn = kit.connect(org);
    for (const n of ['1', '2', '3', '4', '5']) await newOpportunity(conn, n);
    const all = await feed(conn, '/data/OpportunityChangeEvent', -2);
    expect(all.events).toHaveLength(3);
    const err = await failure(feed(conn, '/data/OpportunityChangeEvent', all.oldestReplayId - 2));
    expect(err.errorCode).toBe('INVALID_REPLAY_ID');
    expect(err.data).toMatchObject({ oldestReplayId: all.oldestReplayId, latestReplayId: all.latestReplayId });
    expect(err.message).toContain('-2 to replay all events, or -1 to replay only new events');
    const edge = await feed(conn, '/data/OpportunityChangeEvent', all.oldestReplayId - 1);
    expect(edge.events).toHaveLength(3);
    const future = await failure(feed(conn, '/data/OpportunityChangeEvent', all.latestReplayId + 10));
    expect(future.errorCode).toBe('INVALID_REPLAY_ID');
  });

  test('events older than the retention window (72 hours by default) are dropped too', async () => {
    const org = await kit.createOrg({ tokenTtlSeconds: 7 * 24 * 3600 });
    const conn = kit.connect(org);
    await newOpportunity(conn, 'old');
    const first = await feed(conn, '/data/OpportunityChangeEvent', -2);
    clock += 73 * 3_600_000;
    await newOpportunity(conn, 'new');
    const now = await feed(conn, '/data/OpportunityChangeEvent', -2);
    expect(now.events.map((e) => e.payload.Name)).toEqual(['new']);
    expect((await failure(feed(conn, '/data/OpportunityChangeEvent', first.events[0]!.replayId - 1))).errorCode).toBe('INVALID_REPLAY_ID');
  });

  test('waitMs long-polls until an event arrives', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const tip = await feed(conn, '/data/OpportunityChangeEvent', -1);
    const waiting = feed(conn, '/data/OpportunityChangeEvent', tip.nextReplayId, '&waitMs=10000');
    await new Promise((r) => setTimeout(r, 20));
    const id = await newOpportunity(kit.connect(org), 'arrives while waiting');
    const got = await waiting;
    expect(got.events.map((e) => e.payload.ChangeEventHeader.recordIds[0])).toEqual([id]);
  });

  test('seeding emits no change events unless asked to', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    await kit.seed(org, { accounts: [{ Name: 'Quiet' }] });
    expect((await feed(conn, '/data/ChangeEvents', -2)).events).toEqual([]);
    await kit.seed(org, { accounts: [{ Name: 'Loud' }], emitEvents: true });
    const loud = await feed(conn, '/data/ChangeEvents', -2);
    expect(loud.events.map((e) => e.payload.Name)).toEqual(['Loud']);
  });
});
