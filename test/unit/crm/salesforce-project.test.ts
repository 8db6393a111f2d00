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

  test('is the only permission set, and its file is named SALESFORCE_PERMISSION_SET', () => {
    expect(files).toEqual([`${SALESFORCE_PERMISSION_SET}${SUFFIX}`]);
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
