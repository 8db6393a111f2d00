// CRM v3 batch endpoints through the real SDK: the 100-input limit, 207 partial results, upsert by a
// unique-value property.
import type { Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let hs: Client;

beforeAll(async () => {
  h = await startSandbox();
  hs = h.client((await h.createPortal()).accessToken);
  await hs.crm.properties.coreApi.create('deals', { name: 'dealreg_id', label: 'dealreg id', type: 'string' as never, fieldType: 'text' as never, groupName: 'dealinformation', hasUniqueValue: true });
});
afterAll(() => h.close());

const deal = (i: number, extra: Record<string, string> = {}) => ({ properties: { dealname: `Deal ${i}`, ...extra }, associations: [] });

describe('batch endpoints', () => {
  it('creates up to 100 in one call (201) and refuses 101 inputs with 400', async () => {
    const created = await hs.crm.deals.batchApi.create({ inputs: Array.from({ length: 100 }, (_, i) => deal(i)) });
    expect(created.status).toBe('COMPLETE');
    expect(created.results).toHaveLength(100);
    expect(created.startedAt).toBeInstanceOf(Date);

    const tooMany = await apiError(hs.crm.deals.batchApi.create({ inputs: Array.from({ length: 101 }, (_, i) => deal(i)) }));
    expect(tooMany.code).toBe(400);
    expect(tooMany.body.category).toBe('VALIDATION_ERROR');
    const read101 = await apiError(hs.crm.deals.batchApi.read({ inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i) })), properties: [], propertiesWithHistory: [] }));
    expect(read101.code).toBe(400);
  });

  it('fails a whole batch create on one invalid input, creating nothing', async () => {
    const before = await hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'dealname', operator: 'EQ' as never, value: 'Atomic A' }] }] });
    const err = await apiError(hs.crm.deals.batchApi.create({ inputs: [{ properties: { dealname: 'Atomic A' }, associations: [] }, { properties: { dealname: 'Atomic B', nope: 'x' }, associations: [] }] }));
    expect(err.code).toBe(400);
    const after = await hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'dealname', operator: 'EQ' as never, value: 'Atomic A' }] }] });
    expect(after.total).toBe(before.total);
  });

  it('answers 207 with per-input errors when every create input carries an objectWriteTraceId', async () => {
    const res = await hs.crm.deals.batchApi.create({
      inputs: [
        { properties: { dealname: 'Traced ok' }, associations: [], objectWriteTraceId: 't-1' },
        { properties: { dealname: 'Traced bad', amount: 'many' }, associations: [], objectWriteTraceId: 't-2' },
      ],
    });
    expect(res.results.map((r) => r.properties.dealname)).toEqual(['Traced ok']);
    expect(res.results[0]!.objectWriteTraceId).toBe('t-1');
    const withErrors = res as unknown as { numErrors: number; errors: Array<{ category: string; context: Record<string, string[]> }> };
    expect(withErrors.numErrors).toBe(1);
    expect(withErrors.errors[0]!.category).toBe('VALIDATION_ERROR');
    expect(withErrors.errors[0]!.context.objectWriteTraceId).toEqual(['t-2']);
  });

  it('reads found ids and reports the missing ones in a 207', async () => {
    const a = await hs.crm.deals.basicApi.create(deal(1));
    const res = await hs.crm.deals.batchApi.read({ inputs: [{ id: a.id }, { id: '999999' }], properties: ['dealname'], propertiesWithHistory: ['dealname'] });
    expect(res.results.map((r) => r.id)).toEqual([a.id]);
    expect(res.results[0]!.propertiesWithHistory?.dealname?.[0]?.value).toBe('Deal 1');
    const withErrors = res as unknown as { numErrors: number; errors: Array<{ category: string; context: { ids: string[] } }> };
    expect(withErrors.numErrors).toBe(1);
    expect(withErrors.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } });
  });

  it('reads by a unique property with idProperty', async () => {
    const a = await hs.crm.deals.basicApi.create(deal(2, { dealreg_id: 'batch-read-1' }));
    const res = await hs.crm.deals.batchApi.read({ idProperty: 'dealreg_id', inputs: [{ id: 'batch-read-1' }], properties: ['dealname', 'dealreg_id'], propertiesWithHistory: [] });
    expect(res.results.map((r) => r.id)).toEqual([a.id]);
  });

  it('updates existing ids, reports missing ones in a 207, and refuses duplicate ids with 400', async () => {
    const a = await hs.crm.deals.basicApi.create(deal(3));
    const b = await hs.crm.deals.basicApi.create(deal(4));
    const res = await hs.crm.deals.batchApi.update({ inputs: [{ id: a.id, properties: { amount: '1' } }, { id: b.id, properties: { amount: '2' } }, { id: '404404', properties: { amount: '3' } }] });
    expect(res.results.map((r) => [r.id, r.properties.amount])).toEqual([[a.id, '1'], [b.id, '2']]);
    expect((res as unknown as { numErrors: number }).numErrors).toBe(1);

    const dup = await apiError(hs.crm.deals.batchApi.update({ inputs: [{ id: a.id, properties: { amount: '1' } }, { id: a.id, properties: { amount: '2' } }] }));
    expect(dup.code).toBe(400);
    expect(String(dup.body.message)).toContain('Duplicate IDs');
  });

  it('upserts by a unique-value property: creates the missing, updates the existing, flags which is new', async () => {
    const existing = await hs.crm.deals.basicApi.create(deal(5, { dealreg_id: 'up-existing' }));
    const res = await hs.crm.deals.batchApi.upsert({
      inputs: [
        { idProperty: 'dealreg_id', id: 'up-existing', properties: { amount: '50' } },
        { idProperty: 'dealreg_id', id: 'up-new', properties: { dealname: 'Upserted', amount: '60' } },
      ],
    });
    const byKey = new Map(res.results.map((r) => [r.properties.dealreg_id, r]));
    expect(byKey.get('up-existing')).toMatchObject({ id: existing.id, properties: { amount: '50', dealname: 'Deal 5' } });
    expect(byKey.get('up-new')).toMatchObject({ properties: { dealname: 'Upserted', amount: '60', dealreg_id: 'up-new' } });
    expect(byKey.get('up-new')!.id).not.toBe(existing.id);

    // The SDK's model drops HubSpot's `new` flag; its raw request shows the wire.
    const raw = await hs.apiRequest({
      method: 'POST',
      path: '/crm/v3/objects/deals/batch/upsert',
      body: { inputs: [{ idProperty: 'dealreg_id', id: 'up-new', properties: { amount: '61' } }, { idProperty: 'dealreg_id', id: 'up-newer', properties: {} }] },
    });
    const wire = (await raw.json()) as { results: Array<{ id: string; new: boolean; properties: Record<string, string> }> };
    expect(wire.results.map((r) => [r.properties.dealreg_id, r.new])).toEqual([['up-new', false], ['up-newer', true]]);
    expect(wire.results[0]!.id).toBe(byKey.get('up-new')!.id);
  });

  it('refuses upserts keyed on a property without unique values', async () => {
    const err = await apiError(hs.crm.deals.batchApi.upsert({ inputs: [{ idProperty: 'dealname', id: 'x', properties: {} }] }));
    expect(err.code).toBe(400);
  });

  it('refuses a batch that would give two records the same unique value', async () => {
    const err = await apiError(hs.crm.deals.batchApi.create({ inputs: [deal(6, { dealreg_id: 'twice' }), deal(7, { dealreg_id: 'twice' })] }));
    expect(err.code).toBe(400);
    expect(String(err.body.message)).toContain('already has that value');
  });

  it('archives in batch (204), ignoring ids that do not exist', async () => {
    const a = await hs.crm.deals.basicApi.create(deal(8));
    await hs.crm.deals.batchApi.archive({ inputs: [{ id: a.id }, { id: '123456789' }] });
    expect((await apiError(hs.crm.deals.basicApi.getById(a.id))).code).toBe(404);
  });
});
