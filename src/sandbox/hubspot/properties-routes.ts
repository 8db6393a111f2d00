// Properties API v3 and property groups: list, read, create (409 on a duplicate name), update,
// archive, batch read / create. Unique-value properties (`hasUniqueValue`) start being enforced on
// writes as soon as they exist (at most 10 per object type, like HubSpot).
import { batchInputs, bodyObject, isoNow, noContent, ok, queryBool, type ApiRoutes, type Services } from './api';
import { badRequest, batchError, errorResponse, fail } from './errors';
import type { GroupDef, OptionDef, PropertyDef, PropertyType } from './model';
import { resolveObjectType, type ObjectType } from './object-types';
import type { Portal } from './portal';
import { isoTime } from './values';
import { HttpProblem } from '../common/http';

const TYPES: PropertyType[] = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number'];
const FIELD_TYPES = ['text', 'textarea', 'number', 'date', 'select', 'radio', 'checkbox', 'booleancheckbox', 'calculation_equation', 'file', 'html', 'phonenumber'];
const MAX_UNIQUE = 10;

/** Options of the pipeline-driven enumerations are the live pipelines and stages. */
function liveOptions(portal: Portal, type: ObjectType, p: PropertyDef): OptionDef[] {
  if (type !== 'deals') return p.options;
  if (p.name === 'pipeline') {
    return [...portal.pipelines.values()].filter((pl) => !pl.archived).map((pl) => ({ label: pl.label, value: pl.id, displayOrder: pl.displayOrder, hidden: false }));
  }
  if (p.name === 'dealstage') {
    return [...portal.pipelines.values()].flatMap((pl) => pl.stages.filter((s) => !s.archived).map((s) => ({ label: s.label, value: s.id, displayOrder: s.displayOrder, hidden: false })));
  }
  return p.options;
}

export function publicProperty(portal: Portal, type: ObjectType, p: PropertyDef): Record<string, unknown> {
  const o: Record<string, unknown> = {
    updatedAt: isoTime(p.updatedAt),
    createdAt: isoTime(p.createdAt),
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    description: p.description,
    groupName: p.groupName,
    options: liveOptions(portal, type, p).map((opt) => ({ label: opt.label, value: opt.value, description: opt.description ?? '', displayOrder: opt.displayOrder, hidden: opt.hidden })),
    displayOrder: p.displayOrder,
    calculated: p.calculated,
    externalOptions: p.externalOptions,
    hasUniqueValue: p.hasUniqueValue,
    hidden: p.hidden,
    hubspotDefined: p.hubspotDefined,
    modificationMetadata: { archivable: p.archivable, readOnlyDefinition: p.readOnlyDefinition, readOnlyValue: p.readOnlyValue },
    formField: p.formField,
    dataSensitivity: 'non_sensitive',
    archived: p.archived,
  };
  if (p.archivedAt !== undefined) o.archivedAt = isoTime(p.archivedAt);
  return o;
}

function parseOptions(raw: unknown): OptionDef[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) badRequest('options must be an array');
  return raw.map((o: Record<string, unknown>, i) => {
    if (typeof o?.label !== 'string' || typeof o?.value !== 'string') badRequest('every option needs a string label and value');
    return { label: o.label, value: o.value, description: typeof o.description === 'string' ? o.description : '', displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i, hidden: o.hidden === true };
  });
}

