// writeOpportunities / createAccounts at the HTTP boundary: one sObject Collections call per kind of
// write, per-record results (mixed success and failure), row locks resent for just the locked records,
// the fields Salesforce requires on create, and the registering partner as an OpportunityPartner.
import nock from 'nock';
import type { OpportunityWrite } from '../../../src/crm/crm-adapter';
import { adapterWith, API, salesforce, sfError, sfId } from './helpers';

const UPSERT = `${API}/composite/sobjects/Opportunity/Dealreg_Registration_Id__c`;
const COLLECTION = `${API}/composite/sobjects`;

afterEach(() => nock.cleanAll());

interface CollectionBody {
  allOrNone: boolean;
  records: Array<Record<string, unknown> & { attributes: { type: string } }>;
}

const ACCOUNT = sfId('001', 1);
const PARTNER_ACCOUNT = sfId('001', 900);

const create = (i: number, extra: Partial<OpportunityWrite> = {}): OpportunityWrite => ({
  registrationId: `reg-${i}`,
  externalId: null,
  fields: { Name: `Acme ${i}`, Amount: 1000 + i, Dealreg_Status__c: 'approved', Dealreg_Registration_Id__c: `reg-${i}`, NextStep: null, CloseDate: '2027-03-31' },
  pipelineId: 'default',
  stageId: 'Prospecting',
  accountExternalId: ACCOUNT,
  ...extra,
});

const update = (i: number, id: string, extra: Partial<OpportunityWrite> = {}): OpportunityWrite => ({
  registrationId: `reg-${i}`,
  externalId: id,
  fields: { Dealreg_Status__c: 'won', NextStep: null },
  ...extra,
});

const ok = (id: string, created?: boolean) => ({ id, success: true, errors: [], ...(created === undefined ? {} : { created }) });
const failed = (statusCode: string, message: string, fields: string[] = []) => ({ success: false, errors: [{ statusCode, message, fields }], created: false });

/** Answers every record of an upsert as created, with ids 0068d…<n>. */
function createdAll(body: CollectionBody, first = 1) {
  return body.records.map((_, i) => ok(sfId('006', first + i), true));
}

