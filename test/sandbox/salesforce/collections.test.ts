// sObject Collections through jsforce: create, update, upsert by external id, retrieve, delete, the
// 200-record limit, injected per-record errors and allOrNone.
import { failure, useSalesforceSandbox } from './sf-test-kit';

const kit = useSalesforceSandbox();

const reg = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const opp = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Dealreg_Registration_Id__c: reg(i),
  Name: `Registration ${i}`,
  StageName: 'Prospecting',
  CloseDate: '2026-12-31',
  ...extra,
});

type Result = { id?: string | null; success: boolean; errors: Array<{ statusCode: string; message: string; fields: string[] }>; created?: boolean };

describe('sObject Collections', () => {
  test('upserting 200 opportunities by external id creates them, and a second call updates the same records', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const records = Array.from({ length: 200 }, (_, i) => opp(i));
    const first = (await conn.sobject('Opportunity').upsert(records as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(first).toHaveLength(200);
    expect(first.every((r) => r.success && r.created === true && /^006/.test(r.id!))).toBe(true);

    const again = (await conn.sobject('Opportunity').upsert(records.map((r) => ({ ...r, Dealreg_Status__c: 'approved' })) as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(again.every((r) => r.success && r.created === false)).toBe(true);
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id));
    const count = await conn.query("SELECT COUNT() FROM Opportunity WHERE Dealreg_Status__c = 'approved'");
    expect(count.totalSize).toBe(200);
  });

  test('more than 200 records in one call is refused with EXCEEDED_ID_LIMIT', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const records = Array.from({ length: 201 }, (_, i) => opp(i));
    const err = await failure(conn.sobject('Opportunity').upsert(records as never, 'Dealreg_Registration_Id__c'));
    expect(err.errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect(err.message).toBe('record limit reached. cannot submit more than 200 records into this call');
    const created = await failure(conn.sobject('Account').create(Array.from({ length: 201 }, (_, i) => ({ Name: `A${i}` }))));
    expect(created.errorCode).toBe('EXCEEDED_ID_LIMIT');
  });

  test('an injected UNABLE_TO_LOCK_ROW fails only the next record; the others are saved', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const injected = await kit.control('POST', '/_sandbox/record-faults', { orgId: org.orgId, errorCode: 'UNABLE_TO_LOCK_ROW', count: 1 });
    expect(injected.status).toBe(200);
    const results = (await conn.sobject('Opportunity').upsert([opp(1), opp(2), opp(3)] as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(results[0]).toEqual({ success: false, created: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record', fields: [] }] });
    expect(results.slice(1).map((r) => [r.success, r.created])).toEqual([[true, true], [true, true]]);
    const retried = (await conn.sobject('Opportunity').upsert([opp(1)] as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(retried[0]).toMatchObject({ success: true, created: true });
  });

  test('with allOrNone, one bad record rolls back the whole request', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const results = (await conn.sobject('Opportunity').upsert([opp(1), opp(2, { StageName: 'Nope' }), opp(3)] as never, 'Dealreg_Registration_Id__c', { allOrNone: true })) as Result[];
    expect(results[1]!.errors[0]!.statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    for (const i of [0, 2]) {
      expect(results[i]).toMatchObject({ success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] });
    }
    const count = await conn.query('SELECT COUNT() FROM Opportunity');
    expect(count.totalSize).toBe(0);

    const partial = (await conn.sobject('Opportunity').upsert([opp(1), opp(2, { StageName: 'Nope' })] as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(partial.map((r) => r.success)).toEqual([true, false]);
  });

  test('the same external id twice in one request fails both records with DUPLICATE_EXTERNAL_ID', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const results = (await conn.sobject('Opportunity').upsert([opp(7), opp(7), opp(8)] as never, 'Dealreg_Registration_Id__c')) as Result[];
    expect(results.map((r) => (r.success ? 'ok' : r.errors[0]!.statusCode))).toEqual(['DUPLICATE_EXTERNAL_ID', 'DUPLICATE_EXTERNAL_ID', 'ok']);
  });

  test('collection create, update, retrieve and delete, with per-record errors', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const created = (await conn.sobject('Account').create([{ Name: 'A' }, { Name: 'B' }, { Website: 'https://noname.example' }])) as Result[];
    expect(created.map((r) => r.success)).toEqual([true, true, false]);
    expect(created[2]!.errors[0]).toEqual({ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] });
    const [a, b] = [created[0]!.id!, created[1]!.id!];

    const updated = (await conn.sobject('Account').update([{ Id: a, Type: 'Customer - Direct' }, { Id: b, Type: 'Prospect' }, { Id: '001000000000000AAA', Type: 'Prospect' }])) as Result[];
    expect(updated.map((r) => r.success)).toEqual([true, true, false]);
    expect(updated[2]).toMatchObject({ id: '001000000000000AAA', errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY' }] });

    const fetched = (await conn.sobject('Account').retrieve([a, b, '001000000000000AAA'], { fields: ['Name', 'Type'] })) as Array<Record<string, unknown> | null>;
    expect(fetched.map((r) => r && [r.Name, r.Type])).toEqual([['A', 'Customer - Direct'], ['B', 'Prospect'], null]);
    const viaGet = (await conn.request(`/services/data/v66.0/composite/sobjects/Account?ids=${a},${b}&fields=Name`)) as Array<Record<string, unknown>>;
    expect(viaGet.map((r) => r.Name)).toEqual(['A', 'B']);

    const deleted = (await conn.sobject('Account').destroy([a, b])) as Result[];
    expect(deleted).toEqual([
      { id: a, success: true, errors: [] },
      { id: b, success: true, errors: [] },
    ]);
    const twice = (await conn.sobject('Account').destroy([a])) as Result[];
    expect(twice[0]).toMatchObject({ id: a, success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted' }] });
  });

  test('an unknown field fails the whole collection request with INVALID_FIELD', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    const err = await failure(conn.sobject('Account').create([{ Name: 'A' }, { Name: 'B', Nope__c: 1 }]));
    expect(err.errorCode).toBe('INVALID_FIELD');
    const count = await conn.query('SELECT COUNT() FROM Account');
    expect(count.totalSize).toBe(0);
  });
});
