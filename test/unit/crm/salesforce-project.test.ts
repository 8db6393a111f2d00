// The SFDX project (crm-cards/salesforce) must deploy exactly the Opportunity fields dealreg expects
// (src/crm/salesforce/salesforce-schema.ts) and a permission set that lets the integration user read and
// write all of them; otherwise ensureSchema() reports fields missing after a "successful" deploy, or the
// upsert by external id fails in production.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEALREG_DEAL_PROPERTIES } from '../../../src/crm/hubspot/hubspot-schema';
import { defaultSalesforceMapping } from '../../../src/crm/salesforce/salesforce-mapping-defaults';
import {
  DEALREG_OPPORTUNITY_FIELDS,
  SALESFORCE_PERMISSION_SET,
  SALESFORCE_REGISTRATION_ID_FIELD,
  type DealregFieldSpec,
} from '../../../src/crm/salesforce/salesforce-schema';
import { syncMappingSchema } from '../../../src/domain/sync-mapping';

const project = path.resolve(__dirname, '..', '..', '..', 'crm-cards', 'salesforce');
const metadata = path.join(project, 'force-app', 'main', 'default');
const fieldsDir = path.join(metadata, 'objects', 'Opportunity', 'fields');
const permissionSetsDir = path.join(metadata, 'permissionsets');
const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

// --- a small reader for the element-only XML the Metadata API uses (no attributes but xmlns, no mixed content)

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, e: string) => {
    if (/^#x/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    const c = ENTITIES.get(e);
    if (c === undefined) throw new Error(`unknown XML entity ${whole}`);
    return c;
  });

function parseXml(source: string): XmlElement {
  const body = source.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, '');
  const doc: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const open: XmlElement[] = []; // the ancestors of `top`
  let top = doc;
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|[^<]+/y;
  while (token.lastIndex < body.length) {
    const at = token.lastIndex;
    const m = token.exec(body);
    if (!m) throw new Error(`malformed XML at offset ${at}: ${body.slice(at, at + 40)}`);
    const [whole, closing, name, rawAttributes = '', selfClosing] = m;
    if (whole.startsWith('<!--')) continue;
    if (name === undefined) {
      top.text += decode(whole);
    } else if (closing) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      if (top.children.length > 0 && top.text.trim() !== '') throw new Error(`<${name}> mixes text and elements`);
      if (top.children.length > 0) top.text = '';
      top = open.pop() ?? doc;
    } else {
      const attributes: Record<string, string> = {};
      for (const [, key = '', value = ''] of rawAttributes.matchAll(/([\w.:-]+)\s*=\s*"([^"]*)"/g)) attributes[key] = decode(value);
      const element: XmlElement = { name, attributes, children: [], text: '' };
      top.children.push(element);
      if (!selfClosing) {
        open.push(top);
        top = element;
      }
    }
  }
  if (top !== doc) throw new Error(`<${top.name}> is never closed`);
  const [root, ...more] = doc.children;
  if (!root || more.length > 0 || doc.text.trim() !== '') throw new Error('an XML document has exactly one root element');
  return root;
}

const all = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);
function one(el: XmlElement, name: string): XmlElement {
  const [found, ...more] = all(el, name);
  if (!found || more.length > 0) throw new Error(`<${el.name}> has ${more.length + (found ? 1 : 0)} <${name}> elements, expected one`);
  return found;
}
/** The text of an optional single child element; undefined when it is absent. */
function textOf(el: XmlElement, name: string): string | undefined {
  const found = all(el, name);
  if (found.length > 1) throw new Error(`<${el.name}> has ${found.length} <${name}> elements`);
  return found[0]?.text;
}

/** Reads a metadata file, checking the declaration, the root element and the Metadata API namespace. */
function readMetadata(file: string, rootName: string): XmlElement {
  const source = readFileSync(file, 'utf8');
  const where = path.relative(project, file);
  if (!source.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) throw new Error(`${where} does not start with the UTF-8 XML declaration`);
  const root = parseXml(source);
  if (root.name !== rootName) throw new Error(`${where}: root <${root.name}>, expected <${rootName}>`);
  if (root.attributes.xmlns !== METADATA_NS) throw new Error(`${where}: xmlns="${root.attributes.xmlns}", expected "${METADATA_NS}"`);
  return root;
}

