// The SOQL subset through jsforce's query / queryMore / autoFetch, on seeded data and a pinned clock.
import { failure, useSalesforceSandbox, type TestOrg } from './sf-test-kit';

let clock = Date.parse('2026-03-15T12:00:00Z');
const kit = useSalesforceSandbox({ now: () => clock });

let org: TestOrg;
let conn: ReturnType<typeof kit.connect>;
let ids: { users: string[]; accounts: string[]; opportunities: string[] };

beforeAll(async () => {
  org = await kit.createOrg();
  conn = kit.connect(org);
  ids = await kit.seed(org, {
    users: [
      { _ref: 'rep', Username: `rep-${org.orgId}@acme-vendor.com`, FirstName: 'Rita', LastName: 'Rep', Email: 'rita@acme-vendor.com', Title: 'AE' },
      { _ref: 'partnerUser', Username: `pu-${org.orgId}@reseller.example`, LastName: 'Partner', Email: 'p@reseller.example', UserType: 'PowerPartner' },
    ],
    accounts: [
      { _ref: 'acme', Name: 'Acme Corp', Website: 'https://www.acme.com', Type: 'Customer - Direct', OwnerId: { $ref: 'rep' }, BillingCountry: 'DE' },
      { _ref: 'globex', Name: 'Globex', Website: 'globex.io', Type: 'Prospect', OwnerId: { $ref: 'partnerUser' } },
      { _ref: 'initech', Name: 'initech', Website: null, Type: 'Prospect' },
    ],
    opportunities: [
      { Name: 'Acme renewal', AccountId: { $ref: 'acme' }, StageName: 'Closed Won', CloseDate: '2026-01-31', Amount: 50000, OwnerId: { $ref: 'rep' }, SystemModstamp: '2026-01-31T10:00:00Z', CreatedDate: '2026-01-01T00:00:00Z', LastModifiedDate: '2026-01-31T10:00:00Z' },
      { Name: 'Acme expansion', AccountId: { $ref: 'acme' }, StageName: 'Negotiation/Review', CloseDate: '2026-04-30', Amount: 20000, SystemModstamp: '2026-03-14T09:00:00Z', LastModifiedDate: '2026-03-14T09:00:00Z' },
      { Name: 'Globex pilot', AccountId: { $ref: 'globex' }, StageName: 'Prospecting', CloseDate: '2026-06-30', Amount: null, SystemModstamp: '2026-03-15T11:59:59Z', LastModifiedDate: '2026-03-15T11:59:59Z' },
      { Name: 'Initech 100% deal', AccountId: { $ref: 'initech' }, StageName: 'Closed Lost', CloseDate: '2026-02-28', Amount: 1000, SystemModstamp: '2026-02-28T00:00:00Z', LastModifiedDate: '2026-02-28T00:00:00Z' },
    ],
  });
});

const names = (r: { records: Array<{ Name?: unknown }> }): unknown[] => r.records.map((x) => x.Name);

