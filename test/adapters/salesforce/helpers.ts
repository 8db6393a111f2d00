// Shared fakes for the Salesforce adapter tests: the CRM test doubles of ../crm-test-doubles.ts (a
// CallGate that counts, a token source that records refreshes, a nock scope that counts) set up for
// Salesforce, an adapter wired with instant sleeps, and the bodies Salesforce (and the sandbox,
// src/sandbox/salesforce) answer with.
import { createSalesforceAdapter, type SalesforceAdapterOptions } from '../../../src/crm/salesforce/salesforce-adapter';
import { toId18 } from '../../../src/crm/salesforce/salesforce-ids';
import { silentLogger } from '../../../src/lib/logger';
import { countingGate, countingScope, recordingTokens, type CountingScope } from '../crm-test-doubles';

export { countingGate, recordingTokens, type CountingGate, type RecordingTokens } from '../crm-test-doubles';

export const INSTANCE = 'https://acme.my.salesforce.test';
export const LOGIN = 'https://login.salesforce.test';
export const API = '/services/data/v66.0';
export const ORG_ID = toId18('00D8d0000000001')!;

/** A valid 18-char id with the given key prefix ('006' opportunity, '001' account, '005' user). */
export function sfId(prefix: string, n: number): string {
  return toId18(`${prefix}8d${String(n).padStart(10, '0')}`)!;
}

/** An adapter with a counting gate, recording tokens and sleeps that return at once (and are recorded). */
export function adapterWith(over: Partial<SalesforceAdapterOptions> = {}) {
  const gate = countingGate();
  const tokens = recordingTokens();
  const sleeps: number[] = [];
  const adapter = createSalesforceAdapter({
    orgId: ORG_ID,
    instanceUrl: INSTANCE,
    apiVersion: '66.0',
    loginUrl: LOGIN,
    tokens,
    gate,
    log: silentLogger(),
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    timeoutMs: 2000,
    ...over,
  });
  return { adapter, gate, tokens, sleeps };
}

/** A nock scope for INSTANCE that counts the requests it answered (compare with the gate's count). */
export function salesforce(): CountingScope {
  return countingScope(INSTANCE);
}

export const limitHeaders = (used = 1200, max = 100_000) => ({ 'Sforce-Limit-Info': `api-usage=${used}/${max}` });

/** A request-level error body: Salesforce's array. */
export const sfError = (errorCode: string, message: string, extra: Record<string, unknown> = {}) => [{ message, errorCode, ...extra }];

/** A query answer. */
export function queryBody(records: unknown[], nextRecordsUrl?: string, totalSize = records.length) {
  return { totalSize, done: nextRecordsUrl === undefined, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records };
}

/** A matcher for `GET /query?q=…` whose SOQL satisfies `test`. */
export function soql(test: (q: string) => boolean) {
  return (query: Record<string, unknown>) => typeof query.q === 'string' && test(query.q);
}

export function opportunityRow(id: string, extra: Record<string, unknown> = {}) {
  return {
    attributes: { type: 'Opportunity', url: `${API}/sobjects/Opportunity/${id}` },
    Id: id,
    Name: `Opportunity ${id}`,
    Amount: 1000,
    CloseDate: '2026-12-31',
    StageName: 'Prospecting',
    IsClosed: false,
    IsWon: false,
    OwnerId: sfId('005', 1),
    AccountId: sfId('001', 1),
    LastModifiedDate: '2026-11-20T10:00:00.000+0000',
    SystemModstamp: '2026-11-20T10:00:00.000+0000',
    Dealreg_Registration_Id__c: `reg-${id.slice(-4)}`,
    ...extra,
  };
}

