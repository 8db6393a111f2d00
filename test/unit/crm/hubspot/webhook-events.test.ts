// HubSpot webhook payloads (v3 shape, as documented and as the sandbox sends them) → CrmChangeEvent.
import {
  MAX_EVENTS_PER_REQUEST,
  WebhookBodyError,
  ownAppIdSet,
  parseHubspotWebhookBody,
  parseHubspotWebhookEvents,
  toCrmChangeEvent,
  type HubspotWebhookEvent,
} from '../../../../src/crm/hubspot/webhook-events';

const APP_ID = '3000001';
const OCCURRED = 1763900000000;
let nextId = 1000000001;

/** An event in HubSpot's field order, like the README's example. */
function ev(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    eventId: nextId++,
    subscriptionId: 2000001,
    portalId: 40000001,
    appId: Number(APP_ID),
    occurredAt: OCCURRED,
    attemptNumber: 0,
    changeSource: 'CRM_UI',
    sourceId: 'userId:7',
    ...extra,
  };
}

function one(extra: Record<string, unknown>, appIds: string[] = [APP_ID]) {
  const r = parseHubspotWebhookEvents([ev(extra)], { appIds });
  return r;
}

function only(extra: Record<string, unknown>, appIds: string[] = [APP_ID]) {
  const r = one(extra, appIds);
  expect(r.ignored).toEqual([]);
  expect(r.events).toHaveLength(1);
  return r.events[0]!;
}

