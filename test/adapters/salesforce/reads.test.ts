// Reads at the HTTP boundary: identity, describe (fields, record types, stages), the schema report,
// owners, SOQL reads by id (fields picked from a cached describe), paging with nextRecordsUrl and an
// expired locator, changed-since with SystemModstamp ties, and revoke.
import nock from 'nock';
import { adapterWith, accountRow, API, DEALREG_FIELDS, DESCRIBE_PATH, LOGIN, opportunityDescribe, opportunityRow, ORG_ID, queryBody, salesforce, sfError, sfId, soql } from './helpers';

afterEach(() => nock.cleanAll());

const QUERY = `${API}/query`;
const stageRows = [
  { attributes: { type: 'OpportunityStage' }, ApiName: 'Closed Won', MasterLabel: 'Closed Won', IsClosed: true, IsWon: true, SortOrder: 9 },
  { attributes: { type: 'OpportunityStage' }, ApiName: 'Prospecting', MasterLabel: 'Prospecting', IsClosed: false, IsWon: false, SortOrder: 1 },
  { attributes: { type: 'OpportunityStage' }, ApiName: 'Closed Lost', MasterLabel: 'Closed Lost', IsClosed: true, IsWon: false, SortOrder: 10 },
];

/** The SELECT list of a SOQL text. */
const selectOf = (q: string): string[] => /^SELECT (.+?) FROM /.exec(q)![1]!.split(', ');

