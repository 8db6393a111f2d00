// CRM search through the real SDK: every filter operator, OR groups, sorts, `after` paging, the
// 200-per-page and 10,000-result caps, free-text query, association filters and index lag.
import type { Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let hs: Client;
let portalId: number;
let companyIds: string[];
let dealIds: string[];

type Op = 'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'IN' | 'NOT_IN' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN' | 'NOT_CONTAINS_TOKEN';
interface F { propertyName: string; operator: Op; value?: string; values?: string[]; highValue?: string }

async function names(type: 'companies' | 'deals', filters: F[][], extra: Record<string, unknown> = {}): Promise<string[]> {
  const api = type === 'companies' ? hs.crm.companies.searchApi : hs.crm.deals.searchApi;
  const prop = type === 'companies' ? 'name' : 'dealname';
  const res = await api.doSearch({ filterGroups: filters.map((g) => ({ filters: g as never })), properties: [prop], limit: 200, ...extra } as never);
  return res.results.map((r) => r.properties[prop]!);
}

beforeAll(async () => {
  // unlimited search rate so this file can search freely; the limit itself is tested in limits.test.ts
  h = await startSandbox({ rateLimitsEnabled: false });
  const p = await h.createPortal();
  portalId = p.portalId;
  hs = h.client(p.accessToken);
  const seeded = await h.control<{ companies: string[]; deals: string[] }>('POST', `/_sandbox/portals/${portalId}/seed`, {
    companies: [
      { properties: { name: 'Acme GmbH', domain: 'acme.de', country: 'DE', numberofemployees: '50' } },
      { properties: { name: 'Acme Inc', domain: 'acme.com', country: 'US', numberofemployees: '500' } },
      { properties: { name: 'Globex Corporation', domain: 'globex.com', country: 'US', numberofemployees: '5000' } },
      { properties: { name: 'Initech', domain: 'initech.io', numberofemployees: '9' } },
      { properties: { name: 'Umbrella Group', domain: 'umbrella.co.uk', country: 'GB' } },
    ],
    deals: [
      { properties: { dealname: 'Acme renewal', amount: '1000', closedate: '2026-01-15T00:00:00Z', dealstage: 'qualifiedtobuy' }, companies: ['#0'] },
      { properties: { dealname: 'Acme upsell', amount: '2500', closedate: '2026-03-01T00:00:00Z', dealstage: 'closedwon' }, companies: ['#1'] },
      { properties: { dealname: 'Globex pilot', amount: '400', closedate: '2026-02-10T00:00:00Z', dealstage: 'closedlost' }, companies: ['#2'] },
      { properties: { dealname: 'Initech expansion', dealstage: 'contractsent' }, companies: ['#3', '#1'] },
    ],
  });
  companyIds = seeded.body.companies;
  dealIds = seeded.body.deals;
});
afterAll(() => h.close());

describe('search filters', () => {
  it('EQ matches case-insensitively; NEQ excludes', async () => {
    expect(await names('companies', [[{ propertyName: 'domain', operator: 'EQ', value: 'ACME.com' }]])).toEqual(['Acme Inc']);
    expect(await names('companies', [[{ propertyName: 'country', operator: 'NEQ', value: 'US' }]])).toEqual(['Acme GmbH', 'Initech', 'Umbrella Group']);
  });

  it('IN and NOT_IN match against a list of values', async () => {
    expect(await names('companies', [[{ propertyName: 'country', operator: 'IN', values: ['de', 'gb'] }]])).toEqual(['Acme GmbH', 'Umbrella Group']);
    expect(await names('companies', [[{ propertyName: 'country', operator: 'NOT_IN', values: ['US', 'DE'] }]])).toEqual(['Initech', 'Umbrella Group']);
  });

  it('GT, GTE, LT, LTE and BETWEEN compare numbers numerically', async () => {
    expect(await names('companies', [[{ propertyName: 'numberofemployees', operator: 'GT', value: '50' }]])).toEqual(['Acme Inc', 'Globex Corporation']);
    expect(await names('companies', [[{ propertyName: 'numberofemployees', operator: 'GTE', value: '50' }]])).toEqual(['Acme GmbH', 'Acme Inc', 'Globex Corporation']);
    expect(await names('companies', [[{ propertyName: 'numberofemployees', operator: 'LT', value: '50' }]])).toEqual(['Initech']);
    expect(await names('companies', [[{ propertyName: 'numberofemployees', operator: 'LTE', value: '50' }]])).toEqual(['Acme GmbH', 'Initech']);
    expect(await names('companies', [[{ propertyName: 'numberofemployees', operator: 'BETWEEN', value: '10', highValue: '500' }]])).toEqual(['Acme GmbH', 'Acme Inc']);
  });

  it('compares datetimes given as epoch milliseconds or ISO strings', async () => {
    const feb = String(Date.parse('2026-02-01T00:00:00Z'));
    expect(await names('deals', [[{ propertyName: 'closedate', operator: 'GTE', value: feb }]])).toEqual(['Acme upsell', 'Globex pilot']);
    expect(await names('deals', [[{ propertyName: 'closedate', operator: 'LT', value: '2026-02-01T00:00:00Z' }]])).toEqual(['Acme renewal']);
  });

  it('CONTAINS_TOKEN matches whole tokens and * wildcards; NOT_CONTAINS_TOKEN is its opposite', async () => {
    expect(await names('companies', [[{ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'acme' }]])).toEqual(['Acme GmbH', 'Acme Inc']);
    expect(await names('companies', [[{ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'glob*' }]])).toEqual(['Globex Corporation']);
    expect(await names('companies', [[{ propertyName: 'domain', operator: 'CONTAINS_TOKEN', value: '*.co.uk' }]])).toEqual(['Umbrella Group']);
    expect(await names('companies', [[{ propertyName: 'name', operator: 'NOT_CONTAINS_TOKEN', value: 'acme' }]])).toEqual(['Globex Corporation', 'Initech', 'Umbrella Group']);
  });

  it('HAS_PROPERTY and NOT_HAS_PROPERTY test whether a value is set', async () => {
    expect(await names('companies', [[{ propertyName: 'country', operator: 'NOT_HAS_PROPERTY' }]])).toEqual(['Initech']);
    expect(await names('deals', [[{ propertyName: 'amount', operator: 'HAS_PROPERTY' }]])).toEqual(['Acme renewal', 'Acme upsell', 'Globex pilot']);
  });

  it('ANDs filters within a group and ORs the groups', async () => {
    const res = await names('companies', [
      [{ propertyName: 'country', operator: 'EQ', value: 'US' }, { propertyName: 'numberofemployees', operator: 'GT', value: '1000' }],
      [{ propertyName: 'domain', operator: 'EQ', value: 'initech.io' }],
    ]);
    expect(res).toEqual(['Globex Corporation', 'Initech']);
  });

  it('finds deals of a company with the associations.company pseudo-property', async () => {
    expect(await names('deals', [[{ propertyName: 'associations.company', operator: 'EQ', value: companyIds[1]! }]])).toEqual(['Acme upsell', 'Initech expansion']);
  });

  it('searches free text with `query` over the default searchable properties', async () => {
    const res = await hs.crm.companies.searchApi.doSearch({ query: 'acm', properties: ['name'], limit: 10 } as never);
    expect(res.results.map((r) => r.properties.name)).toEqual(['Acme GmbH', 'Acme Inc']);
  });

  it('returns only the requested properties plus the three always returned', async () => {
    const res = await hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'hs_object_id', operator: 'EQ' as never, value: dealIds[0]! }] }], properties: ['amount'], limit: 10 } as never);
    expect(Object.keys(res.results[0]!.properties).sort()).toEqual(['amount', 'createdate', 'hs_lastmodifieddate', 'hs_object_id']);
  });

  it('finds what changed since a cursor: hs_lastmodifieddate GT, sorted ascending (the reconcile sweep’s query)', async () => {
    const cursor = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await hs.crm.companies.basicApi.update(companyIds[4]!, { properties: { city: 'London' } });
    await new Promise((r) => setTimeout(r, 5)); // distinct modification times
    await hs.crm.companies.basicApi.update(companyIds[2]!, { properties: { city: 'Springfield' } });
    const res = await names('companies', [[{ propertyName: 'hs_lastmodifieddate', operator: 'GT', value: String(cursor) }]], { sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }] });
    expect(res).toEqual(['Umbrella Group', 'Globex Corporation']);
  });

  it('refuses filters with an unknown operator', async () => {
    const err = await apiError(hs.crm.companies.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'name', operator: 'LIKE' as never, value: 'x' }] }] } as never));
    expect(err.code).toBe(400);
  });
});