describe('subscription types', () => {
  it.each([
    ['deal', 'opportunity'],
    ['company', 'account'],
  ] as const)('%s.creation is a created %s', (family, object) => {
    const e = { eventId: 1000000099, subscriptionType: `${family}.creation`, objectId: 30000000002, changeFlag: 'CREATED' };
    expect(only(e)).toEqual({
      portalId: '40000001',
      event: {
        eventKey: '1000000099',
        object,
        externalId: '30000000002',
        change: 'created',
        changedFields: [],
        origin: { kind: 'user', userId: '7' },
        occurredAt: new Date(OCCURRED).toISOString(),
      },
    });
  });

  it.each(['deal', 'company'])('%s.propertyChange names the changed property (a cleared value too)', (family) => {
    expect(only({ subscriptionType: `${family}.propertyChange`, objectId: 5, propertyName: 'dealstage', propertyValue: 'closedwon' }).event).toMatchObject({ change: 'updated', changedFields: ['dealstage'], externalId: '5' });
    expect(only({ subscriptionType: `${family}.propertyChange`, objectId: 5, propertyName: 'amount', propertyValue: '' }).event).toMatchObject({ change: 'updated', changedFields: ['amount'] });
  });

  it.each(['deal', 'company'])('%s.deletion is deleted', (family) => {
    expect(only({ subscriptionType: `${family}.deletion`, objectId: 77, changeFlag: 'DELETED' }).event).toMatchObject({ change: 'deleted', externalId: '77', changedFields: [] });
  });

  it.each(['deal', 'company'])('%s.restore is an update with no named field (re-read the record)', (family) => {
    expect(only({ subscriptionType: `${family}.restore`, objectId: 78, changeFlag: 'RESTORED' }).event).toMatchObject({ change: 'updated', externalId: '78', changedFields: [] });
  });

  it.each([
    ['deal', 'opportunity'],
    ['company', 'account'],
  ] as const)('%s.merge names the survivor and the ids merged into it', (family, object) => {
    const e = only({ subscriptionType: `${family}.merge`, objectId: 10, primaryObjectId: 10, mergedObjectIds: [11, 12], newObjectId: 10, numberOfPropertiesMoved: 3 }).event;
    expect(e).toMatchObject({ object, change: 'merged', externalId: '10', merge: { survivorId: '10', mergedIds: ['11', '12'] } });
  });

  it('a merge without newObjectId survives as the primary; one that created a new record survives as that record', () => {
    expect(only({ subscriptionType: 'deal.merge', primaryObjectId: 10, mergedObjectIds: [11] }).event).toMatchObject({ externalId: '10', merge: { survivorId: '10', mergedIds: ['11'] } });
    expect(only({ subscriptionType: 'company.merge', primaryObjectId: 10, mergedObjectIds: [11], newObjectId: 20 }).event).toMatchObject({
      externalId: '20',
      merge: { survivorId: '20', mergedIds: ['11', '10'] },
    });
  });

  it('a deal’s association change with a company is "associated" on the deal', () => {
    const e = only({ subscriptionType: 'deal.associationChange', associationType: 'DEAL_TO_COMPANY', fromObjectId: 30000000002, toObjectId: 20000000001, associationRemoved: false, isPrimaryAssociation: true }).event;
    expect(e).toMatchObject({ object: 'opportunity', change: 'associated', externalId: '30000000002', changedFields: [] });
    expect(only({ subscriptionType: 'deal.associationChange', associationType: 'DEAL_TO_COMPANY', fromObjectId: 3, toObjectId: 4, associationRemoved: true }).event.change).toBe('associated');
  });

  it('ignores the company side of an association and deal associations with other objects', () => {
    const r = parseHubspotWebhookEvents(
      [
        ev({ subscriptionType: 'company.associationChange', associationType: 'COMPANY_TO_DEAL', fromObjectId: 4, toObjectId: 3, associationRemoved: false }),
        ev({ subscriptionType: 'deal.associationChange', associationType: 'DEAL_TO_CONTACT', fromObjectId: 3, toObjectId: 9, associationRemoved: false }),
      ],
      { appIds: [APP_ID] },
    );
    expect(r.events).toEqual([]);
    expect(r.ignored.map((i) => i.reason)).toEqual([expect.stringMatching(/company side/), expect.stringMatching(/not a company/)]);
  });

  describe('the generic object.* form', () => {
    it.each([
      ['0-3', 'opportunity'],
      ['0-2', 'account'],
    ] as const)('objectTypeId %s is a %s', (objectTypeId, object) => {
      expect(only({ subscriptionType: 'object.creation', objectTypeId, objectId: '123' }).event).toMatchObject({ object, change: 'created', externalId: '123' });
      expect(only({ subscriptionType: 'object.propertyChange', objectTypeId, objectId: 123, propertyName: 'name', propertyValue: 'x' }).event).toMatchObject({ object, change: 'updated', changedFields: ['name'] });
      expect(only({ subscriptionType: 'object.deletion', objectTypeId, objectId: 123 }).event).toMatchObject({ object, change: 'deleted' });
      expect(only({ subscriptionType: 'object.restore', objectTypeId, objectId: 123 }).event).toMatchObject({ object, change: 'updated' });
      expect(only({ subscriptionType: 'object.merge', objectTypeId, objectId: 123, primaryObjectId: 123, mergedObjectIds: ['124'] }).event).toMatchObject({ object, change: 'merged', merge: { survivorId: '123', mergedIds: ['124'] } });
    });

    it('an association change from a deal (0-3) to a company (0-2) is associated; other pairs are ignored', () => {
      expect(only({ subscriptionType: 'object.associationChange', fromObjectTypeId: '0-3', toObjectTypeId: '0-2', fromObjectId: 1, toObjectId: 2, associationRemoved: false }).event).toMatchObject({ object: 'opportunity', change: 'associated', externalId: '1' });
      const r = parseHubspotWebhookEvents(
        [
          ev({ subscriptionType: 'object.associationChange', fromObjectTypeId: '0-3', toObjectTypeId: '0-1', fromObjectId: 1, toObjectId: 2 }),
          ev({ subscriptionType: 'object.associationChange', fromObjectTypeId: '0-2', toObjectTypeId: '0-3', fromObjectId: 2, toObjectId: 1 }),
        ],
        { appIds: [APP_ID] },
      );
      expect(r.events).toEqual([]);
      expect(r.ignored).toHaveLength(2);
    });

    it('other object types (contacts, tickets, custom objects) are ignored', () => {
      for (const objectTypeId of ['0-1', '0-5', '2-123456']) {
        const r = one({ subscriptionType: 'object.creation', objectTypeId, objectId: 1 });
        expect(r.events).toEqual([]);
        expect(r.ignored).toEqual([{ eventId: expect.any(String), portalId: '40000001', subscriptionType: 'object.creation', reason: `object type ${objectTypeId} is not synced` }]);
      }
      expect(one({ subscriptionType: 'object.creation', objectId: 1 }).ignored[0]!.reason).toBe('objectTypeId is missing');
    });
  });

  it('ignores other objects and unknown subscription types, never failing the batch', () => {
    const r = parseHubspotWebhookEvents(
      [
        ev({ subscriptionType: 'contact.creation', objectId: 1 }),
        ev({ subscriptionType: 'contact.privacyDeletion', objectId: 1 }),
        ev({ subscriptionType: 'ticket.propertyChange', objectId: 1, propertyName: 'subject' }),
        ev({ subscriptionType: 'deal.somethingNew', objectId: 1 }),
        ev({ subscriptionType: 'conversation.newMessage' }),
        ev({ subscriptionType: 'weird' }),
        ev({ subscriptionType: 'deal.creation', objectId: 2 }),
      ],
      { appIds: [APP_ID] },
    );
    expect(r.events.map((e) => e.event.externalId)).toEqual(['2']);
    expect(r.ignored.map((i) => i.subscriptionType)).toEqual(['contact.creation', 'contact.privacyDeletion', 'ticket.propertyChange', 'deal.somethingNew', 'conversation.newMessage', 'weird']);
  });

  it('ignores an event of a known type that lacks the id it needs', () => {
    expect(one({ subscriptionType: 'deal.creation' }).ignored[0]!.reason).toBe('objectId is missing');
    expect(one({ subscriptionType: 'deal.propertyChange', objectId: 1 }).ignored[0]!.reason).toBe('propertyName is missing');
  });
});