describe('identity, describe, schema, owners', () => {
  it('verifyCredentials reads userinfo and answers the 18-char org id; OAuth calls are not metered', async () => {
    const { adapter, gate } = adapterWith({ budget: { beforeCall: async () => Promise.reject(new Error('metered')), observe: () => undefined } });
    salesforce()
      .scope.get('/services/oauth2/userinfo')
      .matchHeader('authorization', 'Bearer token-1')
      .reply(200, { sub: `${LOGIN}/id/${ORG_ID}/${sfId('005', 1)}`, organization_id: ORG_ID.slice(0, 15), user_id: sfId('005', 1), preferred_username: 'integration@acme.test' });
    expect(await adapter.verifyCredentials()).toEqual({ accountId: ORG_ID });
    expect(gate.acquired).toEqual(['api']);
  });

  it('describe maps Salesforce field types to ours and record types to pipelines, each with the active stages in order', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    const rt = '0128d000000001XAAQ';
    scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe({ recordTypes: [{ id: rt, name: 'Partner Deal' }, { id: '0128d000000002XAAQ', name: 'Retired', active: false }] }));
    scope.get(QUERY).query(soql((q) => q.includes('FROM OpportunityStage WHERE IsActive = true'))).reply(200, queryBody(stageRows));
    const d = await adapter.describe();
    const f = (name: string) => d.opportunityFields.find((x) => x.name === name);
    expect(f('Amount')).toEqual({ name: 'Amount', label: 'Amount', type: 'number', readOnly: false, unique: false });
    expect(f('ExpectedRevenue')).toMatchObject({ type: 'number', readOnly: true });
    expect(f('IsWon')).toMatchObject({ type: 'boolean', readOnly: true });
    expect(f('CloseDate')).toMatchObject({ type: 'date' });
    expect(f('LastModifiedDate')).toMatchObject({ type: 'datetime', readOnly: true });
    expect(f('AccountId')).toMatchObject({ type: 'reference' });
    expect(f('Dealreg_Registration_Id__c')).toMatchObject({ type: 'string', unique: true });
    expect(f('StageName')).toMatchObject({ type: 'enumeration', options: [{ value: 'Prospecting', label: 'Prospecting' }, { value: 'Closed Won', label: 'Closed Won' }] });
    expect(d.pipelines.map((p) => [p.id, p.label])).toEqual([
      ['default', 'Default'],
      [rt, 'Partner Deal'],
    ]);
    expect(d.pipelines[1]!.stages).toEqual([
      { id: 'Prospecting', label: 'Prospecting', isClosed: false, isWon: false, order: 1 },
      { id: 'Closed Won', label: 'Closed Won', isClosed: true, isWon: true, order: 9 },
      { id: 'Closed Lost', label: 'Closed Lost', isClosed: true, isWon: false, order: 10 },
    ]);
  });

  it('ensureSchema creates nothing and reports the dealreg fields the org lacks (or has with the wrong type)', async () => {
    const { adapter, gate } = adapterWith();
    const dealreg = DEALREG_FIELDS.filter((x) => x.name !== 'Dealreg_Verdict__c' && x.name !== 'Dealreg_Partner_Tier__c').map((x) => (x.name === 'Dealreg_Protection_End__c' ? { ...x, type: 'datetime' } : x));
    salesforce().scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe({ dealreg }));
    expect(await adapter.ensureSchema()).toEqual({
      created: [],
      present: ['Dealreg_Registration_Id__c', 'Dealreg_Partner__c', 'Dealreg_Status__c'],
      missing: ['Dealreg_Partner_Tier__c', 'Dealreg_Protection_End__c', 'Dealreg_Verdict__c'],
    });
    expect(gate.acquired).toHaveLength(1);
  });

  it('a registration id field that is not an External ID is missing: dealreg cannot upsert by it', async () => {
    const { adapter } = adapterWith();
    const dealreg = DEALREG_FIELDS.map((x) => (x.name === 'Dealreg_Registration_Id__c' ? { ...x, externalId: false } : x));
    salesforce().scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe({ dealreg }));
    expect((await adapter.ensureSchema()).missing).toEqual(['Dealreg_Registration_Id__c']);
  });

  it('listOwners pages through active users; teams are the role and the user type', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    const next = `${API}/query/01g8d000000002-2000`;
    const user = (n: number, extra: Record<string, unknown>) => ({ attributes: { type: 'User' }, Id: sfId('005', n), Name: `User ${n}`, Email: `u${n}@acme.test`, UserRoleId: null, UserType: 'Standard', ...extra });
    scope.get(QUERY).query(soql((q) => q === 'SELECT Id, Name, Email, UserRoleId, UserType FROM User WHERE IsActive = true ORDER BY Id')).reply(200, queryBody([user(1, { UserRoleId: sfId('00E', 1) })], next, 2));
    scope.get(next).reply(200, queryBody([user(2, { UserType: 'PowerPartner', Email: null })]));
    expect(await adapter.listOwners()).toEqual([
      { id: sfId('005', 1), userId: sfId('005', 1), name: 'User 1', email: 'u1@acme.test', teamIds: [`role:${sfId('00E', 1)}`, 'userType:Standard'] },
      { id: sfId('005', 2), userId: sfId('005', 2), name: 'User 2', email: null, teamIds: ['userType:PowerPartner'] },
    ]);
  });
});