describe('search sorts and paging', () => {
  it('sorts ascending and descending by number, with unset values last', async () => {
    const sorts = (direction: string) => ({ sorts: [{ propertyName: 'numberofemployees', direction }] });
    expect(await names('companies', [], sorts('ASCENDING'))).toEqual(['Initech', 'Acme GmbH', 'Acme Inc', 'Globex Corporation', 'Umbrella Group']);
    expect(await names('companies', [], sorts('DESCENDING'))).toEqual(['Globex Corporation', 'Acme Inc', 'Acme GmbH', 'Initech', 'Umbrella Group']);
  });

  it('pages with `after` and reports the full total', async () => {
    const first = await hs.crm.companies.searchApi.doSearch({ limit: 2, properties: ['name'] } as never);
    expect(first.total).toBe(5);
    expect(first.results).toHaveLength(2);
    expect(first.paging?.next?.after).toBe('2');
    const last = await hs.crm.companies.searchApi.doSearch({ limit: 2, after: '4', properties: ['name'] } as never);
    expect(last.results).toHaveLength(1);
    expect(last.paging).toBeUndefined();
  });

  it('refuses a page size above 200', async () => {
    const err = await apiError(hs.crm.companies.searchApi.doSearch({ limit: 201 } as never));
    expect(err.code).toBe(400);
    expect(err.body.category).toBe('VALIDATION_ERROR');
  });

  it('caps results at 10,000: total counts everything, paging at or past 10,000 fails with 400', async () => {
    const big = await h.createPortal();
    const companies = Array.from({ length: 10_050 }, (_, i) => ({ properties: { name: `Bulk ${i}`, country: 'DE' } }));
    const seeded = await h.control('POST', `/_sandbox/portals/${big.portalId}/seed`, { companies });
    expect(seeded.status).toBe(201);
    const c = h.client(big.accessToken);
    const body = { filterGroups: [{ filters: [{ propertyName: 'country', operator: 'EQ', value: 'DE' }] }], limit: 200, properties: ['name'] };
    const near = await c.crm.companies.searchApi.doSearch({ ...body, after: '9900' } as never);
    expect(near.total).toBe(10_050);
    expect(near.results).toHaveLength(100); // results stop at the 10,000th
    expect(near.paging?.next?.after).toBe('10000');
    const beyond = await apiError(c.crm.companies.searchApi.doSearch({ ...body, after: '10000' } as never));
    expect(beyond.code).toBe(400);
  });
});