describe('SOQL', () => {
  test('one-level relationship fields come back as nested objects with attributes', async () => {
    const r = await conn.query<any>("SELECT Id, Name, Owner.Email, Owner.Name, Account.Website, Account.Type FROM Opportunity WHERE Name = 'Acme renewal'");
    expect(r.totalSize).toBe(1);
    expect(r.done).toBe(true);
    const rec = r.records[0];
    expect(rec.attributes).toEqual({ type: 'Opportunity', url: `/services/data/v66.0/sobjects/Opportunity/${rec.Id}` });
    expect(rec.Owner).toEqual({ attributes: { type: 'User', url: `/services/data/v66.0/sobjects/User/${ids.users[0]}` }, Email: 'rita@acme-vendor.com', Name: 'Rita Rep' });
    expect(rec.Account).toMatchObject({ Website: 'https://www.acme.com', Type: 'Customer - Direct' });
    const accountOwner = await conn.query<any>("SELECT Name, Owner.UserType FROM Account WHERE Owner.UserType = 'PowerPartner'");
    expect(accountOwner.records.map((x: any) => [x.Name, x.Owner.UserType])).toEqual([['Globex', 'PowerPartner']]);
  });

  test('COUNT() returns totalSize and no records', async () => {
    const r = await conn.query("SELECT COUNT() FROM Opportunity WHERE Account.Name = 'Acme Corp'");
    expect(r).toMatchObject({ totalSize: 2, done: true, records: [] });
  });

  test('WHERE supports AND, OR, NOT, parentheses, comparisons, IN, NOT IN, LIKE and NULL; strings compare case-insensitively', async () => {
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE (StageName = 'closed won' OR StageName = 'Closed Lost') AND Amount >= 1000 ORDER BY Name"))).toEqual(['Acme renewal', 'Initech 100% deal']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE NOT (IsClosed = true) ORDER BY Name"))).toEqual(['Acme expansion', 'Globex pilot']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE Amount > 1000 AND Amount < 50000"))).toEqual(['Acme expansion']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE Amount <= 1000 OR Amount = null ORDER BY Name"))).toEqual(['Globex pilot', 'Initech 100% deal']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE StageName IN ('Prospecting', 'Closed Lost') ORDER BY Name"))).toEqual(['Globex pilot', 'Initech 100% deal']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE StageName NOT IN ('Prospecting', 'Closed Lost') ORDER BY Name"))).toEqual(['Acme expansion', 'Acme renewal']);
    expect(names(await conn.query("SELECT Name FROM Account WHERE Website LIKE '%acme.com%'"))).toEqual(['Acme Corp']);
    expect(names(await conn.query("SELECT Name FROM Opportunity WHERE Name LIKE '%100\\%%'"))).toEqual(['Initech 100% deal']);
    expect(names(await conn.query("SELECT Name FROM Account WHERE Website = null"))).toEqual(['initech']);
    expect(names(await conn.query("SELECT Name FROM Account WHERE Website != null ORDER BY Name"))).toEqual(['Acme Corp', 'Globex']);
    expect(names(await conn.query("SELECT Name FROM Account WHERE Name = 'ACME CORP'"))).toEqual(['Acme Corp']);
    // As in SOQL, != also matches nulls.
    expect(names(await conn.query("SELECT Name FROM Account WHERE Website != 'globex.io' ORDER BY Name"))).toEqual(['Acme Corp', 'initech']);
  });

  test('datetime and date literals, date functions and SystemModstamp comparisons', async () => {
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE SystemModstamp > 2026-03-01T00:00:00Z ORDER BY SystemModstamp'))).toEqual(['Acme expansion', 'Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE SystemModstamp >= 2026-03-15T11:59:59.000+0000'))).toEqual(['Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE LastModifiedDate < 2026-02-28T00:00:01+00:00 ORDER BY Name'))).toEqual(['Acme renewal', 'Initech 100% deal']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE CloseDate >= 2026-04-01 ORDER BY CloseDate'))).toEqual(['Acme expansion', 'Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE SystemModstamp = LAST_N_DAYS:2 ORDER BY Name'))).toEqual(['Acme expansion', 'Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE SystemModstamp = TODAY'))).toEqual(['Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:60'))).toEqual(['Acme expansion']);
    const wrongType = await failure(conn.query("SELECT Name FROM Opportunity WHERE SystemModstamp > '2026-01-01'"));
    expect(wrongType.errorCode).toBe('INVALID_FIELD');
    expect(wrongType.message).toContain("value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes");
  });

  test('ORDER BY several fields with ASC / DESC and NULLS FIRST / LAST, LIMIT and OFFSET', async () => {
    expect(names(await conn.query('SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS LAST'))).toEqual(['Acme renewal', 'Acme expansion', 'Initech 100% deal', 'Globex pilot']);
    expect(names(await conn.query('SELECT Name FROM Opportunity ORDER BY Amount ASC'))).toEqual(['Globex pilot', 'Initech 100% deal', 'Acme expansion', 'Acme renewal']);
    expect(names(await conn.query('SELECT Name FROM Opportunity ORDER BY Account.Name DESC, Amount ASC NULLS LAST'))).toEqual(['Initech 100% deal', 'Globex pilot', 'Acme expansion', 'Acme renewal']);
    expect(names(await conn.query('SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1'))).toEqual(['Acme renewal', 'Globex pilot']);
  });

  test('a malformed query is 400 MALFORMED_QUERY, an unknown field INVALID_FIELD, an unknown object INVALID_TYPE', async () => {
    const malformed = await failure(conn.query('SELECT Id FROM Opportunity WHERE'));
    expect(malformed.errorCode).toBe('MALFORMED_QUERY');
    expect(malformed.message).toContain("unexpected token: '<EOF>'");
    const mixed = await failure(conn.query("SELECT Id FROM Opportunity WHERE Amount > 1 AND Name = 'x' OR Name = 'y'"));
    expect(mixed.errorCode).toBe('MALFORMED_QUERY');
    const field = await failure(conn.query('SELECT Id, Nope FROM Account'));
    expect(field.errorCode).toBe('INVALID_FIELD');
    expect(field.message).toContain("No such column 'Nope' on entity 'Account'");
    const rel = await failure(conn.query('SELECT Id, Boss.Name FROM Account'));
    expect(rel.message).toContain("Didn't understand relationship 'Boss' in field path");
    const type = await failure(conn.query('SELECT Id FROM Lead'));
    expect(type.errorCode).toBe('INVALID_TYPE');
    const offset = await failure(conn.query('SELECT Id FROM Account LIMIT 10 OFFSET 2001'));
    expect(offset.errorCode).toBe('NUMBER_OUTSIDE_VALID_RANGE');
  });
});