describe('reading opportunities and accounts by id', () => {
  it('selects what our shape needs plus the mapped fields the org has; a field it lacks reads as null', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    const rt = '0128d000000001XAAQ';
    scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe({ recordTypes: [{ id: rt, name: 'Partner Deal' }] }));
    let q = '';
    const a = sfId('006', 1);
    const b = sfId('006', 2);
    scope
      .get(QUERY)
      .query((query) => {
        q = String(query.q);
        return true;
      })
      .reply(200, queryBody([opportunityRow(a, { RecordTypeId: rt, Amount: 1250.5, Dealreg_Status__c: 'approved', NextStep: null }), opportunityRow(b, { RecordTypeId: null, Dealreg_Registration_Id__c: null, AccountId: null })]));
    const read = await adapter.readOpportunities([a, b, a, sfId('006', 3).slice(0, 15)], ['Dealreg_Status__c', 'amount', 'NextStep', 'Gone__c', 'Account.Name']);
    expect(selectOf(q)).toEqual([
      'Id', 'Name', 'Amount', 'CloseDate', 'StageName', 'IsClosed', 'IsWon', 'OwnerId', 'AccountId', 'LastModifiedDate', 'SystemModstamp',
      'Dealreg_Registration_Id__c', 'RecordTypeId', 'Dealreg_Status__c', 'NextStep',
    ]);
    expect(q).toContain(`WHERE Id IN ('${a}','${b}','${sfId('006', 3)}')`);
    expect(read.get(a)).toEqual({
      externalId: a,
      registrationId: `reg-${a.slice(-4)}`,
      name: `Opportunity ${a}`,
      amount: 1250.5,
      currency: null,
      closeDate: '2026-12-31',
      pipelineId: rt,
      stageId: 'Prospecting',
      isClosed: false,
      isWon: false,
      ownerId: sfId('005', 1),
      accountExternalIds: [sfId('001', 1)],
      fields: { Dealreg_Status__c: 'approved', amount: '1250.5', NextStep: null, Gone__c: null, 'Account.Name': null },
      updatedAt: '2026-11-20T10:00:00.000Z',
      mergedIds: [],
    });
    expect(read.get(b)).toMatchObject({ pipelineId: 'default', registrationId: null, accountExternalIds: [] });
    // A deleted (or never existing) id is simply missing.
    expect([...read.keys()]).toEqual([a, b]);
  });

  it('describes once per adapter: the second read costs one call', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = salesforce();
    scope.get(DESCRIBE_PATH).once().reply(200, opportunityDescribe());
    scope.get(QUERY).query(true).times(2).reply(200, queryBody([]));
    await adapter.readOpportunities([sfId('006', 1)], []);
    await adapter.readOpportunities([sfId('006', 2)], []);
    expect(gate.acquired).toHaveLength(3);
  });

  it('in an org without the dealreg fields, reads leave the registration id out of the query', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe({ dealreg: [] }));
    let q = '';
    scope
      .get(QUERY)
      .query((query) => {
        q = String(query.q);
        return true;
      })
      .reply(200, queryBody([{ ...opportunityRow(sfId('006', 1)), Dealreg_Registration_Id__c: undefined }]));
    const read = await adapter.readOpportunities([sfId('006', 1)], ['Dealreg_Status__c']);
    expect(q).not.toContain('Dealreg_');
    expect(read.get(sfId('006', 1))).toMatchObject({ registrationId: null, fields: { Dealreg_Status__c: null } });
  });

  it('refuses what is not an id, and more than 200 ids, before calling', async () => {
    const { adapter } = adapterWith();
    const { requests } = salesforce();
    await expect(adapter.readOpportunities(["x') OR Name != ('"], [])).rejects.toMatchObject({ code: 'INVALID', crmCode: 'MALFORMED_ID' });
    await expect(adapter.readAccounts(Array.from({ length: 201 }, (_, i) => sfId('001', i)))).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BATCH_TOO_LARGE' });
    expect(requests()).toBe(0);
  });

  it('reads accounts with their registrable domain (free mail and junk are not company domains) and customer status', async () => {
    const { adapter } = adapterWith();
    const ids = [1, 2, 3].map((n) => sfId('001', n));
    salesforce()
      .scope.get(QUERY)
      .query(soql((q) => q.startsWith('SELECT Id, Name, Website, BillingCountry, OwnerId, Type, SystemModstamp FROM Account WHERE Id IN')))
      .reply(200, queryBody([accountRow(ids[0]!, { Type: 'Customer - Channel' }), accountRow(ids[1]!, { Website: 'gmail.com', BillingCountry: null }), accountRow(ids[2]!, { Website: 'not a website', OwnerId: null })]));
    const read = await adapter.readAccounts(ids);
    expect(read.get(ids[0]!)).toEqual({ externalId: ids[0], name: `Account ${ids[0]}`, domains: ['acme.co.uk'], country: 'United Kingdom', ownerId: sfId('005', 1), isCustomer: true, updatedAt: '2026-11-20T10:00:00.000Z', mergedIds: [] });
    expect(read.get(ids[1]!)).toMatchObject({ domains: [], country: null, isCustomer: false });
    expect(read.get(ids[2]!)).toMatchObject({ domains: [], ownerId: null });
  });
});

