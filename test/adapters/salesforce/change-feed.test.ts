// pullChanges at the HTTP boundary: the sandbox's replayable CDC feed, one CrmChangeEvent per record,
// our own writes recognised, a person's edit named, an unknown replay id turned into a gap at the tip,
// and the long poll kept out of the budget and the per-second gate.
import nock from 'nock';
import type { ApiBudget } from '../../../src/crm/salesforce/salesforce-budget';
import { adapterWith, API, salesforce, sfError, sfId } from './helpers';

afterEach(() => nock.cleanAll());

const FEED = `${API}/sandbox/change-events`;
const REP = sfId('005', 7);
const INTEGRATION = sfId('005', 1);

const header = (o: Record<string, unknown>) => ({
  entityName: 'Opportunity',
  recordIds: [sfId('006', 1)],
  changeType: 'UPDATE',
  changeOrigin: 'com/salesforce/api/rest/66.0;client=dealreg',
  transactionKey: '0001a2b3-0000-4000-8000-000000000001',
  sequenceNumber: 1,
  commitTimestamp: Date.parse('2026-11-20T10:00:05Z'),
  commitNumber: 1000001,
  commitUser: INTEGRATION,
  nulledFields: [],
  diffFields: [],
  changedFields: ['Dealreg_Status__c', 'LastModifiedDate'],
  ...o,
});
const event = (replayId: number, h: Record<string, unknown>, fields: Record<string, unknown> = {}) => ({ replayId, schema: 'sbx0000001-Opportunity', payload: { ChangeEventHeader: header(h), ...fields } });
const page = (events: unknown[], nextReplayId: number, hasMore = false) => ({ channel: '/data/ChangeEvents', events, nextReplayId, latestReplayId: nextReplayId, oldestReplayId: 1, hasMore });

const noBudget: ApiBudget = {
  beforeCall: () => Promise.reject(new Error('the feed must not be metered')),
  observe: () => undefined,
};

describe('pullChanges', () => {
  it('starts at the tip when there is no cursor, long-polls, and neither spends the budget nor takes a gate slot', async () => {
    const { adapter, gate } = adapterWith({ budget: noBudget });
    const { scope } = salesforce();
    scope.get(FEED).query({ channel: '/data/ChangeEvents', replayId: '-1', limit: '100', waitMs: '20000' }).matchHeader('authorization', 'Bearer token-1').reply(200, page([], 41));
    expect(await adapter.pullChanges!(null, { limit: 100, waitMs: 20_000 })).toEqual({ events: [], cursor: '41', more: false, gap: false });
    expect(gate.acquired).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });

  it('maps each record of each event; our own writes are self, a Lightning edit names its user, others their origin', async () => {
    const { adapter } = adapterWith();
    const a = sfId('006', 1);
    const b = sfId('006', 2);
    const acct = sfId('001', 3);
    salesforce()
      .scope.get(FEED)
      .query((q) => q.replayId === '41' && q.limit === '50')
      .reply(
        200,
        page(
          [
            event(42, { recordIds: [a, b] }), // one collection update, the same change to two records
            event(43, { recordIds: [a], changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/', commitUser: REP, changedFields: ['Amount', 'LastModifiedDate'], nulledFields: ['NextStep'] }),
            event(44, { entityName: 'Account', recordIds: [acct], changeType: 'CREATE', changeOrigin: 'com/salesforce/api/rest/62.0;client=zapier', changedFields: [] }, { Name: 'Acme' }),
            event(45, { entityName: 'Partner', recordIds: [sfId('00I', 1)], changeType: 'CREATE' }),
            event(46, { recordIds: [b], changeType: 'DELETE', changeOrigin: '', changedFields: [] }),
            event(47, { recordIds: [b], changeType: 'UNDELETE', changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/', commitUser: REP, changedFields: [] }),
          ],
          47,
          true,
        ),
      );
    const r = await adapter.pullChanges!('41', { limit: 50 });
    expect(r).toMatchObject({ cursor: '47', more: true, gap: false });
    const at = '2026-11-20T10:00:05.000Z';
    expect(r.events).toEqual([
      { eventKey: `cdc:42:${a}`, object: 'opportunity', externalId: a, change: 'updated', changedFields: ['Dealreg_Status__c', 'LastModifiedDate'], origin: { kind: 'self' }, occurredAt: at },
      { eventKey: `cdc:42:${b}`, object: 'opportunity', externalId: b, change: 'updated', changedFields: ['Dealreg_Status__c', 'LastModifiedDate'], origin: { kind: 'self' }, occurredAt: at },
      { eventKey: `cdc:43:${a}`, object: 'opportunity', externalId: a, change: 'updated', changedFields: ['Amount', 'LastModifiedDate', 'NextStep'], origin: { kind: 'user', userId: REP }, occurredAt: at },
      { eventKey: `cdc:44:${acct}`, object: 'account', externalId: acct, change: 'created', changedFields: [], origin: { kind: 'other', source: 'com/salesforce/api/rest/62.0;client=zapier' }, occurredAt: at },
      { eventKey: `cdc:46:${b}`, object: 'opportunity', externalId: b, change: 'deleted', changedFields: [], origin: { kind: 'other', source: 'salesforce' }, occurredAt: at },
      { eventKey: `cdc:47:${b}`, object: 'opportunity', externalId: b, change: 'created', changedFields: [], origin: { kind: 'user', userId: REP }, occurredAt: at },
    ]);
  });

  it('a replay id the feed no longer has is a gap: no events, the cursor at the tip the error names', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = salesforce();
    scope
      .get(FEED)
      .query((q) => q.replayId === '12')
      .reply(400, sfError('INVALID_REPLAY_ID', 'The replayId {12} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.', { oldestReplayId: 500, latestReplayId: 900 }));
    expect(await adapter.pullChanges!('12', { limit: 100 })).toEqual({ events: [], cursor: '900', more: false, gap: true });
    expect(requests()).toBe(1);
  });

  it('when the error does not name the tip, one pull at -1 finds it', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope
      .get(FEED)
      .query((q) => q.replayId === '12')
      .reply(400, sfError('INVALID_REPLAY_ID', 'The replayId {12} you provided was invalid.'));
    scope.get(FEED).query({ channel: '/data/ChangeEvents', replayId: '-1', limit: '1', waitMs: '0' }).reply(200, page([], 901));
    expect(await adapter.pullChanges!('12', { limit: 100 })).toEqual({ events: [], cursor: '901', more: false, gap: true });
    expect(scope.isDone()).toBe(true);
  });

  it('a cursor that is not a replay id is unknown too: a gap from the tip', async () => {
    const { adapter } = adapterWith();
    salesforce().scope.get(FEED).query((q) => q.replayId === '-1').reply(200, page([], 77));
    expect(await adapter.pullChanges!('next-page', { limit: 10 })).toEqual({ events: [], cursor: '77', more: false, gap: true });
  });

  it('other failures are errors, and a 401 refreshes once like every call', async () => {
    const { adapter, tokens } = adapterWith();
    const { scope } = salesforce();
    scope.get(FEED).query(true).reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    scope.get(FEED).query(true).matchHeader('authorization', 'Bearer token-2').reply(200, page([], 5));
    expect((await adapter.pullChanges!('4', { limit: 10 })).cursor).toBe('5');
    expect(tokens.refreshed).toEqual(['token-1']);
    scope.get(FEED).query(true).reply(400, sfError('INVALID_CHANNEL', 'Unknown channel'));
    await expect(adapter.pullChanges!('5', { limit: 10 })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'INVALID_CHANNEL' });
  });
});