describe('SOQL paging', () => {
  let pagingOrg: TestOrg;
  let pconn: ReturnType<typeof kit.connect>;

  beforeAll(async () => {
    pagingOrg = await kit.createOrg();
    pconn = kit.connect(pagingOrg);
    await kit.seed(pagingOrg, { accounts: Array.from({ length: 4500 }, (_, i) => ({ Name: `Account ${String(i).padStart(4, '0')}` })) });
  });

  test('results beyond 2000 rows come in pages linked by nextRecordsUrl, followed with queryMore', async () => {
    const first = await pconn.query<{ Name: string }>('SELECT Id, Name FROM Account ORDER BY Name', { autoFetch: false });
    expect(first.totalSize).toBe(4500);
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(2000);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v66\.0\/query\/01g[A-Za-z0-9]{15}-2000$/);
    // On the wire the locator URL is relative, as Salesforce sends it (jsforce makes it absolute).
    const raw = (await pconn.request(`/services/data/v66.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`)) as { nextRecordsUrl: string };
    expect(raw.nextRecordsUrl).toMatch(/^\/services\/data\/v66\.0\/query\/01g[A-Za-z0-9]{15}-2000$/);
    const second = await pconn.queryMore<{ Name: string }>(first.nextRecordsUrl!);
    expect(second.records).toHaveLength(2000);
    expect(second.records[0]!.Name).toBe('Account 2000');
    const third = await pconn.queryMore<{ Name: string }>(second.nextRecordsUrl!);
    expect(third).toMatchObject({ done: true, totalSize: 4500 });
    expect(third.records).toHaveLength(500);
    expect(third.nextRecordsUrl).toBeUndefined();
  });

  test('autoFetch follows every page; Sforce-Query-Options batchSize makes smaller pages', async () => {
    const all = await pconn.query<{ Name: string }>('SELECT Name FROM Account', { autoFetch: true, maxFetch: 10000 });
    expect(all.records).toHaveLength(4500);
    expect(new Set(all.records.map((r) => r.Name)).size).toBe(4500);

    const small = await pconn.query('SELECT Name FROM Account', { autoFetch: false, headers: { 'Sforce-Query-Options': 'batchSize=500' } });
    expect(small.records).toHaveLength(500);
    expect(small.nextRecordsUrl).toMatch(/-500$/);
  });

  test('an unknown query locator is 400 INVALID_QUERY_LOCATOR', async () => {
    const err = await failure(pconn.queryMore('/services/data/v66.0/query/01g000000000000AAA-2000'));
    expect(err.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });
});

afterAll(() => {
  clock = Date.now();
});