describe('who made the change', () => {
  const origin = (changeSource: unknown, sourceId: unknown, appIds = [APP_ID]) =>
    only({ subscriptionType: 'deal.propertyChange', objectId: 1, propertyName: 'amount', changeSource, sourceId }, appIds).event.origin;

  it('our own app’s writes (INTEGRATION or API with our app id) are self', () => {
    expect(origin('INTEGRATION', APP_ID)).toEqual({ kind: 'self' });
    expect(origin('API', APP_ID)).toEqual({ kind: 'self' });
    expect(origin('INTEGRATION', Number(APP_ID))).toEqual({ kind: 'self' });
  });

  it('another app’s writes, or ours when the app id is not known, are other', () => {
    expect(origin('INTEGRATION', '999')).toEqual({ kind: 'other', source: 'INTEGRATION' });
    expect(origin('INTEGRATION', APP_ID, [])).toEqual({ kind: 'other', source: 'INTEGRATION' });
    expect(origin('CRM_UI', APP_ID)).toEqual({ kind: 'other', source: 'CRM_UI' });
  });

  it('a person in the UI (CRM_UI, userId:<id>) is user', () => {
    expect(origin('CRM_UI', 'userId:7')).toEqual({ kind: 'user', userId: '7' });
    expect(origin('CRM_UI', 'userId:123456789')).toEqual({ kind: 'user', userId: '123456789' });
  });

  it('anything else is other, with its source', () => {
    expect(origin('CRM_UI', undefined)).toEqual({ kind: 'other', source: 'CRM_UI' });
    expect(origin('AUTOMATION_PLATFORM', 'flowId:5')).toEqual({ kind: 'other', source: 'AUTOMATION_PLATFORM' });
    expect(origin('IMPORT', 'importId:9')).toEqual({ kind: 'other', source: 'IMPORT' });
    expect(origin(undefined, undefined)).toEqual({ kind: 'other', source: 'UNKNOWN' });
  });

  it('toCrmChangeEvent takes the app ids per call (per connection)', () => {
    const parsed = parseHubspotWebhookBody([ev({ subscriptionType: 'deal.creation', objectId: 1, changeSource: 'INTEGRATION', sourceId: '555' })]);
    if (!parsed.ok) throw new Error('parse failed');
    const e = parsed.events[0] as HubspotWebhookEvent;
    expect(toCrmChangeEvent(e, ownAppIdSet([APP_ID]))).toMatchObject({ ok: true, event: { origin: { kind: 'other', source: 'INTEGRATION' } } });
    expect(toCrmChangeEvent(e, ownAppIdSet([APP_ID, '555']))).toMatchObject({ ok: true, event: { origin: { kind: 'self' } } });
  });
});

