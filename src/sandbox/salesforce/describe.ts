// `GET /sobjects` (describeGlobal) and `GET /sobjects/{name}/describe` bodies, with the keys Salesforce
// sends (most are constant for the objects the sandbox serves).
import type { FieldDef, OrgSchema, SObjectDef } from './schema';
import { MASTER_RECORD_TYPE_ID } from './ids';

const SOAP_TYPE: Record<string, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  url: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  picklist: 'xsd:string',
  boolean: 'xsd:boolean',
  currency: 'xsd:double',
  double: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

function urlsOf(version: string, name: string): Record<string, string> {
  const base = `/services/data/${version}/sobjects/${name}`;
  return { compactLayouts: `${base}/describe/compactLayouts`, rowTemplate: `${base}/{ID}`, defaultValues: `${base}/defaultValues?recordTypeId&fields`, describe: `${base}/describe`, sobject: base };
}

function basics(version: string, def: SObjectDef): Record<string, unknown> {
  return {
    activateable: false,
    associateEntityType: null,
    associateParentEntity: null,
    createable: def.createable,
    custom: false,
    customSetting: false,
    deepCloneable: false,
    deletable: def.deletable,
    deprecatedAndHidden: false,
    feedEnabled: def.name === 'Account' || def.name === 'Opportunity',
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: def.createable,
    mergeable: def.name === 'Account',
    mruEnabled: def.createable,
    name: def.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: def.name !== 'OpportunityStage' && def.name !== 'Partner' && def.name !== 'OpportunityPartner',
    triggerable: def.createable,
    undeletable: def.deletable,
    updateable: def.updateable,
    urls: urlsOf(version, def.name),
  };
}

export function describeGlobal(version: string, schema: OrgSchema): Record<string, unknown> {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...schema.values()].map((d) => basics(version, d)) };
}

export function describeBasic(version: string, def: SObjectDef): Record<string, unknown> {
  return { objectDescribe: basics(version, def), recentItems: [] };
}

function byteLength(f: FieldDef): number {
  if (f.type === 'id' || f.type === 'reference') return 18;
  return ['string', 'textarea', 'url', 'email', 'phone', 'picklist'].includes(f.type) ? f.length * 3 : 0;
}

function fieldJson(f: FieldDef): Record<string, unknown> {
  const text = ['string', 'textarea', 'url', 'email', 'phone', 'picklist', 'id', 'reference'].includes(f.type);
  const longText = f.type === 'textarea' && f.length > 255;
  return {
    aggregatable: !longText,
    aiPredictionField: false,
    autoNumber: false,
    byteLength: byteLength(f),
    calculated: f.calculated,
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: f.caseSensitive,
    compoundFieldName: f.name.startsWith('Billing') && f.name !== 'BillingAddress' ? 'BillingAddress' : null,
    controllerName: null,
    createable: f.createable,
    custom: f.custom,
    defaultValue: f.type === 'boolean' ? f.name === 'IsActive' : null,
    defaultValueFormula: null,
    defaultedOnCreate: f.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: f.digits,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: f.externalId,
    extraTypeInfo: f.type === 'url' ? 'url' : null,
    filterable: !longText,
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: false,
    groupable: text && !longText && f.type !== 'textarea',
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: f.idLookup,
    inlineHelpText: null,
    label: f.label,
    length: ['string', 'textarea', 'url', 'email', 'phone', 'picklist'].includes(f.type) ? f.length : f.type === 'id' || f.type === 'reference' ? 18 : 0,
    mask: null,
    maskType: null,
    name: f.name,
    nameField: f.nameField,
    namePointing: false,
    nillable: f.nillable,
    permissionable: f.nillable && (f.createable || f.updateable),
    picklistValues: f.picklistValues,
    polymorphicForeignKey: false,
    precision: f.precision,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: f.restrictedPicklist,
    scale: f.scale,
    searchPrefilterable: false,
    soapType: SOAP_TYPE[f.type],
    sortable: !longText,
    type: f.type,
    unique: f.unique,
    updateable: f.updateable,
    writeRequiresMasterRead: false,
  };
}

const CHILD_RELATIONSHIPS: Record<string, Array<{ childSObject: string; field: string; relationshipName: string | null; cascadeDelete: boolean }>> = {
  Account: [
    { childSObject: 'Opportunity', field: 'AccountId', relationshipName: 'Opportunities', cascadeDelete: true },
    { childSObject: 'Partner', field: 'AccountToId', relationshipName: null, cascadeDelete: true },
    { childSObject: 'Partner', field: 'AccountFromId', relationshipName: 'Partners', cascadeDelete: true },
    { childSObject: 'OpportunityPartner', field: 'AccountToId', relationshipName: 'OpportunityPartnersTo', cascadeDelete: true },
    { childSObject: 'User', field: 'AccountId', relationshipName: 'Users', cascadeDelete: false },
  ],
  Opportunity: [
    { childSObject: 'Partner', field: 'OpportunityId', relationshipName: null, cascadeDelete: true },
    { childSObject: 'OpportunityPartner', field: 'OpportunityId', relationshipName: 'OpportunityPartnersFrom', cascadeDelete: true },
  ],
};

export function describeSObject(version: string, def: SObjectDef): Record<string, unknown> {
  const recordTypes = def.recordTypes;
  const rtInfo = (id: string, developerName: string, name: string, isDefault: boolean, master: boolean): Record<string, unknown> => ({
    active: true,
    available: true,
    defaultRecordTypeMapping: isDefault,
    developerName,
    master,
    name,
    recordTypeId: id,
    urls: { layout: `/services/data/${version}/sobjects/${def.name}/describe/layouts/${id}` },
  });
  const recordTypeInfos = [
    ...recordTypes.map((r) => rtInfo(r.id, r.developerName, r.name, r.isDefault, false)),
    rtInfo(MASTER_RECORD_TYPE_ID, 'Master', 'Master', recordTypes.length === 0, true),
  ];
  return {
    ...basics(version, def),
    actionOverrides: [],
    childRelationships: (CHILD_RELATIONSHIPS[def.name] ?? []).map((c) => ({ ...c, deprecatedAndHidden: false, junctionIdListNames: [], junctionReferenceTo: [], restrictedDelete: false })),
    compactLayoutable: def.createable,
    defaultImplementation: null,
    extendedBy: null,
    extendsInterfaces: null,
    fields: def.fields.map(fieldJson),
    implementedBy: null,
    implementsInterfaces: null,
    listviewable: null,
    lookupLayoutable: null,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos,
    searchLayoutable: def.createable,
    sobjectDescribeOption: 'FULL',
    supportedScopes: [{ label: 'All ' + def.labelPlural.toLowerCase(), name: 'everything' }],
  };
}