describe('creates: upsert by the registration id', () => {
  it('creates 200 opportunities in ONE call with what Salesforce needs on each record', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = salesforce();
    let sent: CollectionBody | undefined;
    scope
      .patch(UPSERT, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .matchHeader('sforce-call-options', 'client=dealreg')
      .reply(200, (_uri, b) => createdAll(b as CollectionBody));
    const writes = Array.from({ length: 200 }, (_, i) => create(i));
    const results = await adapter.writeOpportunities(writes);
    expect(requests()).toBe(1);
    expect(gate.acquired).toEqual(['api']);
    expect(sent!.allOrNone).toBe(false);
    expect(sent!.records).toHaveLength(200);
    expect(sent!.records[7]).toEqual({
      attributes: { type: 'Opportunity' },
      Name: 'Acme 7',
      Amount: 1007,
      Dealreg_Status__c: 'approved',
      Dealreg_Registration_Id__c: 'reg-7',
      CloseDate: '2027-03-31',
      StageName: 'Prospecting',
      AccountId: ACCOUNT,
    });
    // Nothing to clear on a new record (NextStep: null is left out); no RecordTypeId for the default pipeline.
    expect(sent!.records[7]).not.toHaveProperty('NextStep');
    expect(results[7]).toEqual({ registrationId: 'reg-7', ok: true, externalId: sfId('006', 8), created: true });
  });

  it('refuses more than 200 writes before calling Salesforce', async () => {
    const { adapter } = adapterWith();
    const { requests } = salesforce();
    await expect(adapter.writeOpportunities(Array.from({ length: 201 }, (_, i) => create(i)))).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BATCH_TOO_LARGE' });
    expect(requests()).toBe(0);
  });

  it('fills in CloseDate (protection end, else 90 days out) and Name, sets the upsert key, and names a record type pipeline', async () => {
    const { adapter } = adapterWith();
    let sent: CollectionBody | undefined;
    salesforce()
      .scope.patch(UPSERT, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .reply(200, (_uri, b) => createdAll(b as CollectionBody));
    const before = new Date();
    await adapter.writeOpportunities([
      create(1, { fields: { Name: 'Acme 1', CloseDate: null, Dealreg_Protection_End__c: '2027-01-15' } }),
      create(2, { fields: { Amount: 5 }, pipelineId: '012000000000001AAA' }),
    ]);
    const after = new Date();
    const in90 = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 90)).toISOString().slice(0, 10);
    expect(sent!.records[0]).toMatchObject({ CloseDate: '2027-01-15', Name: 'Acme 1', Dealreg_Registration_Id__c: 'reg-1' });
    expect(sent!.records[1]).toMatchObject({ Name: 'Dealreg registration reg-2', Dealreg_Registration_Id__c: 'reg-2', RecordTypeId: '012000000000001AAA' });
    expect([in90(before), in90(after)]).toContain(sent!.records[1]!.CloseDate);
  });

  it('a create repeated after a crash comes back created: false with the record it made the first time', async () => {
    const { adapter } = adapterWith();
    salesforce().scope.patch(UPSERT).reply(200, [ok(sfId('006', 42), false)]);
    expect(await adapter.writeOpportunities([create(1)])).toEqual([{ registrationId: 'reg-1', ok: true, externalId: sfId('006', 42), created: false }]);
  });

  it('maps record errors one by one; the records that saved are reported saved', async () => {
    const { adapter } = adapterWith();
    const existing = sfId('006', 77);
    salesforce()
      .scope.patch(UPSERT)
      .reply(200, [
        ok(sfId('006', 1), true),
        failed('DUPLICATE_VALUE', `duplicate value found: Dealreg_Registration_Id__c duplicates value on record with id: ${existing}`),
        failed('REQUIRED_FIELD_MISSING', 'Required fields are missing: [StageName]', ['StageName']),
        failed('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['AccountId']),
        failed('FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Amount must be positive'),
      ]);
    const results = await adapter.writeOpportunities([1, 2, 3, 4, 5].map((i) => create(i)));
    expect(results[0]).toMatchObject({ registrationId: 'reg-1', ok: true });
    expect(results[1]).toMatchObject({ registrationId: 'reg-2', ok: false, error: { code: 'CONFLICT', crmCode: 'DUPLICATE_VALUE', existingId: existing } });
    expect(results[2]).toMatchObject({ registrationId: 'reg-3', ok: false, error: { code: 'INVALID', crmCode: 'REQUIRED_FIELD_MISSING' } });
    expect(results[3]).toMatchObject({ registrationId: 'reg-4', ok: false, error: { code: 'INVALID', crmCode: 'INVALID_CROSS_REFERENCE_KEY' } });
    expect(results[4]).toMatchObject({ registrationId: 'reg-5', ok: false, error: { code: 'INVALID', crmCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION' } });
    expect((results[2] as { error: Error }).error.message).toContain('StageName');
  });

  it('one registration twice in one call: the second is refused, the first goes out', async () => {
    const { adapter } = adapterWith();
    let sent: CollectionBody | undefined;
    salesforce()
      .scope.patch(UPSERT, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .reply(200, (_uri, b) => createdAll(b as CollectionBody));
    const results = await adapter.writeOpportunities([create(1), create(1)]);
    expect(sent!.records).toHaveLength(1);
    expect(results).toEqual(expect.arrayContaining([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: false, error: expect.objectContaining({ crmCode: 'DUPLICATE_INPUT' }) })]));
  });

  it('a whole-call refusal before anything was written is thrown (an unknown field fails all records)', async () => {
    const { adapter } = adapterWith();
    salesforce().scope.patch(UPSERT).reply(400, sfError('INVALID_FIELD', "No such column 'Foo__c' on sobject of type Opportunity"));
    await expect(adapter.writeOpportunities([create(1)])).rejects.toMatchObject({ code: 'INVALID', status: 400, crmCode: 'INVALID_FIELD' });
  });
});

describe('row locks and other transient record errors', () => {
  it('UNABLE_TO_LOCK_ROW: only the locked record is resent, after a jittered backoff, and then saves', async () => {
    const { adapter, sleeps } = adapterWith();
    const { scope } = salesforce();
    const bodies: CollectionBody[] = [];
    scope
      .patch(UPSERT, (b: CollectionBody) => {
        bodies.push(b);
        return true;
      })
      .reply(200, [ok(sfId('006', 1), true), failed('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records: 0018d0000000001AAA'), ok(sfId('006', 3), true)]);
    scope
      .patch(UPSERT, (b: CollectionBody) => {
        bodies.push(b);
        return true;
      })
      .reply(200, [ok(sfId('006', 2), true)]);
    const results = await adapter.writeOpportunities([create(1), create(2), create(3)]);
    expect(bodies.map((b) => b.records.map((r) => r.Dealreg_Registration_Id__c))).toEqual([['reg-1', 'reg-2', 'reg-3'], ['reg-2']]);
    expect(sleeps).toEqual([375]);
    expect(results).toEqual([1, 2, 3].map((i) => ({ registrationId: `reg-${i}`, ok: true, externalId: sfId('006', i), created: true })));
  });

  it('a record still locked after three sends fails TEMPORARY, alone', async () => {
    const { adapter, sleeps } = adapterWith();
    const { scope, requests } = salesforce();
    const lock = failed('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record');
    scope.patch(COLLECTION).reply(200, [ok(sfId('006', 1)), lock]);
    scope.patch(COLLECTION).times(2).reply(200, [lock]);
    const results = await adapter.writeOpportunities([update(1, sfId('006', 1)), update(2, sfId('006', 2))]);
    expect(requests()).toBe(3);
    expect(sleeps).toEqual([375, 750]);
    expect(results).toEqual([
      { registrationId: 'reg-1', ok: true, externalId: sfId('006', 1), created: false },
      { registrationId: 'reg-2', ok: false, error: expect.objectContaining({ code: 'TEMPORARY', crmCode: 'UNABLE_TO_LOCK_ROW' }) },
    ]);
  });

  it('a resend that hits the rate limit reports the saved records as saved and the rest as RATE_LIMITED', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.patch(COLLECTION).reply(200, [ok(sfId('006', 1)), failed('UNABLE_TO_LOCK_ROW', 'locked')]);
    scope.patch(COLLECTION).reply(429, sfError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'));
    const results = await adapter.writeOpportunities([update(1, sfId('006', 1)), update(2, sfId('006', 2))]);
    expect(results[0]).toMatchObject({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
  });
});

describe('updates: by id', () => {
  it('sends known records by id, clears fields set to null, writes no registration id and no defaults', async () => {
    const { adapter } = adapterWith();
    let sent: CollectionBody | undefined;
    salesforce()
      .scope.patch(COLLECTION, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .reply(200, [ok(sfId('006', 5)), failed('ENTITY_IS_DELETED', 'entity is deleted'), failed('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')]);
    const results = await adapter.writeOpportunities([
      update(5, sfId('006', 5).slice(0, 15), { stageId: 'Closed Won' }),
      update(6, sfId('006', 6)),
      update(7, sfId('006', 7)),
    ]);
    expect(sent!.records[0]).toEqual({ attributes: { type: 'Opportunity' }, id: sfId('006', 5), Dealreg_Status__c: 'won', NextStep: null, StageName: 'Closed Won' });
    expect(results).toEqual([
      { registrationId: 'reg-5', ok: true, externalId: sfId('006', 5), created: false },
      { registrationId: 'reg-6', ok: false, error: expect.objectContaining({ code: 'NOT_FOUND', crmCode: 'ENTITY_IS_DELETED' }) },
      { registrationId: 'reg-7', ok: false, error: expect.objectContaining({ code: 'NOT_FOUND', crmCode: 'INVALID_CROSS_REFERENCE_KEY' }) },
    ]);
  });

  it('creates and updates in one batch: two calls; when the second fails as a whole, the created ones are still reported', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.patch(UPSERT).reply(200, [ok(sfId('006', 1), true)]);
    scope.patch(COLLECTION).times(3).reply(500, sfError('UNKNOWN_EXCEPTION', 'An unexpected error occurred.'));
    const results = await adapter.writeOpportunities([create(1), update(2, sfId('006', 2))]);
    expect(results).toEqual([
      { registrationId: 'reg-1', ok: true, externalId: sfId('006', 1), created: true },
      { registrationId: 'reg-2', ok: false, error: expect.objectContaining({ code: 'TEMPORARY', status: 500 }) },
    ]);
  });

  it('an id that is not a Salesforce id is refused without a call', async () => {
    const { adapter } = adapterWith();
    const { requests } = salesforce();
    expect(await adapter.writeOpportunities([update(1, "006' OR Name != '")])).toEqual([
      { registrationId: 'reg-1', ok: false, error: expect.objectContaining({ code: 'INVALID', crmCode: 'MALFORMED_ID' }) },
    ]);
    expect(requests()).toBe(0);
  });
});

describe('the registering partner', () => {
  const partner = (type: string) => ({ accountExternalId: PARTNER_ACCOUNT, name: 'Channel One', type });

  it('records the partner of each NEW opportunity as its primary OpportunityPartner, in one call, with the standard role', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = salesforce();
    scope.patch(UPSERT).reply(200, [ok(sfId('006', 1), true), ok(sfId('006', 2), true), ok(sfId('006', 3), true), ok(sfId('006', 4), true), ok(sfId('006', 5), true), ok(sfId('006', 6), false), ok(sfId('006', 7), true)]);
    let sent: CollectionBody | undefined;
    scope
      .post(COLLECTION, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .reply(200, (_uri, b) => (b as CollectionBody).records.map((_, i) => ok(sfId('00I', i + 1))));
    const results = await adapter.writeOpportunities([
      create(1, { partner: partner('reseller') }),
      create(2, { partner: partner('referral') }),
      create(3, { partner: partner('affiliate') }),
      create(4, { partner: partner('technology') }),
      create(5, { partner: partner('something-new') }),
      create(6, { partner: partner('reseller') }), // created: false — it existed, its partner with it
      create(7), // no partner account in this CRM
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(gate.acquired).toHaveLength(2);
    expect(sent!.allOrNone).toBe(false);
    expect(sent!.records).toEqual([
      { attributes: { type: 'Partner' }, OpportunityId: sfId('006', 1), AccountToId: PARTNER_ACCOUNT, Role: 'VAR/Reseller', IsPrimary: true },
      { attributes: { type: 'Partner' }, OpportunityId: sfId('006', 2), AccountToId: PARTNER_ACCOUNT, Role: 'Consultant', IsPrimary: true },
      { attributes: { type: 'Partner' }, OpportunityId: sfId('006', 3), AccountToId: PARTNER_ACCOUNT, Role: 'Agency', IsPrimary: true },
      { attributes: { type: 'Partner' }, OpportunityId: sfId('006', 4), AccountToId: PARTNER_ACCOUNT, Role: 'Developer', IsPrimary: true },
      { attributes: { type: 'Partner' }, OpportunityId: sfId('006', 5), AccountToId: PARTNER_ACCOUNT, IsPrimary: true },
    ]);
  });

  it('a Partner that cannot be recorded (per record, or the whole call) does not fail the opportunity', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.patch(UPSERT).reply(200, [ok(sfId('006', 1), true)]);
    scope.post(COLLECTION).reply(200, [failed('FIELD_INTEGRITY_EXCEPTION', 'Partner account must be a partner')]);
    expect(await adapter.writeOpportunities([create(1, { partner: partner('reseller') })])).toEqual([{ registrationId: 'reg-1', ok: true, externalId: sfId('006', 1), created: true }]);

    scope.patch(UPSERT).reply(200, [ok(sfId('006', 2), true)]);
    scope.post(COLLECTION).reply(500, sfError('UNKNOWN_EXCEPTION', 'An unexpected error occurred.'));
    expect(await adapter.writeOpportunities([create(2, { partner: partner('reseller') })])).toEqual([{ registrationId: 'reg-2', ok: true, externalId: sfId('006', 2), created: true }]);
    expect(scope.isDone()).toBe(true);
  });
});

describe('createAccounts', () => {
  it('creates accounts in one collection call and answers by key, per record', async () => {
    const { adapter } = adapterWith();
    let sent: CollectionBody | undefined;
    salesforce()
      .scope.post(COLLECTION, (b: CollectionBody) => {
        sent = b;
        return true;
      })
      .reply(200, [ok(sfId('001', 10)), failed('DUPLICATES_DETECTED', 'Use one of these records?')]);
    const results = await adapter.createAccounts([
      { key: 'acme.com', name: 'Acme', domain: 'acme.com' },
      { key: 'globex.com', name: 'Globex', domain: 'globex.com' },
      { key: 'acme.com', name: 'Acme again', domain: 'acme.com' },
    ]);
    expect(sent).toEqual({ allOrNone: false, records: [{ attributes: { type: 'Account' }, Name: 'Acme', Website: 'acme.com' }, { attributes: { type: 'Account' }, Name: 'Globex', Website: 'globex.com' }] });
    expect(results).toEqual(
      expect.arrayContaining([
        { key: 'acme.com', ok: true, externalId: sfId('001', 10) },
        { key: 'globex.com', ok: false, error: expect.objectContaining({ code: 'INVALID', crmCode: 'DUPLICATES_DETECTED' }) },
        { key: 'acme.com', ok: false, error: expect.objectContaining({ crmCode: 'DUPLICATE_INPUT' }) },
      ]),
    );
  });
});
