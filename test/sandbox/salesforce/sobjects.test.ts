// sObject rows, describe and Partner semantics, driven with jsforce 3.10.16.
import { failure, ID18, useSalesforceSandbox } from './sf-test-kit';

const kit = useSalesforceSandbox();

async function account(conn: ReturnType<typeof kit.connect>, name = 'Acme'): Promise<string> {
  const r = await conn.sobject('Account').create({ Name: name, Website: `https://${name.toLowerCase()}.com`, Type: 'Prospect' });
  return (r as { id: string }).id;
}

describe('sObject rows', () => {
  test('create, read, update and delete an Account with 18-char ids and standard fields maintained', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const created = (await conn.sobject('Account').create({ Name: 'Acme', Website: 'https://acme.com', BillingCountry: 'DE' })) as { id: string; success: boolean; errors: unknown[] };
    expect(created).toEqual({ id: expect.stringMatching(ID18), success: true, errors: [] });
    expect(created.id.startsWith('001')).toBe(true);

    const row = (await conn.sobject('Account').retrieve(created.id)) as Record<string, any>;
    expect(row.attributes).toEqual({ type: 'Account', url: `/services/data/v66.0/sobjects/Account/${created.id}` });
    expect(row).toMatchObject({ Id: created.id, Name: 'Acme', Website: 'https://acme.com', BillingCountry: 'DE', IsDeleted: false, OwnerId: org.integrationUserId, CreatedById: org.integrationUserId });
    expect(row.SystemModstamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/);

    await conn.sobject('Account').update({ Id: created.id, Industry: 'Technology' });
    const some = (await conn.request(`/services/data/v66.0/sobjects/Account/${created.id}?fields=Name,Industry`)) as Record<string, unknown>;
    expect(some).toEqual({ attributes: expect.any(Object), Name: 'Acme', Industry: 'Technology' });

    await conn.sobject('Account').destroy(created.id);
    const gone = await failure(conn.sobject('Account').retrieve(created.id));
    expect(gone.errorCode).toBe('NOT_FOUND');
  });

  test('the key prefixes are Salesforce’s: 001 Account, 006 Opportunity, 005 User, 00I Partner', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const acc = await account(conn);
    const partnerAcc = await account(conn, 'Reseller');
    const opp = (await conn.sobject('Opportunity').create({ Name: 'Deal', StageName: 'Prospecting', CloseDate: '2026-06-30', AccountId: acc })) as { id: string };
    const partner = (await conn.sobject('Partner').create({ OpportunityId: opp.id, AccountToId: partnerAcc, Role: 'VAR/Reseller', IsPrimary: true })) as { id: string };
    expect(acc.slice(0, 3)).toBe('001');
    expect(opp.id.slice(0, 3)).toBe('006');
    expect(org.integrationUserId.slice(0, 3)).toBe('005');
    expect(partner.id.slice(0, 3)).toBe('00I');
  });

  test('an Opportunity derives IsClosed, IsWon, Probability and ForecastCategory from its stage and keeps them read-only', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const opp = (await conn.sobject('Opportunity').create({ Name: 'Deal', StageName: 'Negotiation/Review', CloseDate: '2026-06-30', Amount: 5000 })) as { id: string };
    let row = (await conn.sobject('Opportunity').retrieve(opp.id)) as Record<string, unknown>;
    expect(row).toMatchObject({ IsClosed: false, IsWon: false, Probability: 90, ForecastCategoryName: 'Pipeline', ExpectedRevenue: 4500 });

    await conn.sobject('Opportunity').update({ Id: opp.id, StageName: 'Closed Won' });
    row = (await conn.sobject('Opportunity').retrieve(opp.id)) as Record<string, unknown>;
    expect(row).toMatchObject({ IsClosed: true, IsWon: true, Probability: 100, ForecastCategoryName: 'Closed', ForecastCategory: 'Closed' });

    const readOnly = await failure(conn.sobject('Opportunity').update({ Id: opp.id, IsWon: false } as never));
    expect(readOnly.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(readOnly.data.fields).toEqual(['IsWon']);
  });

  test('errors come back as Salesforce’s [{ message, errorCode, fields }] bodies', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const acc = await account(conn);

    const missing = await failure(conn.sobject('Opportunity').create({ Name: 'No close date', StageName: 'Prospecting' }));
    expect(missing.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(missing.data).toEqual({ message: 'Required fields are missing: [CloseDate]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['CloseDate'] });

    const unknown = await failure(conn.sobject('Account').create({ Name: 'X', Foo__c: 1 }));
    expect(unknown.errorCode).toBe('INVALID_FIELD');
    expect(unknown.message).toBe("No such column 'Foo__c' on sobject of type Account");

    const badStage = await failure(conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Imaginary', CloseDate: '2026-01-01' }));
    expect(badStage.errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(badStage.data.fields).toEqual(['StageName']);

    const badType = await failure(conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Prospecting', CloseDate: '2026-01-01', Amount: 'lots' }));
    expect(badType.errorCode).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(badType.data.fields).toEqual(['Amount']);

    const badRef = await failure(conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Prospecting', CloseDate: '2026-01-01', AccountId: org.integrationUserId }));
    expect(badRef.errorCode).toBe('FIELD_INTEGRITY_EXCEPTION');

    const tooLong = await failure(conn.sobject('Opportunity').create({ Name: 'x'.repeat(121), StageName: 'Prospecting', CloseDate: '2026-01-01' }));
    expect(tooLong.errorCode).toBe('STRING_TOO_LONG');

    await conn.sobject('Opportunity').create({ Name: 'A', StageName: 'Prospecting', CloseDate: '2026-01-01', AccountId: acc, Dealreg_Registration_Id__c: 'reg-1' });
    const dup = await failure(conn.sobject('Opportunity').create({ Name: 'B', StageName: 'Prospecting', CloseDate: '2026-01-01', Dealreg_Registration_Id__c: 'REG-1' }));
    expect(dup.errorCode).toBe('DUPLICATE_VALUE');
    expect(dup.message).toMatch(/^duplicate value found: Dealreg_Registration_Id__c duplicates value on record with id: 006/);

    const notFound = await failure(conn.sobject('Account').retrieve('001000000000000AAA'));
    expect(notFound.errorCode).toBe('NOT_FOUND');
    const notAnId = await failure(conn.sobject('Account').retrieve('nope'));
    expect(notAnId.message).toBe('Provided external ID field does not exist or is not accessible: nope');
  });

  test('a record owned by an inactive user cannot be created (INACTIVE_OWNER_OR_USER)', async () => {
    const org = await kit.createOrg();
    const seeded = await kit.seed(org, { users: [{ Username: `gone-${org.orgId}@example.com`, LastName: 'Gone', IsActive: false }] });
    const conn = kit.connect(org);
    const err = await failure(conn.sobject('Account').create({ Name: 'Orphan', OwnerId: seeded.users[0] }));
    expect(err.errorCode).toBe('INACTIVE_OWNER_OR_USER');
  });

  test('upsert by Dealreg_Registration_Id__c answers 201 with created:true, then 200 with created:false', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const first = await conn.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'b3c1f2de-0000-4000-8000-000000000001', Name: 'Reg 1', StageName: 'Prospecting', CloseDate: '2026-09-30' } as never, 'Dealreg_Registration_Id__c');
    expect(first).toEqual({ id: expect.stringMatching(/^006/), success: true, errors: [], created: true });
    const second = await conn.sobject('Opportunity').upsert({ Dealreg_Registration_Id__c: 'b3c1f2de-0000-4000-8000-000000000001', Dealreg_Status__c: 'approved' } as never, 'Dealreg_Registration_Id__c');
    expect(second).toEqual({ id: (first as unknown as { id: string }).id, success: true, errors: [], created: false });

    const byExt = (await conn.request('/services/data/v66.0/sobjects/Opportunity/Dealreg_Registration_Id__c/b3c1f2de-0000-4000-8000-000000000001')) as Record<string, unknown>;
    expect(byExt).toMatchObject({ Id: (first as unknown as { id: string }).id, Dealreg_Status__c: 'approved', Name: 'Reg 1' });

    const notExternal = await failure(conn.sobject('Opportunity').upsert({ Name: 'x' } as never, 'Name'));
    expect(notExternal.errorCode).toBe('INVALID_FIELD');
  });

  test('creating a Partner on an Opportunity makes a read-only OpportunityPartner row, one primary per opportunity', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const customer = await account(conn, 'Customer');
    const resellerA = await account(conn, 'ResellerA');
    const resellerB = await account(conn, 'ResellerB');
    const opp = (await conn.sobject('Opportunity').create({ Name: 'Deal', StageName: 'Prospecting', CloseDate: '2026-06-30', AccountId: customer })) as { id: string };

    const p1 = (await conn.sobject('Partner').create({ OpportunityId: opp.id, AccountToId: resellerA, Role: 'VAR/Reseller', IsPrimary: true })) as { id: string };
    await conn.sobject('Partner').create({ OpportunityId: opp.id, AccountToId: resellerB, Role: 'Distributor', IsPrimary: true });

    const rows = await conn.query<{ AccountToId: string; Role: string; IsPrimary: boolean; AccountTo: { Name: string } }>(
      `SELECT Id, AccountToId, Role, IsPrimary, AccountTo.Name FROM OpportunityPartner WHERE OpportunityId = '${opp.id}' ORDER BY Role`,
    );
    expect(rows.records.map((r) => [r.AccountTo.Name, r.Role, r.IsPrimary])).toEqual([
      ['ResellerB', 'Distributor', true],
      ['ResellerA', 'VAR/Reseller', false],
    ]);

    const insertView = await failure(conn.sobject('OpportunityPartner').create({ OpportunityId: opp.id, AccountToId: resellerA }));
    expect(insertView.errorCode).toBe('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY');
    const updatePartner = await failure(conn.sobject('Partner').update({ Id: p1.id, Role: 'Agency' }));
    expect(updatePartner.errorCode).toBe('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY');

    await conn.sobject('Partner').destroy(p1.id);
    const left = await conn.query(`SELECT Id FROM OpportunityPartner WHERE OpportunityId = '${opp.id}'`);
    expect(left.totalSize).toBe(1);
  });

  test('deleting an Account cascades to its opportunities; queryAll still sees them with IsDeleted', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const acc = await account(conn);
    const opp = (await conn.sobject('Opportunity').create({ Name: 'Deal', StageName: 'Prospecting', CloseDate: '2026-06-30', AccountId: acc })) as { id: string };
    await conn.sobject('Account').destroy(acc);
    const live = await conn.query(`SELECT Id FROM Opportunity WHERE Id = '${opp.id}'`);
    expect(live.totalSize).toBe(0);
    const all = await conn.query<{ IsDeleted: boolean }>(`SELECT Id, IsDeleted FROM Opportunity WHERE Id = '${opp.id}'`).scanAll(true);
    expect(all.records[0]?.IsDeleted).toBe(true);
    const again = await failure(conn.sobject('Opportunity').update({ Id: opp.id, Name: 'x' }));
    expect(again.errorCode).toBe('ENTITY_IS_DELETED');
  });
  test('updated and deleted since list the ids changed in a window, for a catch-up sweep', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const start = new Date(Date.now() - 60_000).toISOString();
    const a = await account(conn, 'Kept');
    const b = await account(conn, 'Removed');
    await conn.sobject('Account').destroy(b);
    const end = new Date(Date.now() + 60_000).toISOString();
    const updated = await conn.sobject('Account').updated(start, end);
    expect(updated.ids).toEqual([a]);
    const deleted = await conn.sobject('Account').deleted(start, end);
    expect(deleted.deletedRecords.map((r) => r.id)).toEqual([b]);
  });
});