/** Validates a PropertyCreate and builds the definition (throws 400 / 409 like HubSpot). */
function buildProperty(portal: Portal, type: ObjectType, b: Record<string, unknown>, now: number): PropertyDef {
  const name = b.name;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(name)) badRequest(`Invalid property name ${JSON.stringify(name)}: use lowercase letters, digits and underscores, starting with a letter`);
  const existing = portal.properties[type].get(name);
  if (existing) {
    throw new HttpProblem(errorResponse(409, 'OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists.`, { context: { name: [name] } }));
  }
  if (typeof b.label !== 'string' || b.label === '') badRequest('label is required');
  if (typeof b.type !== 'string' || !TYPES.includes(b.type as PropertyType)) badRequest(`type must be one of ${TYPES.join(', ')}`);
  if (typeof b.fieldType !== 'string' || !FIELD_TYPES.includes(b.fieldType)) badRequest(`fieldType must be one of ${FIELD_TYPES.join(', ')}`);
  if (typeof b.groupName !== 'string' || !portal.groups[type].get(b.groupName) || portal.groups[type].get(b.groupName)!.archived) {
    badRequest(`Property group ${JSON.stringify(b.groupName)} does not exist`);
  }
  const hasUniqueValue = b.hasUniqueValue === true;
  if (hasUniqueValue && portal.uniqueProperties(type).length >= MAX_UNIQUE) badRequest(`At most ${MAX_UNIQUE} unique value properties are allowed per object type`);
  const options = parseOptions(b.options);
  if (b.type === 'enumeration' && options.length === 0 && b.externalOptions !== true) badRequest('enumeration properties need options');
  return {
    name,
    label: b.label,
    type: b.type as PropertyType,
    fieldType: b.fieldType,
    description: typeof b.description === 'string' ? b.description : '',
    groupName: b.groupName as string,
    options,
    displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1,
    hasUniqueValue,
    hidden: b.hidden === true,
    hubspotDefined: false,
    calculated: false,
    externalOptions: b.externalOptions === true,
    formField: b.formField === true,
    readOnlyValue: false,
    readOnlyDefinition: false,
    archivable: true,
    createdAt: now,
    updatedAt: now,
    archived: false,
  };
}

function addProperty(portal: Portal, type: ObjectType, def: PropertyDef): void {
  portal.properties[type].set(def.name, def);
  if (def.hasUniqueValue) portal.unique[type].set(def.name, new Map());
}

function getProperty(portal: Portal, type: ObjectType, name: string, archived = false): PropertyDef {
  const p = portal.properties[type].get(name);
  if (!p || p.archived !== archived) fail(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name} on object type ${type}`, { context: { propertyName: [name] } });
  return p;
}

function publicGroup(g: GroupDef): Record<string, unknown> {
  return { name: g.name, label: g.label, displayOrder: g.displayOrder, archived: g.archived };
}

function getGroup(portal: Portal, type: ObjectType, name: string): GroupDef {
  const g = portal.groups[type].get(name);
  if (!g || g.archived) fail(404, 'OBJECT_NOT_FOUND', `Unable to find property group ${name} on object type ${type}`, { context: { groupName: [name] } });
  return g;
}

export function registerPropertyRoutes(routes: ApiRoutes, svc: Services): void {
  routes.get('/crm/v3/properties/:objectType', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const archived = queryBool(req.query, 'archived');
    const results = [...req.portal.properties[type].values()].filter((p) => p.archived === archived).map((p) => publicProperty(req.portal, type, p));
    return ok({ results });
  });

  routes.post('/crm/v3/properties/:objectType', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const def = buildProperty(req.portal, type, bodyObject(req), svc.now());
    addProperty(req.portal, type, def);
    return ok(publicProperty(req.portal, type, def), 201);
  });

  // Groups and batch routes first: `/groups` must not be read as a property named "groups".
  routes.get('/crm/v3/properties/:objectType/groups', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    return ok({ results: [...req.portal.groups[type].values()].filter((g) => !g.archived).map(publicGroup) });
  });

  routes.post('/crm/v3/properties/:objectType/groups', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const b = bodyObject(req);
    if (typeof b.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(b.name)) badRequest(`Invalid group name ${JSON.stringify(b.name)}`);
    if (typeof b.label !== 'string' || b.label === '') badRequest('label is required');
    const existing = req.portal.groups[type].get(b.name);
    if (existing && !existing.archived) {
      throw new HttpProblem(errorResponse(409, 'OBJECT_ALREADY_EXISTS', `Property group named '${b.name}' already exists.`, { context: { name: [b.name] } }));
    }
    const g: GroupDef = { name: b.name, label: b.label, displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1, archived: false };
    req.portal.groups[type].set(g.name, g);
    return ok(publicGroup(g), 201);
  });

  routes.get('/crm/v3/properties/:objectType/groups/:groupName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    return ok(publicGroup(getGroup(req.portal, type, req.params.groupName!)));
  });

  routes.patch('/crm/v3/properties/:objectType/groups/:groupName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const g = getGroup(req.portal, type, req.params.groupName!);
    const b = bodyObject(req);
    if (typeof b.label === 'string') g.label = b.label;
    if (typeof b.displayOrder === 'number') g.displayOrder = b.displayOrder;
    return ok(publicGroup(g));
  });

  routes.delete('/crm/v3/properties/:objectType/groups/:groupName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    getGroup(req.portal, type, req.params.groupName!).archived = true;
    return noContent;
  });

  routes.post('/crm/v3/properties/:objectType/batch/read', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const archived = bodyObject(req).archived === true;
    const results: unknown[] = [];
    for (const input of batchInputs(req, 1000) as Array<Record<string, unknown>>) {
      const p = req.portal.properties[type].get(String(input?.name ?? ''));
      if (p && p.archived === archived) results.push(publicProperty(req.portal, type, p));
    }
    return ok({ status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) });
  });

  routes.post('/crm/v3/properties/:objectType/batch/create', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of batchInputs(req) as Array<Record<string, unknown>>) {
      try {
        const def = buildProperty(req.portal, type, input ?? {}, svc.now());
        addProperty(req.portal, type, def);
        results.push(publicProperty(req.portal, type, def));
      } catch (e) {
        if (!(e instanceof HttpProblem)) throw e;
        const b = e.response.body as Record<string, unknown>;
        errors.push(batchError(b.category as 'VALIDATION_ERROR', String(b.message), { name: [String(input?.name)] }));
      }
    }
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) };
    if (errors.length > 0) return ok({ ...body, numErrors: errors.length, errors }, 207);
    return ok(body, 201);
  });

  routes.post('/crm/v3/properties/:objectType/batch/archive', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    for (const input of batchInputs(req, 1000) as Array<Record<string, unknown>>) {
      const p = req.portal.properties[type].get(String(input?.name ?? ''));
      if (p && !p.hubspotDefined) archiveProperty(req.portal, type, p, svc.now());
    }
    return noContent;
  });

  routes.get('/crm/v3/properties/:objectType/:propertyName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    return ok(publicProperty(req.portal, type, getProperty(req.portal, type, req.params.propertyName!, queryBool(req.query, 'archived'))));
  });

  routes.patch('/crm/v3/properties/:objectType/:propertyName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const p = getProperty(req.portal, type, req.params.propertyName!);
    const b = bodyObject(req);
    if (p.readOnlyDefinition) badRequest(`${p.name} is a HubSpot-defined property; its definition cannot be changed`);
    if ('hasUniqueValue' in b && b.hasUniqueValue !== p.hasUniqueValue) badRequest('hasUniqueValue cannot be changed after a property is created');
    if (typeof b.label === 'string') p.label = b.label;
    if (typeof b.description === 'string') p.description = b.description;
    if (typeof b.groupName === 'string') {
      getGroup(req.portal, type, b.groupName);
      p.groupName = b.groupName;
    }
    if (typeof b.fieldType === 'string' && FIELD_TYPES.includes(b.fieldType)) p.fieldType = b.fieldType;
    if (b.options !== undefined) p.options = parseOptions(b.options);
    if (typeof b.displayOrder === 'number') p.displayOrder = b.displayOrder;
    if (typeof b.hidden === 'boolean') p.hidden = b.hidden;
    if (typeof b.formField === 'boolean') p.formField = b.formField;
    p.updatedAt = svc.now();
    return ok(publicProperty(req.portal, type, p));
  });

  routes.delete('/crm/v3/properties/:objectType/:propertyName', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const p = getProperty(req.portal, type, req.params.propertyName!);
    if (p.hubspotDefined) badRequest(`${p.name} is a HubSpot-defined property and cannot be archived`);
    archiveProperty(req.portal, type, p, svc.now());
    return noContent;
  });
}

function archiveProperty(portal: Portal, type: ObjectType, p: PropertyDef, now: number): void {
  p.archived = true;
  p.archivedAt = now;
  portal.unique[type].delete(p.name);
}