// The Metadata API schema lists each type's elements as fullName first, then alphabetically; a deploy
// rejects elements out of that order ("Element ... invalid at this location in type CustomField").
function expectSchemaOrder(el: XmlElement, where: string): void {
  const names = el.children.map((c) => c.name);
  const expected = [...names].sort((a, b) => (a === 'fullName' ? -1 : b === 'fullName' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  expect({ where, names }).toEqual({ where, names: expected });
  for (const child of el.children) expectSchemaOrder(child, `${where} > ${child.name}`);
}

// --- the project as it is on disk

const FIELD_SUFFIX = '.field-meta.xml';
const fieldFiles = readdirSync(fieldsDir).filter((f) => f.endsWith(FIELD_SUFFIX));
const fields = new Map(fieldFiles.map((f) => [f.slice(0, -FIELD_SUFFIX.length), readMetadata(path.join(fieldsDir, f), 'CustomField')]));
const specs = new Map(DEALREG_OPPORTUNITY_FIELDS.map((s) => [s.name, s]));

const SALESFORCE_TYPE: Record<DealregFieldSpec['type'], string> = { string: 'Text', picklist: 'Picklist', date: 'Date' };
/** Standard Opportunity fields that are required, so always visible and editable: a permission set cannot name them. */
const ALWAYS_ACCESSIBLE = new Set(['Name', 'StageName', 'CloseDate']);

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The partner card's permission sets (besides the integration user's): approvers and read-only viewers. */
const CARD_APPROVER_SET = 'Dealreg_Card_Approver';
const CARD_VIEWER_SET = 'Dealreg_Card_Viewer';
const CARD_PERMISSION_SETS = [CARD_APPROVER_SET, CARD_VIEWER_SET];

describe('the Opportunity fields in the SFDX project', () => {
  test('are exactly the fields of DEALREG_OPPORTUNITY_FIELDS: none missing, none extra, one file each named by its fullName', () => {
    expect(sorted(fields.keys())).toEqual(sorted(specs.keys()));
    expect(readdirSync(fieldsDir).filter((f) => !f.endsWith(FIELD_SUFFIX))).toEqual([]);
    for (const [name, xml] of fields) expect({ file: name, fullName: textOf(xml, 'fullName') }).toEqual({ file: name, fullName: name });
  });

  test.each(DEALREG_OPPORTUNITY_FIELDS.map((s) => [s.name, s] as const))('%s has the type, length, label, description and flags of its spec', (name, spec) => {
    const xml = fields.get(name);
    if (!xml) throw new Error(`no ${name}${FIELD_SUFFIX} in ${path.relative(project, fieldsDir)}`);
    expect({
      type: textOf(xml, 'type'),
      length: textOf(xml, 'length'),
      label: textOf(xml, 'label'),
      description: textOf(xml, 'description'),
      externalId: textOf(xml, 'externalId') ?? 'false',
      unique: textOf(xml, 'unique') ?? 'false',
      required: textOf(xml, 'required'),
      trackHistory: textOf(xml, 'trackHistory'),
      trackFeedHistory: textOf(xml, 'trackFeedHistory'),
    }).toEqual({
      type: SALESFORCE_TYPE[spec.type],
      length: spec.type === 'string' ? String(spec.length) : undefined,
      label: spec.label,
      description: spec.description,
      externalId: String(spec.externalId === true),
      unique: String(spec.unique === true),
      required: 'false',
      trackHistory: 'false',
      trackFeedHistory: 'false',
    });
    // Unique text fields say how they compare; dealreg's ids are matched case-insensitively.
    expect(textOf(xml, 'caseSensitive')).toBe(spec.unique ? 'false' : undefined);
    expect(textOf(xml, 'inlineHelpText')?.trim()).toBeTruthy();
  });

  test('the registration id is the upsert key: Text(36), External ID, unique, case-insensitive', () => {
    const xml = fields.get(SALESFORCE_REGISTRATION_ID_FIELD)!;
    expect(['type', 'length', 'externalId', 'unique', 'caseSensitive'].map((e) => textOf(xml, e))).toEqual(['Text', '36', 'true', 'true', 'false']);
  });

  test.each(DEALREG_OPPORTUNITY_FIELDS.filter((s) => s.type === 'picklist').map((s) => [s.name, s] as const))(
    '%s is a restricted, unsorted picklist of the spec values in order, none of them a default',
    (name, spec) => {
      const valueSet = one(fields.get(name)!, 'valueSet');
      expect(textOf(valueSet, 'restricted')).toBe('true');
      const definition = one(valueSet, 'valueSetDefinition');
      expect(textOf(definition, 'sorted')).toBe('false');
      const values = all(definition, 'value');
      expect(values.map((v) => textOf(v, 'fullName'))).toEqual([...(spec.values ?? [])]);
      expect(values.map((v) => textOf(v, 'default'))).toEqual(values.map(() => 'false'));
      for (const v of values) expect(textOf(v, 'label')?.trim()).toBeTruthy();
    },
  );

  test('the status values carry the same human labels as the HubSpot dealreg_status options', () => {
    const hubspot = DEALREG_DEAL_PROPERTIES.find((p) => p.name === 'dealreg_status')!.options.map((o) => [o.value, o.label]);
    const values = all(one(one(fields.get('Dealreg_Status__c')!, 'valueSet'), 'valueSetDefinition'), 'value');
    expect(values.map((v) => [textOf(v, 'fullName'), textOf(v, 'label')])).toEqual(hubspot);
  });

  test('names, labels and texts fit the Metadata API limits', () => {
    for (const [name, xml] of fields) {
      // Letters, digits and single underscores, starting with a letter; at most 40 characters before __c.
      expect({ name, valid: /^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*__c$/.test(name) && name.length - '__c'.length <= 40 }).toEqual({ name, valid: true });
      expect({ name, label: (textOf(xml, 'label') ?? '').length <= 40 }).toEqual({ name, label: true });
      expect({ name, description: (textOf(xml, 'description') ?? '').length <= 1000 }).toEqual({ name, description: true });
      expect({ name, help: (textOf(xml, 'inlineHelpText') ?? '').length <= 510 }).toEqual({ name, help: true });
      const length = textOf(xml, 'length');
      if (length !== undefined) expect({ name, length: Number(length) >= 1 && Number(length) <= 255 }).toEqual({ name, length: true });
    }
  });

  test('elements are in the order the Metadata API schema requires', () => {
    for (const [name, xml] of fields) expectSchemaOrder(xml, name);
  });
});

describe('the Dealreg_Integration permission set', () => {
  const SUFFIX = '.permissionset-meta.xml';
  const files = readdirSync(permissionSetsDir).filter((f) => f.endsWith(SUFFIX));
  const file = path.join(permissionSetsDir, `${SALESFORCE_PERMISSION_SET}${SUFFIX}`);

  test('is, with the two partner-card sets, the only permission set; its file is named SALESFORCE_PERMISSION_SET', () => {
    expect(sorted(files)).toEqual(sorted([SALESFORCE_PERMISSION_SET, ...CARD_PERMISSION_SETS].map((n) => `${n}${SUFFIX}`)));
    const ps = readMetadata(file, 'PermissionSet');
    expect(textOf(ps, 'label')?.trim()).toBeTruthy();
    expect((textOf(ps, 'description') ?? '').length).toBeLessThanOrEqual(255);
    expect(textOf(ps, 'hasActivationRequired')).toBe('false');
    expectSchemaOrder(ps, SALESFORCE_PERMISSION_SET);
  });

  test('grants read and edit on every dealreg field and on the standard fields the default mapping syncs, and on nothing else', () => {
    const ps = readMetadata(file, 'PermissionSet');
    const grants = new Map(
      all(ps, 'fieldPermissions').map((fp) => [one(fp, 'field').text, { readable: textOf(fp, 'readable'), editable: textOf(fp, 'editable') }]),
    );
    const mapping = syncMappingSchema.parse(defaultSalesforceMapping());
    const standard = new Set(mapping.fields.map((f) => f.crmField).filter((f) => !f.endsWith('__c') && !ALWAYS_ACCESSIBLE.has(f)));
    if (mapping.accounts.associate) standard.add('AccountId');
    const expected = [...DEALREG_OPPORTUNITY_FIELDS.map((s) => s.name), ...standard].map((f) => `Opportunity.${f}`);
    // A grant for a field the project does not deploy fails the deploy; a missing one hides the field from dealreg.
    expect(sorted(grants.keys())).toEqual(sorted(expected));
    for (const [field, access] of grants) expect({ field, ...access }).toEqual({ field, readable: 'true', editable: 'true' });
  });

  test('gives read, create and edit on Opportunity and Account (enough for Partner rows), no delete or view/modify all, and API access', () => {
    const ps = readMetadata(file, 'PermissionSet');
    const objects = Object.fromEntries(
      all(ps, 'objectPermissions').map((op) => [
        one(op, 'object').text,
        Object.fromEntries(['allowRead', 'allowCreate', 'allowEdit', 'allowDelete', 'viewAllRecords', 'modifyAllRecords'].map((k) => [k, textOf(op, k)])),
      ]),
    );
    const readCreateEdit = { allowRead: 'true', allowCreate: 'true', allowEdit: 'true', allowDelete: 'false', viewAllRecords: 'false', modifyAllRecords: 'false' };
    expect(objects).toEqual({ Opportunity: readCreateEdit, Account: readCreateEdit });
    const userPermissions = all(ps, 'userPermissions').map((up) => ({ name: textOf(up, 'name'), enabled: textOf(up, 'enabled') }));
    expect(userPermissions).toEqual([{ name: 'ApiEnabled', enabled: 'true' }]);
  });
});

// --- the partner attribution card: LWC, Apex controller, custom permission, permission sets, credentials

const classesDir = path.join(metadata, 'classes');
const cardDir = path.join(metadata, 'lwc', 'dealregPartnerCard');
const CONTROLLER = 'DealregCardController';
const CONTROLLER_TEST = 'DealregCardControllerTest';
const APPROVE_PERMISSION = 'Dealreg_Approve';
const CREDENTIAL = 'Dealreg';

/** Files in a metadata folder with this suffix, by the name before it. */
function metadataFiles(dir: string, suffix: string): Map<string, string> {
  return new Map(readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => [f.slice(0, -suffix.length), path.join(dir, f)]));
}
/** Apex or JavaScript without its comments (string contents kept), for checks on the code itself. */
const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
const apiVersionOf = (el: XmlElement) => Number(textOf(el, 'apiVersion'));
const apexClasses = metadataFiles(classesDir, '.cls');
const apexSource = (name: string) => readFileSync(apexClasses.get(name) ?? path.join(classesDir, `${name}.cls`), 'utf8');
/** The parameter names of a public static @AuraEnabled method, as the LWC must name them. */
function auraEnabledParameters(source: string, method: string): string[] {
  const m = new RegExp(`@AuraEnabled(?:\\([^)]*\\))?\\s+public\\s+static\\s+String\\s+${method}\\s*\\(([^)]*)\\)`, 'i').exec(source);
  if (!m) throw new Error(`no @AuraEnabled public static String ${method}(...) in ${CONTROLLER}`);
  return m[1]!.split(',').map((p) => p.trim().split(/\s+/).pop()!).filter(Boolean);
}

