// The control API and the sandbox's lifecycle: portal isolation, seeding, stats, reset, and the
// snapshot/restore round trip (in process, across sandbox instances and over HTTP).
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startSandbox();
});
afterAll(() => h.close());

describe('portals', () => {
  it('keeps portals isolated: one portal’s token cannot see another’s records', async () => {
    const a = await h.createPortal();
    const b = await h.createPortal();
    expect(a.portalId).not.toBe(b.portalId);
    const deal = await h.client(a.accessToken).crm.deals.basicApi.create({ properties: { dealname: 'Only in A' }, associations: [] });
    expect((await apiError(h.client(b.accessToken).crm.deals.basicApi.getById(deal.id))).code).toBe(404);
    const search = await h.client(b.accessToken).crm.deals.searchApi.doSearch({ limit: 10 });
    expect(search.total).toBe(0);
  });

  it('creates a portal with a pinned portalId, lists and describes portals, and PATCHes settings', async () => {
    const p = await h.createPortal({ portalId: 99_000_001, tokenTtlSeconds: 120 });
    expect(p.portalId).toBe(99_000_001);
    expect((await h.control('POST', '/_sandbox/portals', { portalId: 99_000_001 })).status).toBe(400);
    const list = await h.control<{ results: Array<{ portalId: number }> }>('GET', '/_sandbox/portals');
    expect(list.body.results.map((r) => r.portalId)).toContain(99_000_001);
    const patched = await h.control<Record<string, unknown>>('PATCH', '/_sandbox/portals/99000001', { rateLimit: { max: 7, intervalMs: 1000 }, webhookTargetUrl: 'http://127.0.0.1:9/hooks' });
    expect(patched.body).toMatchObject({ portalId: 99_000_001, tokenTtlSeconds: 120, rateLimit: { max: 7, intervalMs: 1000 }, webhookTargetUrl: 'http://127.0.0.1:9/hooks' });
    expect((await h.control('PATCH', '/_sandbox/portals/99000001', { rateLimit: { max: -1 } })).status).toBe(400);
    expect((await h.control('PATCH', '/_sandbox/portals/99000001', { webhookTargetUrl: 'not a url' })).status).toBe(400);
    expect((await h.control('GET', '/_sandbox/portals/12345')).status).toBe(404);
  });

  it('seeds companies, deals and their associations in one call, all or nothing', async () => {
    const p = await h.createPortal();
    const seeded = await h.control<{ companies: string[]; deals: string[] }>('POST', `/_sandbox/portals/${p.portalId}/seed`, {
      companies: [{ properties: { name: 'Seed A', domain: 'seed-a.example' } }, { properties: { name: 'Seed B' } }],
      deals: [{ properties: { dealname: 'Seed deal', amount: '10' }, companies: ['#0', '#1'] }],
    });
    expect(seeded.status).toBe(201);
    const hs = h.client(p.accessToken);
    const deal = await hs.crm.deals.basicApi.getById(seeded.body.deals[0]!, undefined, undefined, ['companies']);
    expect(deal.associations?.companies?.results).toEqual([
      { id: seeded.body.companies[0], type: 'deal_to_company' },
      { id: seeded.body.companies[0], type: 'deal_to_company_unlabeled' },
      { id: seeded.body.companies[1], type: 'deal_to_company_unlabeled' },
    ]);
    const bad = await h.control<{ message: string }>('POST', `/_sandbox/portals/${p.portalId}/seed`, { companies: [{ properties: { name: 'Fine' } }, { properties: { nope: 'x' } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('companies[1]');
    expect((await hs.crm.companies.basicApi.getPage(100)).results).toHaveLength(2);
  });

  it('counts API requests per status and per route in the portal stats', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken);
    await hs.crm.deals.basicApi.getPage();
    await apiError(hs.crm.deals.basicApi.getById('1'));
    const stats = await h.control<{ requests: number; byStatus: Record<string, number>; byRoute: Record<string, number> }>('GET', `/_sandbox/portals/${p.portalId}/stats`);
    expect(stats.body.requests).toBe(2);
    expect(stats.body.byStatus).toEqual({ '200': 1, '404': 1 });
    expect(stats.body.byRoute).toEqual({ 'GET /crm/v3/objects/:objectType': 1, 'GET /crm/v3/objects/:objectType/:objectId': 1 });
  });
});

describe('reset, snapshot and restore', () => {
  async function populate(hx: Harness) {
    const p = await hx.createPortal({ rateLimit: { max: 50, intervalMs: 10_000 }, tokenTtlSeconds: 900 });
    const hs = hx.client(p.accessToken);
    await hx.control('POST', `/_sandbox/portals/${p.portalId}/owners`, { email: 'snap@example.com', userId: 31, teams: [{ name: 'Snap team' }] });
    await hs.crm.properties.coreApi.create('deals', { name: 'dealreg_id', label: 'dealreg id', type: 'string' as never, fieldType: 'text' as never, groupName: 'dealinformation', hasUniqueValue: true });
    const company = await hs.crm.companies.basicApi.create({ properties: { name: 'Snap Co', domain: 'snap.example' }, associations: [] });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Snap deal', dealreg_id: 'reg-snap' }, associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] }] });
    await hs.crm.deals.basicApi.update(deal.id, { properties: { amount: '99' } });
    return { p, company, deal };
  }

  it('round-trips the state as JSON: restore brings back records, history, associations, schema, owners, tokens and unique values', async () => {
    const { p, company, deal } = await populate(h);
    const snap = JSON.parse(JSON.stringify(h.sandbox.snapshot())) as object;
    const hs = h.client(p.accessToken);

    await hs.crm.deals.basicApi.archive(deal.id);
    await hs.crm.companies.basicApi.update(company.id, { properties: { name: 'Changed' } });
    h.sandbox.restore(snap);

    const read = await hs.crm.deals.basicApi.getById(deal.id, ['dealname', 'amount', 'dealreg_id'], ['amount'], ['companies']);
    expect(read.properties).toMatchObject({ dealname: 'Snap deal', amount: '99', dealreg_id: 'reg-snap' });
    expect(read.propertiesWithHistory?.amount?.[0]?.value).toBe('99');
    expect(read.associations?.companies?.results[0]).toEqual({ id: company.id, type: 'deal_to_company' });
    expect((await hs.crm.companies.basicApi.getById(company.id)).properties.name).toBe('Snap Co');
    expect((await hs.crm.owners.ownersApi.getPage('snap@example.com')).results[0]!.teams![0]!.name).toBe('Snap team');
    // the unique index is rebuilt, and new ids do not collide with restored ones
    expect((await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'Dup', dealreg_id: 'reg-snap' }, associations: [] }))).code).toBe(400);
    const fresh = await hs.crm.deals.basicApi.create({ properties: { dealname: 'After restore' }, associations: [] });
    expect(BigInt(fresh.id)).toBeGreaterThan(BigInt(deal.id));
    // settings survive too
    const info = await hs.crm.deals.basicApi.getPageWithHttpInfo();
    expect((info.headers as unknown as Record<string, string>)['x-hubspot-ratelimit-max']).toBe('50');
  });

  it('restores into another sandbox instance, where the same tokens work', async () => {
    const { p, deal } = await populate(h);
    const other = await startSandbox();
    try {
      other.sandbox.restore(h.sandbox.snapshot());
      const read = await other.client(p.accessToken).crm.deals.basicApi.getById(deal.id, ['dealname']);
      expect(read.properties.dealname).toBe('Snap deal');
    } finally {
      await other.close();
    }
  });

  it('snapshots and restores over HTTP (GET /_sandbox/snapshot, POST /_sandbox/restore) and refuses a bad snapshot', async () => {
    const { p, deal } = await populate(h);
    const snap = await h.control<object>('GET', '/_sandbox/snapshot');
    expect(snap.status).toBe(200);
    await h.client(p.accessToken).crm.deals.basicApi.archive(deal.id);
    expect((await h.control('POST', '/_sandbox/restore', snap.body)).status).toBe(200);
    await expect(h.client(p.accessToken).crm.deals.basicApi.getById(deal.id)).resolves.toBeDefined();
    expect((await h.control('POST', '/_sandbox/restore', { version: 99 })).status).toBe(400);
  });

  it('reset forgets everything: portals, tokens and data', async () => {
    const other = await startSandbox();
    try {
      const p = await other.createPortal();
      await other.client(p.accessToken).crm.deals.basicApi.create({ properties: { dealname: 'Gone soon' }, associations: [] });
      expect((await other.control('POST', '/_sandbox/reset')).status).toBe(200);
      expect((await apiError(other.client(p.accessToken).crm.deals.basicApi.getPage())).code).toBe(401);
      expect((await other.control<{ results: unknown[] }>('GET', '/_sandbox/portals')).body.results).toEqual([]);
      const again = await other.createPortal();
      other.sandbox.reset();
      expect((await apiError(other.client(again.accessToken).crm.deals.basicApi.getPage())).code).toBe(401);
    } finally {
      await other.close();
    }
  });
});