describe('search index lag', () => {
  it('with searchLagMs set, a new or changed record shows up in search only after the lag (fake clock)', async () => {
    let clock = Date.parse('2026-11-23T12:00:00Z');
    const lagging = await startSandbox({ now: () => clock, rateLimitsEnabled: false });
    try {
      const p = await lagging.createPortal({ searchLagMs: 300 });
      const c = lagging.client(p.accessToken);
      const find = (domain: string) => c.crm.companies.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ' as never, value: domain }] }] } as never);
      const created = await c.crm.companies.basicApi.create({ properties: { name: 'Lagging', domain: 'lag.example' }, associations: [] });
      expect((await find('lag.example')).total).toBe(0);
      await expect(c.crm.companies.basicApi.getById(created.id)).resolves.toBeDefined(); // reads are immediate
      clock += 301;
      expect((await find('lag.example')).total).toBe(1);

      await c.crm.companies.basicApi.update(created.id, { properties: { domain: 'moved.example' } });
      expect((await find('lag.example')).total).toBe(1); // search still sees the old value
      expect((await find('moved.example')).total).toBe(0);
      clock += 301;
      expect((await find('lag.example')).total).toBe(0);
      expect((await find('moved.example')).total).toBe(1);
    } finally {
      await lagging.close();
    }
  });
});