describe('the partner card component (LWC dealregPartnerCard)', () => {
  const meta = readMetadata(path.join(cardDir, 'dealregPartnerCard.js-meta.xml'), 'LightningComponentBundle');
  const js = withoutComments(readFileSync(path.join(cardDir, 'dealregPartnerCard.js'), 'utf8'));

  test('has its template, script and metadata, at API 66.0 or newer', () => {
    const files = readdirSync(cardDir);
    for (const f of ['dealregPartnerCard.html', 'dealregPartnerCard.js', 'dealregPartnerCard.js-meta.xml']) expect(files).toContain(f);
    expect(apiVersionOf(meta)).toBeGreaterThanOrEqual(66);
    expect(textOf(meta, 'masterLabel')?.trim()).toBeTruthy();
  });

  test('is exposed on Opportunity record pages only', () => {
    expect(textOf(meta, 'isExposed')).toBe('true');
    expect(all(one(meta, 'targets'), 'target').map((t) => t.text)).toEqual(['lightning__RecordPage']);
    const configs = all(one(meta, 'targetConfigs'), 'targetConfig');
    expect(configs.map((c) => c.attributes.targets)).toEqual(['lightning__RecordPage']);
    expect(all(one(configs[0]!, 'objects'), 'object').map((o) => o.text)).toEqual(['Opportunity']);
  });

  test('imports the two controller methods, and calls act with exactly the parameters the controller declares', () => {
    const controller = apexSource(CONTROLLER);
    for (const method of ['getView', 'act']) {
      expect(js).toContain(`from '@salesforce/apex/${CONTROLLER}.${method}'`);
    }
    expect(auraEnabledParameters(controller, 'getView')).toEqual(['opportunityId']);
    expect(js).toMatch(/getView\(\{\s*opportunityId:\s*this\.recordId\s*\}\)/);
    const call = /\bact\(\{([\s\S]*?)\}\)/.exec(js);
    if (!call) throw new Error('the component never calls act({ ... })');
    const sent = call[1]!.split(',').map((entry) => entry.trim().split(/[\s:]/)[0]!).filter(Boolean);
    expect(sent).toEqual(auraEnabledParameters(controller, 'act'));
  });

  test('.forceignore keeps the Jest tests out of the deploy', () => {
    expect(readFileSync(path.join(project, '.forceignore'), 'utf8').split('\n')).toContain('**/__tests__/**');
  });
});