export function accountRow(id: string, extra: Record<string, unknown> = {}) {
  return {
    attributes: { type: 'Account', url: `${API}/sobjects/Account/${id}` },
    Id: id,
    Name: `Account ${id}`,
    Website: 'https://www.acme.co.uk/about',
    BillingCountry: 'United Kingdom',
    OwnerId: sfId('005', 1),
    Type: 'Prospect',
    SystemModstamp: '2026-11-20T10:00:00.000+0000',
    ...extra,
  };
}

interface FieldSpec {
  name: string;
  type: string;
  label?: string;
  createable?: boolean;
  updateable?: boolean;
  calculated?: boolean;
  externalId?: boolean;
  unique?: boolean;
  picklist?: Array<{ value: string; active?: boolean }>;
}

const field = (f: FieldSpec) => ({
  name: f.name,
  label: f.label ?? f.name,
  type: f.type,
  createable: f.createable ?? true,
  updateable: f.updateable ?? true,
  calculated: f.calculated ?? false,
  externalId: f.externalId ?? false,
  unique: f.unique ?? false,
  nillable: true,
  picklistValues: (f.picklist ?? []).map((p) => ({ active: p.active ?? true, defaultValue: false, label: p.value, validFor: null, value: p.value })),
});

export const DEALREG_FIELDS: FieldSpec[] = [
  { name: 'Dealreg_Registration_Id__c', type: 'string', externalId: true, unique: true },
  { name: 'Dealreg_Partner__c', type: 'string' },
  { name: 'Dealreg_Partner_Tier__c', type: 'string' },
  { name: 'Dealreg_Status__c', type: 'picklist', picklist: [{ value: 'approved' }, { value: 'won' }] },
  { name: 'Dealreg_Protection_End__c', type: 'date' },
  { name: 'Dealreg_Verdict__c', type: 'string' },
];

/** `GET /sobjects/Opportunity/describe` with the standard fields, optionally the dealreg fields and record types. */
export function opportunityDescribe(o: { dealreg?: FieldSpec[]; recordTypes?: Array<{ id: string; name: string; active?: boolean }>; extra?: FieldSpec[] } = {}) {
  const ro = { createable: false, updateable: false };
  const fields: FieldSpec[] = [
    { name: 'Id', type: 'id', ...ro },
    { name: 'AccountId', type: 'reference' },
    ...(o.recordTypes && o.recordTypes.length > 0 ? [{ name: 'RecordTypeId', type: 'reference' }] : []),
    { name: 'Name', type: 'string' },
    { name: 'StageName', type: 'picklist', picklist: [{ value: 'Prospecting' }, { value: 'Closed Won' }, { value: 'Old Stage', active: false }] },
    { name: 'Amount', type: 'currency' },
    { name: 'Probability', type: 'percent' },
    { name: 'ExpectedRevenue', type: 'currency', calculated: true, ...ro },
    { name: 'CloseDate', type: 'date' },
    { name: 'IsClosed', type: 'boolean', ...ro },
    { name: 'IsWon', type: 'boolean', ...ro },
    { name: 'OwnerId', type: 'reference' },
    { name: 'NextStep', type: 'string' },
    { name: 'LastModifiedDate', type: 'datetime', ...ro },
    { name: 'SystemModstamp', type: 'datetime', ...ro },
    ...(o.dealreg ?? DEALREG_FIELDS),
    ...(o.extra ?? []),
  ];
  const recordTypeInfos = [
    ...(o.recordTypes ?? []).map((r) => ({ active: r.active ?? true, available: true, defaultRecordTypeMapping: false, developerName: r.name.replace(/\W/g, '_'), master: false, name: r.name, recordTypeId: r.id })),
    { active: true, available: true, defaultRecordTypeMapping: !(o.recordTypes ?? []).length, developerName: 'Master', master: true, name: 'Master', recordTypeId: '012000000000000AAA' },
  ];
  return { name: 'Opportunity', label: 'Opportunity', fields: fields.map(field), recordTypeInfos, childRelationships: [] };
}

export const DESCRIBE_PATH = `${API}/sobjects/Opportunity/describe`;