describe('paging', () => {
  it('listAccounts follows nextRecordsUrl through an opaque cursor, then ends', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    const next = `${API}/query/01g8d000000003-2000`;
    scope.get(QUERY).query(soql((q) => q.endsWith('FROM Account ORDER BY Id'))).reply(200, queryBody([accountRow(sfId('001', 1)), accountRow(sfId('001', 2))], next, 3));
    scope.get(next).reply(200, queryBody([accountRow(sfId('001', 3))]));
    const first = await adapter.listAccounts(null);
    expect(first.records.map((r) => r.externalId)).toEqual([sfId('001', 1), sfId('001', 2)]);
    expect(first.next).not.toBeNull();
    expect(first.next).not.toContain('/services/');
    const second = await adapter.listAccounts(first.next);
    expect(second).toMatchObject({ next: null, records: [{ externalId: sfId('001', 3) }] });
  });

  it('an expired query locator restarts the query after the last id seen', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    const next = `${API}/query/01g8d000000004-2000`;
    scope.get(QUERY).query(soql((q) => q.endsWith('FROM Account ORDER BY Id'))).reply(200, queryBody([accountRow(sfId('001', 1)), accountRow(sfId('001', 2))], next, 3));
    scope.get(next).reply(400, sfError('INVALID_QUERY_LOCATOR', 'invalid query locator'));
    scope.get(QUERY).query(soql((q) => q.endsWith(`FROM Account WHERE Id > '${sfId('001', 2)}' ORDER BY Id`))).reply(200, queryBody([accountRow(sfId('001', 3))]));
    const first = await adapter.listAccounts(null);
    const second = await adapter.listAccounts(first.next);
    expect(second).toMatchObject({ next: null, records: [{ externalId: sfId('001', 3) }] });
    expect(scope.isDone()).toBe(true);
  });

  it('a cursor that is not ours is INVALID, not a query', async () => {
    const { adapter } = adapterWith();
    const { requests } = salesforce();
    await expect(adapter.listAccounts(Buffer.from(JSON.stringify({ next: 'https://evil.test/x', after: sfId('001', 1) })).toString('base64url'))).rejects.toMatchObject({ code: 'INVALID', crmCode: 'INVALID_CURSOR' });
    expect(requests()).toBe(0);
  });

  it('listOpportunities pages the same way, with the mapped fields', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe());
    scope.get(QUERY).query(soql((q) => q.includes('Dealreg_Status__c FROM Opportunity ORDER BY Id'))).reply(200, queryBody([opportunityRow(sfId('006', 1), { Dealreg_Status__c: 'won' })]));
    expect(await adapter.listOpportunities(null, ['Dealreg_Status__c'])).toMatchObject({ next: null, records: [{ externalId: sfId('006', 1), fields: { Dealreg_Status__c: 'won' } }] });
  });
});