describe('the card controller (Apex DealregCardController) and its test', () => {
  test.each([CONTROLLER, CONTROLLER_TEST])('%s exists with a -meta.xml at API 66.0 or newer, Active', (name) => {
    expect(apexClasses.has(name)).toBe(true);
    const meta = readMetadata(path.join(classesDir, `${name}.cls-meta.xml`), 'ApexClass');
    expect(apiVersionOf(meta)).toBeGreaterThanOrEqual(66);
    expect(textOf(meta, 'status')).toBe('Active');
    expectSchemaOrder(meta, name);
  });

  test('every class has its -meta.xml, and no -meta.xml is without its class', () => {
    expect(sorted(metadataFiles(classesDir, '.cls-meta.xml').keys())).toEqual(sorted(apexClasses.keys()));
  });

  test('the controller runs with sharing, checks opportunity access, calls through the Dealreg named credential with a timeout', () => {
    const code = withoutComments(apexSource(CONTROLLER));
    expect(code).toMatch(new RegExp(`public\\s+with\\s+sharing\\s+class\\s+${CONTROLLER}\\b`));
    expect(code).toMatch(/WITH\s+USER_MODE|isAccessible\(\)/);
    expect(code).toContain(`'callout:${CREDENTIAL}/cards/salesforce/view'`);
    expect(code).toContain(`'callout:${CREDENTIAL}/cards/salesforce/actions'`);
    expect(code).toMatch(/\.setTimeout\(/);
    expect(code).toContain(`'${APPROVE_PERMISSION}'`);
    for (const header of ['X-Dealreg-User-Id', 'X-Dealreg-User-Email', 'X-Dealreg-User-Name', 'X-Dealreg-Can-Approve']) expect(code).toContain(`'${header}'`);
  });

  test('the controller writes nothing: no DML around its callouts (dealreg’s sync updates the opportunity)', () => {
    const code = withoutComments(apexSource(CONTROLLER)).replace(/'(?:[^'\\]|\\.)*'/g, "''");
    expect(code).not.toMatch(/\b(insert|update|upsert|delete|undelete|merge)\s+[\w(]/i);
    expect(code).not.toMatch(/\bDatabase\s*\.\s*(insert|update|upsert|delete|undelete|merge)/i);
  });

  test('act checks the Dealreg_Approve permission before anything else', () => {
    const code = withoutComments(apexSource(CONTROLLER));
    const body = /public\s+static\s+String\s+act\s*\([^)]*\)\s*\{([\s\S]*)/.exec(code)?.[1] ?? '';
    const firstStatement = body.trim().split('\n')[0] ?? '';
    expect(firstStatement).toMatch(/^if\s*\(\s*!\s*FeatureManagement\.checkPermission\(APPROVE_PERMISSION\)\s*\)/);
    expect(code).toMatch(new RegExp(`APPROVE_PERMISSION\\s*=\\s*'${APPROVE_PERMISSION}'`));
  });

  test('the test class is @IsTest, fakes dealreg with an HttpCalloutMock and runs as users holding the card permission sets', () => {
    const code = withoutComments(apexSource(CONTROLLER_TEST));
    expect(code).toMatch(/@IsTest\s+private\s+class\s+DealregCardControllerTest\b/i);
    expect(code).toMatch(/implements\s+HttpCalloutMock/);
    expect(code).toMatch(/Test\.setMock\(\s*HttpCalloutMock\.class/);
    expect(code).toContain('System.runAs(');
    for (const set of CARD_PERMISSION_SETS) expect(code).toContain(`'${set}'`);
  });
});

describe('the card permissions and credentials', () => {
  const customPermissions = metadataFiles(path.join(metadata, 'customPermissions'), '.customPermission-meta.xml');
  const externalCredentials = metadataFiles(path.join(metadata, 'externalCredentials'), '.externalCredential-meta.xml');
  const namedCredentials = metadataFiles(path.join(metadata, 'namedCredentials'), '.namedCredential-meta.xml');
  const permissionSet = (name: string) => readMetadata(path.join(permissionSetsDir, `${name}.permissionset-meta.xml`), 'PermissionSet');
  const externalCredential = (name: string) => readMetadata(externalCredentials.get(name)!, 'ExternalCredential');
  /** "<external credential>-<named principal>" for every named principal the project deploys. */
  const principals = new Set(
    [...externalCredentials.keys()].flatMap((ec) =>
      all(externalCredential(ec), 'externalCredentialParameters')
        .filter((p) => textOf(p, 'parameterType') === 'NamedPrincipal')
        .map((p) => `${ec}-${textOf(p, 'parameterName')}`),
    ),
  );

  test('the custom permission Dealreg_Approve exists, unlicensed, with a label and description', () => {
    expect([...customPermissions.keys()]).toEqual([APPROVE_PERMISSION]);
    const cp = readMetadata(customPermissions.get(APPROVE_PERMISSION)!, 'CustomPermission');
    expect(textOf(cp, 'label')?.trim()).toBeTruthy();
    expect((textOf(cp, 'label') ?? '').length).toBeLessThanOrEqual(80);
    expect((textOf(cp, 'description') ?? '').length).toBeLessThanOrEqual(255);
    expect(textOf(cp, 'isLicensed')).toBe('false');
    expectSchemaOrder(cp, APPROVE_PERMISSION);
  });

  test.each(CARD_PERMISSION_SETS)('%s references only classes, custom permissions and principals the project deploys', (name) => {
    const ps = permissionSet(name);
    expectSchemaOrder(ps, name);
    expect(textOf(ps, 'label')?.trim()).toBeTruthy();
    expect((textOf(ps, 'description') ?? '').length).toBeLessThanOrEqual(255);
    expect(textOf(ps, 'hasActivationRequired')).toBe('false');
    for (const ca of all(ps, 'classAccesses')) expect({ class: textOf(ca, 'apexClass'), deployed: apexClasses.has(textOf(ca, 'apexClass') ?? '') }).toEqual({ class: textOf(ca, 'apexClass'), deployed: true });
    for (const cp of all(ps, 'customPermissions')) expect({ permission: textOf(cp, 'name'), deployed: customPermissions.has(textOf(cp, 'name') ?? '') }).toEqual({ permission: textOf(cp, 'name'), deployed: true });
    for (const pa of all(ps, 'externalCredentialPrincipalAccesses')) {
      const principal = textOf(pa, 'externalCredentialPrincipal');
      expect({ principal, deployed: principals.has(principal ?? '') }).toEqual({ principal, deployed: true });
    }
  });

  test('both card sets grant the controller and the Dealreg principal (a callout without it is refused); only the approver set grants Dealreg_Approve', () => {
    const grants = (name: string) => {
      const ps = permissionSet(name);
      return {
        classes: all(ps, 'classAccesses').filter((c) => textOf(c, 'enabled') === 'true').map((c) => textOf(c, 'apexClass')),
        customPermissions: all(ps, 'customPermissions').filter((c) => textOf(c, 'enabled') === 'true').map((c) => textOf(c, 'name')),
        principals: all(ps, 'externalCredentialPrincipalAccesses').filter((p) => textOf(p, 'enabled') === 'true').map((p) => textOf(p, 'externalCredentialPrincipal')),
        fields: all(ps, 'fieldPermissions').length,
        userPermissions: all(ps, 'userPermissions').length,
      };
    };
    const principal = [...principals].filter((p) => p.startsWith(`${CREDENTIAL}-`));
    expect(principal).toHaveLength(1);
    expect(grants(CARD_APPROVER_SET)).toEqual({ classes: [CONTROLLER], customPermissions: [APPROVE_PERMISSION], principals: principal, fields: 0, userPermissions: 0 });
    expect(grants(CARD_VIEWER_SET)).toEqual({ classes: [CONTROLLER], customPermissions: [], principals: principal, fields: 0, userPermissions: 0 });
  });

  test('the card sets give read on User External Credentials, and nothing else on objects', () => {
    for (const name of CARD_PERMISSION_SETS) {
      const objects = all(permissionSet(name), 'objectPermissions').map((op) =>
        Object.fromEntries(['object', 'allowRead', 'allowCreate', 'allowEdit', 'allowDelete', 'viewAllRecords', 'modifyAllRecords'].map((k) => [k, textOf(op, k)])),
      );
      expect({ name, objects }).toEqual({
        name,
        objects: [{ object: 'UserExternalCredential', allowRead: 'true', allowCreate: 'false', allowEdit: 'false', allowDelete: 'false', viewAllRecords: 'false', modifyAllRecords: 'false' }],
      });
    }
  });

  test('the Dealreg external credential is Custom, with one named principal and a bearer Authorization header from its own parameter', () => {
    expect([...externalCredentials.keys()]).toEqual([CREDENTIAL]);
    const ec = externalCredential(CREDENTIAL);
    expectSchemaOrder(ec, CREDENTIAL);
    expect(textOf(ec, 'label')?.trim()).toBeTruthy();
    expect(textOf(ec, 'authenticationProtocol')).toBe('Custom');
    const parameters = all(ec, 'externalCredentialParameters');
    expect(parameters.filter((p) => textOf(p, 'parameterType') === 'NamedPrincipal')).toHaveLength(1);
    const headers = parameters.filter((p) => textOf(p, 'parameterType') === 'AuthHeader');
    expect(headers.map((h) => textOf(h, 'parameterName'))).toEqual(['Authorization']);
    // The secret is set per org in Setup; the file only refers to it.
    expect(textOf(headers[0]!, 'parameterValue')).toMatch(new RegExp(`^\\{!'Bearer ' & \\$Credential\\.${CREDENTIAL}\\.\\w+\\}$`));
    expect(readFileSync(externalCredentials.get(CREDENTIAL)!, 'utf8')).not.toMatch(/drc_/);
  });

  test('the Dealreg named credential is a secured endpoint on the Dealreg external credential, at an https placeholder, without merge fields', () => {
    expect([...namedCredentials.keys()]).toEqual([CREDENTIAL]);
    const nc = readMetadata(namedCredentials.get(CREDENTIAL)!, 'NamedCredential');
    expectSchemaOrder(nc, CREDENTIAL);
    expect(textOf(nc, 'namedCredentialType')).toBe('SecuredEndpoint');
    expect(textOf(nc, 'calloutStatus')).toBe('Enabled');
    const byType = new Map(all(nc, 'namedCredentialParameters').map((p) => [textOf(p, 'parameterType'), p]));
    expect(textOf(byType.get('Url')!, 'parameterValue')).toMatch(/^https:\/\/[^/]+$/);
    const authentication = byType.get('Authentication')!;
    expect(textOf(authentication, 'externalCredential')).toBe(CREDENTIAL);
    expect(externalCredentials.has(textOf(authentication, 'externalCredential') ?? '')).toBe(true);
    // A reject reason or a user's name containing {!...} must reach dealreg as written, not be evaluated.
    expect([textOf(nc, 'allowMergeFieldsInHeader'), textOf(nc, 'allowMergeFieldsInBody')]).toEqual(['false', 'false']);
  });
});

describe('the SFDX project files', () => {
  test('sfdx-project.json deploys force-app (no namespace) at source API 66.0 or newer', () => {
    const sfdx = JSON.parse(readFileSync(path.join(project, 'sfdx-project.json'), 'utf8'));
    expect(sfdx.packageDirectories).toEqual([{ path: 'force-app', default: true }]);
    expect(sfdx.namespace).toBe('');
    expect(sfdx.sourceApiVersion).toMatch(/^\d{2,3}\.0$/);
    expect(Number(sfdx.sourceApiVersion)).toBeGreaterThanOrEqual(66);
  });

  test('the scratch org definition names an edition', () => {
    const def = JSON.parse(readFileSync(path.join(project, 'config', 'project-scratch-def.json'), 'utf8'));
    expect(['Developer', 'Enterprise', 'Group', 'Professional', 'Partner Developer', 'Partner Enterprise']).toContain(def.edition);
  });
});

describe('the XML reader these checks rely on', () => {
  test('reads elements, entities and comments, and rejects malformed XML', () => {
    const el = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<A xmlns="x"><!-- c --><b>it&apos;s &amp; &#65;</b><b/></A>');
    expect(el.attributes.xmlns).toBe('x');
    expect(all(el, 'b').map((b) => b.text)).toEqual(["it's & A", '']);
    expect(() => parseXml('<A><b></A>')).toThrow();
    expect(() => parseXml('<A><b>x</b>')).toThrow();
    expect(() => parseXml('<A>&nbsp;</A>')).toThrow();
  });
});
