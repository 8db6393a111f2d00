// CRM v3 objects one at a time, driven through the real @hubspot/api-client.
import type { Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let hs: Client;
let token: string;
let portalId: number;

beforeAll(async () => {
  h = await startSandbox();
  const p = await h.createPortal();
  token = p.accessToken;
  portalId = p.portalId;
  hs = h.client(token);
  await h.control('POST', `/_sandbox/portals/${portalId}/owners`, { email: 'rep@example.com', firstName: 'Rita', lastName: 'Rep', userId: 901 });
});
afterAll(() => h.close());

describe('deals and companies CRUD', () => {
  it('creates a company and reads it back with HubSpot-maintained properties and numeric-string ids', async () => {
    const created = await hs.crm.companies.basicApi.create({ properties: { name: 'Acme', domain: 'acme.com', country: 'DE' }, associations: [] });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.properties).toMatchObject({ name: 'Acme', domain: 'acme.com', hs_object_id: created.id });
    expect(created.properties.createdate).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(created.properties.hs_lastmodifieddate).toBe(created.properties.createdate);

    const read = await hs.crm.companies.basicApi.getById(created.id);
    // no `properties` asked: HubSpot's defaults for companies, the unset country is not among them
    expect(Object.keys(read.properties).sort()).toEqual(['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name']);
    expect(read.createdAt).toBeInstanceOf(Date);
    expect(read.archived).toBe(false);
  });

  it('also answers the object type ids 0-3 and 0-2 and refuses unknown object types', async () => {
    const deal = await hs.crm.objects.basicApi.create('0-3', { properties: { dealname: 'By type id' }, associations: [] });
    const read = await hs.crm.deals.basicApi.getById(deal.id, ['dealname']);
    expect(read.properties.dealname).toBe('By type id');
    const err = await apiError(hs.crm.objects.basicApi.getById('widgets', deal.id));
    expect(err.code).toBe(400);
    expect(err.body.message).toBe('Unable to infer object type from: widgets');
  });

  it('returns requested properties (null when unset) plus createdate, hs_lastmodifieddate and hs_object_id', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Big one', amount: '1200.50' }, associations: [] });
    const read = await hs.crm.deals.basicApi.getById(deal.id, ['dealname', 'closedate', 'no_such_property']);
    expect(read.properties).toEqual({
      dealname: 'Big one',
      closedate: null,
      createdate: expect.any(String),
      hs_lastmodifieddate: expect.any(String),
      hs_object_id: deal.id,
    });
  });

  it('defaults a new deal to the default pipeline and its first stage, and computes the closed flags', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Defaults' }, associations: [] });
    expect(deal.properties).toMatchObject({ pipeline: 'default', dealstage: 'appointmentscheduled', hs_is_closed: 'false', hs_deal_stage_probability: '0.2' });
    const won = await hs.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    expect(won.properties).toMatchObject({ dealstage: 'closedwon', hs_is_closed: 'true', hs_is_closed_won: 'true', hs_deal_stage_probability: '1.0' });
    const lost = await hs.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedlost' } });
    expect(lost.properties).toMatchObject({ hs_is_closed: 'true', hs_is_closed_won: 'false', hs_deal_stage_probability: '0.0' });
  });

  it('updates bump hs_lastmodifieddate, and an empty string clears a property', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Clear me', amount: '10' }, associations: [] });
    await new Promise((r) => setTimeout(r, 5));
    const updated = await hs.crm.deals.basicApi.update(deal.id, { properties: { amount: '' } });
    expect(updated.properties.amount).toBeUndefined();
    expect(Date.parse(updated.properties.hs_lastmodifieddate!)).toBeGreaterThan(Date.parse(deal.properties.hs_lastmodifieddate!));
    const read = await hs.crm.deals.basicApi.getById(deal.id, ['amount']);
    expect(read.properties.amount).toBeNull();
  });

  it('normalises datetimes (epoch ms or ISO) to ISO and rejects a date property value that is not midnight UTC', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Dates', closedate: '1767225600000' }, associations: [] });
    expect(deal.properties.closedate).toBe('2026-01-01T00:00:00.000Z');
    await hs.crm.properties.coreApi.create('deals', { name: 'renewal_date', label: 'Renewal date', type: 'date' as never, fieldType: 'date' as never, groupName: 'dealinformation' });
    const err = await apiError(hs.crm.deals.basicApi.update(deal.id, { properties: { renewal_date: '1767229200000' } }));
    expect(err.code).toBe(400);
    expect(String(err.body.message)).toContain('not midnight');
  });

  it('refuses unknown properties, read-only properties, invalid options and stages outside the pipeline with VALIDATION_ERROR', async () => {
    const unknown = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'x', favourite_colour: 'blue' }, associations: [] }));
    expect(unknown.code).toBe(400);
    expect(unknown.body.category).toBe('VALIDATION_ERROR');
    expect(String(unknown.body.message)).toContain('PROPERTY_DOESNT_EXIST');

    const readOnly = await apiError(hs.crm.deals.basicApi.create({ properties: { hs_object_id: '1' }, associations: [] }));
    expect(String(readOnly.body.message)).toContain('READ_ONLY_VALUE');

    const stage = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'x', dealstage: 'not-a-stage' }, associations: [] }));
    expect(String(stage.body.message)).toContain('INVALID_OPTION');

    const owner = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'x', hubspot_owner_id: '999' }, associations: [] }));
    expect(String(owner.body.message)).toContain('INVALID_OPTION');

    const number = await apiError(hs.crm.deals.basicApi.create({ properties: { amount: 'lots' }, associations: [] }));
    expect(String(number.body.message)).toContain('INVALID_DECIMAL');
  });

  it('accepts an existing owner as hubspot_owner_id', async () => {
    const owners = await hs.crm.owners.ownersApi.getPage('rep@example.com');
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Owned', hubspot_owner_id: owners.results[0]!.id }, associations: [] });
    expect(deal.properties.hubspot_owner_id).toBe(owners.results[0]!.id);
  });

  it('archives like HubSpot: 404 on read, shown only when listing with archived=true, DELETE is idempotent', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Doomed' }, associations: [] });
    await hs.crm.deals.basicApi.archive(deal.id);
    await hs.crm.deals.basicApi.archive(deal.id);
    const err = await apiError(hs.crm.deals.basicApi.getById(deal.id));
    expect(err.code).toBe(404);
    expect(err.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Object not found.  objectId are usually numeric.' });
    expect(err.body.correlationId).toEqual(expect.any(String));

    const live = await hs.crm.deals.basicApi.getPage(100);
    expect(live.results.map((d) => d.id)).not.toContain(deal.id);
    const archived = await hs.crm.deals.basicApi.getPage(100, undefined, undefined, undefined, undefined, true);
    const mine = archived.results.find((d) => d.id === deal.id);
    expect(mine?.archived).toBe(true);
    expect(mine?.archivedAt).toBeInstanceOf(Date);
    const readArchived = await hs.crm.deals.basicApi.getById(deal.id, undefined, undefined, undefined, true);
    expect(readArchived.archived).toBe(true);
  });

  it('lists with `after` paging until the last page, which has no paging', async () => {
    const seeded = await h.createPortal();
    await h.control('POST', `/_sandbox/portals/${seeded.portalId}/seed`, { companies: Array.from({ length: 25 }, (_, i) => ({ properties: { name: `C${i}` } })) });
    const c = h.client(seeded.accessToken);
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await c.crm.companies.basicApi.getPage(10, after);
      ids.push(...page.results.map((r) => r.id));
      after = page.paging?.next?.after;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(25);
  });

  it('reads by a unique-value property with idProperty, and refuses idProperty on a non-unique property', async () => {
    await hs.crm.properties.coreApi.create('deals', { name: 'dealreg_id', label: 'dealreg id', type: 'string' as never, fieldType: 'text' as never, groupName: 'dealinformation', hasUniqueValue: true });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Registered', dealreg_id: 'reg_1' }, associations: [] });
    const read = await hs.crm.deals.basicApi.getById('reg_1', ['dealname'], undefined, undefined, undefined, 'dealreg_id');
    expect(read.id).toBe(deal.id);
    const patched = await hs.crm.deals.basicApi.update('reg_1', { properties: { amount: '5' } }, 'dealreg_id');
    expect(patched.id).toBe(deal.id);
    const bad = await apiError(hs.crm.deals.basicApi.getById('Registered', undefined, undefined, undefined, undefined, 'dealname'));
    expect(bad.code).toBe(400);
  });

  it('enforces unique values on create and update (400 VALIDATION_ERROR naming the existing id)', async () => {
    const first = await hs.crm.deals.basicApi.create({ properties: { dealname: 'One', dealreg_id: 'reg_unique' }, associations: [] });
    const dup = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'Two', dealreg_id: 'reg_unique' }, associations: [] }));
    expect(dup.code).toBe(400);
    expect(dup.body.category).toBe('VALIDATION_ERROR');
    expect(String(dup.body.message)).toContain(`Existing ID: ${first.id}`);
    const other = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Three' }, associations: [] });
    const clash = await apiError(hs.crm.deals.basicApi.update(other.id, { properties: { dealreg_id: 'reg_unique' } }));
    expect(clash.code).toBe(400);
    // archiving frees the value
    await hs.crm.deals.basicApi.archive(first.id);
    const reuse = await hs.crm.deals.basicApi.update(other.id, { properties: { dealreg_id: 'reg_unique' } });
    expect(reuse.properties.dealreg_id).toBe('reg_unique');
  });

  it('records property history with the source: the app for API writes, the user for X-Sandbox-Actor edits', async () => {
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'History' }, associations: [] });
    const asRep = h.client(token, { headers: { 'X-Sandbox-Actor': 'user:901' } });
    await asRep.crm.deals.basicApi.update(deal.id, { properties: { dealname: 'History (edited by rep)' } });
    const read = await hs.crm.deals.basicApi.getById(deal.id, ['dealname'], ['dealname']);
    const history = read.propertiesWithHistory!.dealname!;
    expect(history.map((v) => v.value)).toEqual(['History (edited by rep)', 'History']);
    expect(history[0]).toMatchObject({ sourceType: 'CRM_UI', sourceId: 'userId:901', updatedByUserId: 901 });
    const portal = await h.control<{ appId: number }>('GET', `/_sandbox/portals/${portalId}`);
    expect(history[1]).toMatchObject({ sourceType: 'INTEGRATION', sourceId: String(portal.body.appId) });
  });

  it('merges two companies: the primary keeps its values, fills gaps, inherits deals and answers for the merged id', async () => {
    const a = await hs.crm.companies.basicApi.create({ properties: { name: 'Primary Co', domain: 'primary.example' }, associations: [] });
    const b = await hs.crm.companies.basicApi.create({ properties: { name: 'Dup Co', city: 'Berlin' }, associations: [] });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'On dup' }, associations: [{ to: { id: b.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] }] });
    const merged = await hs.crm.companies.basicApi.merge({ primaryObjectId: a.id, objectIdToMerge: b.id });
    expect(merged.id).toBe(a.id);
    expect(merged.properties).toMatchObject({ name: 'Primary Co', city: 'Berlin', hs_merged_object_ids: b.id });
    const viaOldId = await hs.crm.companies.basicApi.getById(b.id);
    expect(viaOldId.id).toBe(a.id);
    const dealRead = await hs.crm.deals.basicApi.getById(deal.id, undefined, undefined, ['companies']);
    expect(dealRead.associations?.companies?.results.map((r) => r.id)).toEqual([a.id, a.id]);
  });

  it('answers 401 INVALID_AUTHENTICATION without a valid token', async () => {
    const err = await apiError(h.client('not-a-token').crm.deals.basicApi.getPage());
    expect(err.code).toBe(401);
    expect(err.body.category).toBe('INVALID_AUTHENTICATION');
  });
});