describe('changed since: SystemModstamp has whole seconds', () => {
  const at = (s: number) => `2026-11-20T10:00:${String(s).padStart(2, '0')}.000+0000`;

  it('a page that is not full: oldest first, newestAt the last stamp, nothing more', async () => {
    const { adapter } = adapterWith();
    let q = '';
    salesforce()
      .scope.get(QUERY)
      .query((query) => {
        q = String(query.q);
        return true;
      })
      .reply(200, queryBody([accountRow(sfId('001', 1), { SystemModstamp: at(1) }), accountRow(sfId('001', 2), { SystemModstamp: at(2) })]));
    const r = await adapter.accountsChangedSince('2026-11-20T10:00:00.250Z', 10);
    // The instant is rounded UP to a second: SystemModstamp >= 10:00:01 is exactly ">= 10:00:00.250".
    expect(q).toBe(`SELECT Id, Name, Website, BillingCountry, OwnerId, Type, SystemModstamp FROM Account WHERE SystemModstamp >= 2026-11-20T10:00:01Z ORDER BY SystemModstamp, Id LIMIT 10`);
    expect(r).toMatchObject({ newestAt: '2026-11-20T10:00:02.000Z', more: false });
    expect(r.records).toHaveLength(2);
  });

  it('a full page ending inside a crowded second also reads the rest of that second (paged), and newestAt moves past it', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.get(DESCRIBE_PATH).reply(200, opportunityDescribe());
    const T = '2026-11-20T10:00:05Z';
    scope
      .get(QUERY)
      .query(soql((q) => q.includes('WHERE SystemModstamp >= 2026-11-20T10:00:00Z ORDER BY SystemModstamp, Id LIMIT 3')))
      .reply(200, queryBody([opportunityRow(sfId('006', 1), { SystemModstamp: at(4) }), opportunityRow(sfId('006', 2), { SystemModstamp: at(5) }), opportunityRow(sfId('006', 3), { SystemModstamp: at(5) })]));
    const next = `${API}/query/01g8d000000005-2000`;
    scope
      .get(QUERY)
      .query(soql((q) => q.includes(`WHERE SystemModstamp = ${T} AND Id > '${sfId('006', 3)}' ORDER BY Id`)))
      .reply(200, queryBody([opportunityRow(sfId('006', 4), { SystemModstamp: at(5) })], next, 2));
    scope.get(next).reply(200, queryBody([opportunityRow(sfId('006', 5), { SystemModstamp: at(5) })]));
    const r = await adapter.opportunitiesChangedSince('2026-11-20T10:00:00.000Z', 3, []);
    expect(r.records.map((o) => o.externalId)).toEqual([1, 2, 3, 4, 5].map((n) => sfId('006', n)));
    expect(r).toMatchObject({ newestAt: '2026-11-20T10:00:05.001Z', more: true });
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a since that is not a timestamp and a limit beyond one SOQL page', async () => {
    const { adapter } = adapterWith();
    await expect(adapter.accountsChangedSince('yesterday', 10)).rejects.toMatchObject({ code: 'INVALID', crmCode: 'INVALID_CURSOR' });
    await expect(adapter.accountsChangedSince('2026-11-20T10:00:00Z', 2001)).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BATCH_TOO_LARGE' });
  });
});

describe('revoke', () => {
  it('posts the refresh token to the login host, without a bearer token', async () => {
    const { adapter } = adapterWith({ refreshToken: async () => 'refresh-1' });
    const scope = nock(LOGIN)
      .post('/services/oauth2/revoke', 'token=refresh-1')
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .reply(function () {
        return [this.req.headers.authorization === undefined ? 200 : 500, ''];
      });
    await adapter.revoke();
    expect(scope.isDone()).toBe(true);
  });

  it('an already revoked token is not an error; a refused client is AUTH; no refresh token means no call', async () => {
    const { adapter } = adapterWith({ refreshToken: async () => 'refresh-1' });
    const scope = nock(LOGIN);
    scope.post('/services/oauth2/revoke').reply(400, { error: 'unsupported_token_type', error_description: 'this token type is not supported' });
    await adapter.revoke();
    scope.post('/services/oauth2/revoke').reply(400, { error: 'invalid_client', error_description: 'invalid client credentials' });
    await expect(adapter.revoke()).rejects.toMatchObject({ code: 'AUTH', crmCode: 'invalid_client' });
    const none = adapterWith({ refreshToken: async () => null });
    await none.adapter.revoke();
    expect(none.gate.acquired).toEqual([]);
  });
});
