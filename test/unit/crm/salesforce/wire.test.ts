// Salesforce wire shapes → ours, pure: field types, pipelines from record types, rows to records.
import {
  sfDescribeWire,
  sfOpportunityRowWire,
  toCrmFieldInfo,
  toCrmOpportunity,
  toCrmOwner,
  toPipelines,
} from '../../../../src/crm/salesforce/salesforce-wire';

const field = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, label: name, type, createable: true, updateable: true, ...extra });

describe('toCrmFieldInfo', () => {
  it.each([
    ['string', 'string'], ['textarea', 'string'], ['email', 'string'], ['url', 'string'], ['phone', 'string'],
    ['currency', 'number'], ['double', 'number'], ['percent', 'number'], ['int', 'number'],
    ['date', 'date'], ['datetime', 'datetime'], ['picklist', 'enumeration'], ['boolean', 'boolean'], ['reference', 'reference'],
    ['address', 'string'],
  ])('%s → %s', (sfType, ours) => {
    expect(toCrmFieldInfo(sfDescribeWire.parse({ name: 'Opportunity', fields: [field('F', sfType)] }).fields[0]!).type).toBe(ours);
  });

  it('read-only when neither createable nor updateable, or calculated; unique when external id or unique', () => {
    const [ro, formula, createOnly, ext, uniq] = sfDescribeWire.parse({
      name: 'Opportunity',
      fields: [
        field('IsWon', 'boolean', { createable: false, updateable: false }),
        field('Margin__c', 'currency', { calculated: true }),
        field('CreatedFrom__c', 'string', { updateable: false }),
        field('Ext__c', 'string', { externalId: true }),
        field('Code__c', 'string', { unique: true }),
      ],
    }).fields.map(toCrmFieldInfo);
    expect([ro!.readOnly, formula!.readOnly, createOnly!.readOnly]).toEqual([true, true, false]);
    expect([ext!.unique, uniq!.unique, ro!.unique]).toEqual([true, true, false]);
  });

  it('picklists offer their active values only', () => {
    const [f] = sfDescribeWire.parse({
      name: 'Opportunity',
      fields: [field('Stage', 'picklist', { picklistValues: [{ active: true, label: 'Open', value: 'open' }, { active: false, label: 'Old', value: 'old' }, { active: true, label: null, value: 'raw' }] })],
    }).fields.map(toCrmFieldInfo);
    expect(f!.options).toEqual([
      { value: 'open', label: 'Open' },
      { value: 'raw', label: 'raw' },
    ]);
  });
});

describe('toPipelines', () => {
  const stages = [
    { ApiName: 'Closed Won', MasterLabel: 'Won', IsClosed: true, IsWon: true, SortOrder: 3 },
    { ApiName: 'Prospecting', MasterLabel: 'Prospecting', IsClosed: false, IsWon: false, SortOrder: 1 },
  ];

  it('an org without record types has one pipeline, "default"', () => {
    const d = sfDescribeWire.parse({ name: 'Opportunity', fields: [], recordTypeInfos: [{ recordTypeId: '012000000000000AAA', name: 'Master', master: true }] });
    expect(toPipelines(d, stages)).toEqual([{ id: 'default', label: 'Default', stages: [{ id: 'Prospecting', label: 'Prospecting', isClosed: false, isWon: false, order: 1 }, { id: 'Closed Won', label: 'Won', isClosed: true, isWon: true, order: 3 }] }]);
  });

  it('active record types become pipelines by their 18-char id; inactive ones and Master do not', () => {
    const d = sfDescribeWire.parse({
      name: 'Opportunity',
      fields: [],
      recordTypeInfos: [
        { recordTypeId: '0128d0000000001', name: 'Partner Deal', master: false, active: true },
        { recordTypeId: '0128d0000000002AAA', name: 'Retired', master: false, active: false },
        { recordTypeId: '012000000000000AAA', name: 'Master', master: true, active: true },
      ],
    });
    expect(toPipelines(d, stages).map((p) => [p.id, p.label])).toEqual([
      ['default', 'Default'],
      ['0128d0000000001AAA', 'Partner Deal'],
    ]);
  });
});

describe('rows', () => {
  it('an opportunity: raw string values, ISO updatedAt from SystemModstamp, pipeline from RecordTypeId', () => {
    const row = sfOpportunityRowWire.parse({
      attributes: { type: 'Opportunity' },
      Id: '0068d0000000001',
      Name: 'Acme',
      Amount: 1200,
      CloseDate: '2027-01-31',
      StageName: 'Prospecting',
      IsClosed: false,
      IsWon: false,
      OwnerId: '0058d0000000001AAA',
      AccountId: null,
      SystemModstamp: '2026-11-20T10:00:05.000+0000',
      RecordTypeId: '0128d0000000001AAA',
      Dealreg_Registration_Id__c: 'reg-1',
      IsPrivate: false,
      Probability: 10,
    });
    const o = toCrmOpportunity(row, { fields: new Map([['IsPrivate', 'IsPrivate'], ['Probability', 'Probability'], ['Gone__c', null]]), registrationIdField: 'Dealreg_Registration_Id__c' });
    expect(o).toMatchObject({
      externalId: '0068d0000000001AAA',
      registrationId: 'reg-1',
      pipelineId: '0128d0000000001AAA',
      accountExternalIds: [],
      updatedAt: '2026-11-20T10:00:05.000Z',
      fields: { IsPrivate: 'false', Probability: '10', Gone__c: null },
    });
  });

  it('an owner’s teams: role and user type, when set', () => {
    expect(toCrmOwner({ Id: '0058d0000000001AAA', Name: 'Pat', Email: '', UserRoleId: null, UserType: null })).toEqual({ id: '0058d0000000001AAA', userId: '0058d0000000001AAA', name: 'Pat', email: null, teamIds: [] });
  });
});