describe('the body', () => {
  it('takes raw bytes, a JSON string or a parsed value; ids may be numbers or numeric strings', () => {
    const body = [ev({ eventId: '1000000500', portalId: '40000001', subscriptionType: 'company.creation', objectId: '20000000001' })];
    for (const b of [Buffer.from(JSON.stringify(body)), JSON.stringify(body), body]) {
      const r = parseHubspotWebhookEvents(b, { appIds: [APP_ID] });
      expect(r.events).toEqual([{ portalId: '40000001', event: expect.objectContaining({ eventKey: '1000000500', externalId: '20000000001' }) }]);
    }
  });

  it('an empty array is fine', () => {
    expect(parseHubspotWebhookEvents('[]', { appIds: [] })).toEqual({ events: [], ignored: [] });
  });

  it('keeps unknown fields out and accepts nulls in optional ones', () => {
    const r = only({ subscriptionType: 'deal.propertyChange', objectId: 1, propertyName: 'amount', propertyValue: null, isPrimaryAssociation: null, somethingNew: { a: 1 } });
    expect(Object.keys(r.event).sort()).toEqual(['changedFields', 'change', 'eventKey', 'externalId', 'object', 'occurredAt', 'origin'].sort());
  });

  it.each([
    ['not JSON', '[{"eventId": 1,', /not valid JSON/],
    ['an object, not an array', '{"eventId": 1}', /JSON array/],
    ['a string', '"hello"', /JSON array/],
    ['null', 'null', /JSON array/],
  ])('refuses %s', (_what, raw, message) => {
    const r = parseHubspotWebhookBody(Buffer.from(raw));
    expect(r).toMatchObject({ ok: false, message: expect.stringMatching(message) });
    expect(() => parseHubspotWebhookEvents(raw, { appIds: [] })).toThrow(WebhookBodyError);
  });

  it.each([
    ['eventId that is not a number', { eventId: 'abc' }, '0.eventId'],
    ['missing eventId', { eventId: undefined }, '0.eventId'],
    ['missing portalId', { portalId: undefined }, '0.portalId'],
    ['occurredAt as a string', { occurredAt: '2026-11-23T10:00:00Z' }, '0.occurredAt'],
    ['fractional objectId', { objectId: 1.5 }, '0.objectId'],
    ['subscriptionType as a number', { subscriptionType: 5 }, '0.subscriptionType'],
    ['mergedObjectIds as a string', { subscriptionType: 'deal.merge', mergedObjectIds: '1,2' }, '0.mergedObjectIds'],
    ['associationRemoved as a string', { subscriptionType: 'deal.associationChange', associationRemoved: 'yes' }, '0.associationRemoved'],
    ['an id beyond 2^53 (JSON lost its digits)', { objectId: 2 ** 60 }, '0.objectId'],
  ])('refuses an event with %s, naming the path', (_what, patch, path) => {
    const r = parseHubspotWebhookBody([{ ...ev({ subscriptionType: 'deal.creation', objectId: 1 }), ...patch }]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(path);
  });

  it(`refuses more than ${MAX_EVENTS_PER_REQUEST} events`, () => {
    const many = Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => ev({ subscriptionType: 'deal.creation', objectId: 1 }));
    expect(parseHubspotWebhookBody(many).ok).toBe(false);
    expect(parseHubspotWebhookBody(many.slice(1)).ok).toBe(true);
  });

  it('the sandbox’s own example event parses as documented', () => {
    const raw = '[{ "eventId": 1000000001, "subscriptionId": 2000001, "portalId": 40000001, "appId": 3000001, "occurredAt": 1763900000000, "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 30000000002, "propertyName": "dealstage", "propertyValue": "closedwon", "changeSource": "INTEGRATION", "sourceId": "3000001" }]';
    expect(parseHubspotWebhookEvents(raw, { appIds: ['3000001'] }).events[0]!.event).toEqual({
      eventKey: '1000000001',
      object: 'opportunity',
      externalId: '30000000002',
      change: 'updated',
      changedFields: ['dealstage'],
      origin: { kind: 'self' },
      occurredAt: '2025-11-23T12:13:20.000Z',
    });
  });
});