describe('describe', () => {
  test('describe reports fields with name, type, label, externalId, unique, picklistValues, updateable, nillable and recordTypeInfos', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const d = await conn.describe('Opportunity');
    expect(d.name).toBe('Opportunity');
    expect(d.keyPrefix).toBe('006');
    const byName = new Map(d.fields.map((f) => [f.name, f]));
    expect(byName.get('Dealreg_Registration_Id__c')).toMatchObject({ type: 'string', length: 36, externalId: true, unique: true, custom: true, nillable: true, updateable: true });
    expect(byName.get('Dealreg_Status__c')!.picklistValues!.map((p: { value: string }) => p.value)).toEqual(['pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn']);
    expect(byName.get('Dealreg_Protection_End__c')).toMatchObject({ type: 'date' });
    expect(byName.get('IsWon')).toMatchObject({ type: 'boolean', updateable: false, createable: false });
    expect(byName.get('CloseDate')).toMatchObject({ type: 'date', nillable: false });
    expect(byName.get('StageName')!.picklistValues!.map((p: { value: string }) => p.value)).toEqual([
      'Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers', 'Perception Analysis',
      'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost',
    ]);
    expect(byName.get('OwnerId')).toMatchObject({ type: 'reference', referenceTo: ['User'], relationshipName: 'Owner' });
    expect(d.recordTypeInfos).toEqual([expect.objectContaining({ master: true, recordTypeId: '012000000000000AAA', defaultRecordTypeMapping: true })]);

    const stages = await conn.query<{ ApiName: string; IsClosed: boolean; IsWon: boolean }>('SELECT ApiName, IsClosed, IsWon, DefaultProbability FROM OpportunityStage WHERE IsClosed = true ORDER BY SortOrder');
    expect(stages.records.map((s) => [s.ApiName, s.IsWon])).toEqual([['Closed Won', true], ['Closed Lost', false]]);
  });

  test('an org created without the dealreg fields omits them from describe and answers INVALID_FIELD when they are used', async () => {
    const org = await kit.createOrg({ withDealregFields: false });
    const conn = kit.connect(org);
    const d = await conn.describe('Opportunity');
    expect(d.fields.filter((f) => f.name.startsWith('Dealreg_'))).toEqual([]);
    const write = await failure(conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Prospecting', CloseDate: '2026-01-01', Dealreg_Status__c: 'approved' }));
    expect(write.errorCode).toBe('INVALID_FIELD');
    const read = await failure(conn.query('SELECT Dealreg_Registration_Id__c FROM Opportunity'));
    expect(read.errorCode).toBe('INVALID_FIELD');
    const upsert = await failure(conn.sobject('Opportunity').upsert([{ Dealreg_Registration_Id__c: 'x', Name: 'D' }] as never, 'Dealreg_Registration_Id__c'));
    expect(upsert.errorCode).toBe('INVALID_FIELD');
  });

  test('record types configured on an org appear in recordTypeInfos and as RecordTypeId', async () => {
    const org = await kit.createOrg({ recordTypes: { Opportunity: [{ developerName: 'Partner_Deal', name: 'Partner Deal', isDefault: true }, { developerName: 'Direct' }] } });
    const conn = kit.connect(org);
    const d = await conn.describe('Opportunity');
    expect(d.recordTypeInfos.map((r) => [(r as unknown as { developerName: string }).developerName, r.defaultRecordTypeMapping, r.master])).toEqual([
      ['Partner_Deal', true, false],
      ['Direct', false, false],
      ['Master', false, true],
    ]);
    const opp = (await conn.sobject('Opportunity').create({ Name: 'D', StageName: 'Prospecting', CloseDate: '2026-01-01' })) as { id: string };
    const row = (await conn.sobject('Opportunity').retrieve(opp.id)) as Record<string, unknown>;
    expect(row.RecordTypeId).toBe(d.recordTypeInfos[0]!.recordTypeId);
  });

  test('the global describe lists the served objects', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const g = await conn.describeGlobal();
    expect(g.sobjects.map((s) => s.name).sort()).toEqual(['Account', 'Opportunity', 'OpportunityPartner', 'OpportunityStage', 'Partner', 'User']);
    expect(g.sobjects.find((s) => s.name === 'Account')).toMatchObject({ keyPrefix: '001', createable: true, queryable: true });
  });

  test('an unknown sObject is NOT_FOUND and a version below 50.0 is not served', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    expect((await failure(conn.describe('Lead'))).errorCode).toBe('NOT_FOUND');
    const old = kit.connect(org, { version: '49.0' });
    expect((await failure(old.describe('Account'))).errorCode).toBe('NOT_FOUND');
  });
});
