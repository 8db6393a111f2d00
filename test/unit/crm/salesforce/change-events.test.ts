// CDC events → CrmChangeEvent, pure: one event per record, who made the change, gap events.
import { clientOf, originOf, toCrmChangeEvents } from '../../../../src/crm/salesforce/salesforce-change-events';
import { toId18 } from '../../../../src/crm/salesforce/salesforce-ids';
import type { SfChangeEvent } from '../../../../src/crm/salesforce/salesforce-wire';

const OPP = toId18('0068d000000000A')!;
const OPP2 = toId18('0068d000000000B')!;
const USER = toId18('0058d0000000007')!;
const ACCOUNT = toId18('0018d0000000001')!;

function event(replayId: number, h: Partial<SfChangeEvent['payload']['ChangeEventHeader']>): SfChangeEvent {
  return {
    replayId,
    payload: {
      ChangeEventHeader: {
        entityName: 'Opportunity',
        recordIds: [OPP],
        changeType: 'UPDATE',
        changeOrigin: 'com/salesforce/api/rest/66.0;client=dealreg',
        commitTimestamp: Date.parse('2026-11-20T10:00:05Z'),
        commitUser: USER,
        changedFields: ['StageName'],
        nulledFields: [],
        ...h,
      },
    },
  };
}

describe('originOf', () => {
  it('our client id is self; only the exact client, not one that starts with it', () => {
    expect(originOf({ changeOrigin: 'com/salesforce/api/rest/66.0;client=dealreg', commitUser: USER })).toEqual({ kind: 'self' });
    expect(originOf({ changeOrigin: 'com/salesforce/api/rest/66.0;client=dealreg-staging', commitUser: USER })).toEqual({ kind: 'other', source: 'com/salesforce/api/rest/66.0;client=dealreg-staging' });
  });

  it('a Lightning edit is the commit user’s (18-char)', () => {
    expect(originOf({ changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/', commitUser: USER.slice(0, 15) })).toEqual({ kind: 'user', userId: USER });
  });

  it('anything else keeps its origin; an empty origin (Apex, workflow) is "salesforce"', () => {
    expect(originOf({ changeOrigin: 'com/salesforce/api/rest/62.0', commitUser: USER })).toEqual({ kind: 'other', source: 'com/salesforce/api/rest/62.0' });
    expect(originOf({ changeOrigin: '', commitUser: USER })).toEqual({ kind: 'other', source: 'salesforce' });
  });

  it('clientOf reads the client id of a changeOrigin', () => {
    expect(clientOf('com/salesforce/api/soap/49.0;client=Astro')).toBe('Astro');
    expect(clientOf('com/salesforce/api/rest/66.0')).toBeNull();
  });
});

describe('toCrmChangeEvents', () => {
  it('splits an event naming several records into one event each, keyed by replay id and record', () => {
    const { events, lost } = toCrmChangeEvents([event(9, { recordIds: [OPP, OPP2.slice(0, 15)] })]);
    expect(lost).toBe(false);
    expect(events.map((e) => e.eventKey)).toEqual([`cdc:9:${OPP}`, `cdc:9:${OPP2}`]);
    expect(events.map((e) => e.externalId)).toEqual([OPP, OPP2]);
  });

  it('changed fields are the header’s, with the fields set to null', () => {
    const [e] = toCrmChangeEvents([event(1, { changedFields: ['Amount', 'LastModifiedDate'], nulledFields: ['NextStep', 'Amount'] })]).events;
    expect(e!.changedFields).toEqual(['Amount', 'LastModifiedDate', 'NextStep']);
  });

  it('maps change types; UNDELETE brings the record back as created', () => {
    const types = ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE'].map((changeType, i) => toCrmChangeEvents([event(i, { changeType })]).events[0]!.change);
    expect(types).toEqual(['created', 'updated', 'deleted', 'created']);
  });

  it('keeps only Opportunity and Account', () => {
    const { events } = toCrmChangeEvents([event(1, { entityName: 'Partner' }), event(2, { entityName: 'User' }), event(3, { entityName: 'Account', recordIds: [ACCOUNT] })]);
    expect(events.map((e) => [e.object, e.externalId])).toEqual([['account', ACCOUNT]]);
  });

  it('a gap event says "read the record": no field list', () => {
    const { events, lost } = toCrmChangeEvents([event(1, { changeType: 'GAP_UPDATE' })]);
    expect(lost).toBe(false);
    expect(events).toMatchObject([{ change: 'updated', changedFields: [] }]);
  });

  it('an overflow event or a wildcard record id names no records: the caller must catch up', () => {
    expect(toCrmChangeEvents([event(1, { changeType: 'GAP_OVERFLOW', recordIds: ['006*'] })])).toEqual({ events: [], lost: true });
    expect(toCrmChangeEvents([event(1, { recordIds: ['006*'] })])).toEqual({ events: [], lost: true });
  });
});
