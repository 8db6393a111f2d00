// Associations v4 between deals and companies through the real SDK, and how they show in v3 reads.
import { AssociationTypes, type Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let hs: Client;

beforeAll(async () => {
  h = await startSandbox();
  hs = h.client((await h.createPortal()).accessToken);
});
afterAll(() => h.close());

const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as never;

async function company(name: string): Promise<string> {
  return (await hs.crm.companies.basicApi.create({ properties: { name }, associations: [] })).id;
}
async function deal(name: string): Promise<string> {
  return (await hs.crm.deals.basicApi.create({ properties: { dealname: name }, associations: [] })).id;
}

describe('associations v4', () => {
  it('creates the default (unlabeled) association both ways and shows it from either side', async () => {
    const d = await deal('Default assoc');
    const c = await company('Default Co');
    const res = await hs.crm.associations.v4.basicApi.createDefault('deals', d, 'companies', c);
    expect(res.status).toBe('COMPLETE');
    expect(res.results.map((r) => r.associationSpec.associationTypeId).sort()).toEqual([AssociationTypes.dealToCompany, AssociationTypes.companyToDeal].sort());

    const fromDeal = await hs.crm.associations.v4.basicApi.getPage('deals', d, 'companies');
    expect(fromDeal.results).toEqual([{ toObjectId: Number(c), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 341, label: null }] }]);
    const fromCompany = await hs.crm.associations.v4.basicApi.getPage('companies', c, 'deals');
    expect(fromCompany.results[0]!.associationTypes).toEqual([{ category: 'HUBSPOT_DEFINED', typeId: 342, label: null }]);
  });

  it('creates a labelled Primary association (201) which brings the unlabeled one along', async () => {
    const d = await deal('Primary assoc');
    const c = await company('Primary Co');
    const res = await hs.crm.associations.v4.basicApi.create('deals', d, 'companies', c, [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: AssociationTypes.primaryDealToCompany }]);
    expect(res).toMatchObject({ fromObjectTypeId: '0-3', toObjectTypeId: '0-2', labels: ['Primary'] });
    expect(String(res.fromObjectId)).toBe(d);
    const page = await hs.crm.associations.v4.basicApi.getPage('deals', d, 'companies');
    expect(page.results[0]!.associationTypes.map((t) => t.typeId)).toEqual([5, 341]);
    // v3 read of the deal names both types
    const read = await hs.crm.deals.basicApi.getById(d, undefined, undefined, ['companies']);
    expect(read.associations?.companies?.results).toEqual([{ id: c, type: 'deal_to_company' }, { id: c, type: 'deal_to_company_unlabeled' }]);
    const readCompany = await hs.crm.companies.basicApi.getById(c, undefined, undefined, ['deals']);
    expect(readCompany.associations?.deals?.results).toEqual([{ id: d, type: 'company_to_deal' }, { id: d, type: 'company_to_deal_unlabeled' }]);
  });

  it('keeps one primary company per deal: a new primary demotes the old one to unlabeled', async () => {
    const d = await deal('Two companies');
    const a = await company('First primary');
    const b = await company('Second primary');
    const primary = [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 5 }];
    await hs.crm.associations.v4.basicApi.create('deals', d, 'companies', a, primary);
    await hs.crm.associations.v4.basicApi.create('deals', d, 'companies', b, primary);
    const page = await hs.crm.associations.v4.basicApi.getPage('deals', d, 'companies');
    const types = new Map(page.results.map((r) => [String(r.toObjectId), r.associationTypes.map((t) => t.typeId)]));
    expect(types.get(a)).toEqual([341]);
    expect(types.get(b)).toEqual([5, 341]);
  });

  it('creates associations with the object (create body `associations`) and refuses invalid targets or types', async () => {
    const c = await company('Inline Co');
    const d = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Inline' }, associations: [{ to: { id: c }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 341 }] }] });
    const page = await hs.crm.associations.v4.basicApi.getPage('deals', d.id, 'companies');
    expect(page.results.map((r) => String(r.toObjectId))).toEqual([c]);

    const missing = await apiError(hs.crm.deals.basicApi.create({ properties: { dealname: 'x' }, associations: [{ to: { id: '1' }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 341 }] }] }));
    expect(missing.code).toBe(400);
    const badType = await apiError(hs.crm.associations.v4.basicApi.create('deals', d.id, 'companies', c, [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 3 }]));
    expect(badType.code).toBe(400);
  });

  it('removes all associations between a pair (204)', async () => {
    const d = await deal('Removal');
    const c = await company('Removal Co');
    await hs.crm.associations.v4.basicApi.createDefault('deals', d, 'companies', c);
    await hs.crm.associations.v4.basicApi.archive('deals', d, 'companies', c);
    expect((await hs.crm.associations.v4.basicApi.getPage('deals', d, 'companies')).results).toEqual([]);
  });

  it('batch-creates (201), reads (207 for objects without associations) and archives', async () => {
    const d1 = await deal('Batch 1');
    const d2 = await deal('Batch 2');
    const lonely = await deal('Lonely');
    const c = await company('Batch Co');
    const created = await hs.crm.associations.v4.batchApi.create('deals', 'companies', {
      inputs: [
        { _from: { id: d1 }, to: { id: c }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 5 }] },
        { _from: { id: d2 }, to: { id: c }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 341 }] },
      ],
    });
    expect(created.results.map((r) => r.labels)).toEqual([['Primary'], []]);

    const read = await hs.crm.associations.v4.batchApi.getPage('deals', 'companies', { inputs: [{ id: d1 }, { id: d2 }, { id: lonely }] });
    expect(read.results.map((r) => r._from.id).sort()).toEqual([d1, d2].sort());
    const errors = (read as unknown as { errors: Array<{ subCategory: string; context: { fromObjectId: string[] } }> }).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', context: { fromObjectId: [lonely] } });

    const fromCompany = await hs.crm.associations.v4.batchApi.getPage('companies', 'deals', { inputs: [{ id: c }] });
    expect(fromCompany.results[0]!.to.map((t) => String(t.toObjectId)).sort()).toEqual([d1, d2].sort());

    await hs.crm.associations.v4.batchApi.archive('deals', 'companies', { inputs: [{ _from: { id: d1 }, to: [{ id: c }] }] });
    const after = await hs.crm.associations.v4.basicApi.getPage('companies', c, 'deals');
    expect(after.results.map((r) => String(r.toObjectId))).toEqual([d2]);
  });

  it('batch-associates with the default type and archives only a label with labels/archive', async () => {
    const d = await deal('Labels');
    const c = await company('Labels Co');
    const res = await hs.crm.associations.v4.batchApi.createDefault('deals', 'companies', { inputs: [{ _from: { id: d }, to: { id: c } }] });
    expect(res.results).toHaveLength(1);
    await hs.crm.associations.v4.basicApi.create('deals', d, 'companies', c, [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 5 }]);
    await hs.crm.associations.v4.batchApi.archiveLabels('deals', 'companies', { inputs: [{ _from: { id: d }, to: { id: c }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 5 }] }] });
    const page = await hs.crm.associations.v4.basicApi.getPage('deals', d, 'companies');
    expect(page.results[0]!.associationTypes.map((t) => t.typeId)).toEqual([341]);
  });

  it('lists the deal→company association types (labels) with the SDK’s schema client', async () => {
    const labels = await hs.crm.associations.v4.schema.definitionsApi.getAll('deals', 'companies');
    expect(labels.results).toEqual([{ category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 341, label: null }]);
  });

  it('hides associations to archived objects', async () => {
    const d = await deal('Archived partner');
    const c = await company('Soon gone');
    await hs.crm.associations.v4.basicApi.createDefault('deals', d, 'companies', c);
    await hs.crm.companies.basicApi.archive(c);
    const read = await hs.crm.deals.basicApi.getById(d, undefined, undefined, ['companies']);
    expect(read.associations).toBeUndefined();
  });
});
