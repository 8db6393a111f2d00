// CRM v3 objects, one at a time: read (also by a unique property), create (with associations),
// update, archive, list with `after` paging, merge, and search.
import { associate, compareIds, toStoredType } from './association-store';
import { bodyObject, nextLink, noContent, ok, queryBool, writeCtx, type ApiRequest, type ApiRoutes, type Services } from './api';
import { badRequest, failProperties, objectNotFound, type PropertyError } from './errors';
import type { CrmRecord } from './model';
import { OTHER, resolveObjectType, SINGULAR, type ObjectType } from './object-types';
import type { Portal } from './portal';
import { archiveRecord, createRecord, mergeRecords, updateRecord } from './records';
import { readShapeFromQuery, toPublic } from './serialize';
import { search } from './search';
import type { WriteCtx } from './state';
import { uniqueConflicts, validateProperties } from './values';

const LIST_MAX = 100;

/** Finds a record by id, or by the value of a unique property when `idProperty` names one. */
export function lookup(portal: Portal, type: ObjectType, id: string, idProperty: string | null | undefined, archived = false): CrmRecord | undefined {
  if (idProperty && idProperty !== 'hs_object_id') {
    const def = portal.properties[type].get(idProperty);
    if (!def || !def.hasUniqueValue) badRequest(`${idProperty} is not a unique property; idProperty must name a property with hasUniqueValue=true`);
    if (archived) {
      for (const r of portal.objects[type].values()) if (r.archived && r.props[idProperty] === id) return r;
      return undefined;
    }
    const found = portal.unique[type].get(idProperty)?.get(id);
    return found ? portal.live(type, found) : undefined;
  }
  if (archived) {
    const r = portal.objects[type].get(id);
    return r?.archived ? r : undefined;
  }
  return portal.live(type, id);
}

export interface AssociationInput {
  toId: string;
  stored: number[];
}

/** Parses `associations: [{ to: { id }, types: [{ associationCategory, associationTypeId }] }]`. */
export function parseCreateAssociations(portal: Portal, type: ObjectType, raw: unknown): { inputs: AssociationInput[]; errors: string[] } {
  const inputs: AssociationInput[] = [];
  const errors: string[] = [];
  if (raw === undefined || raw === null) return { inputs, errors };
  if (!Array.isArray(raw)) return { inputs, errors: ['associations must be an array'] };
  for (const a of raw as Array<Record<string, unknown>>) {
    const toId = String((a?.to as Record<string, unknown> | undefined)?.id ?? '');
    const types = Array.isArray(a?.types) ? (a.types as Array<Record<string, unknown>>) : [];
    const stored: number[] = [];
    for (const t of types) {
      const s = toStoredType(type, Number(t?.associationTypeId));
      if (s === undefined || (t?.associationCategory !== undefined && t.associationCategory !== 'HUBSPOT_DEFINED')) {
        errors.push(`${String(t?.associationCategory)} ${String(t?.associationTypeId)} is not a valid association type from ${SINGULAR[type]} to ${SINGULAR[OTHER[type]]}`);
      } else stored.push(s);
    }
    if (types.length === 0) errors.push(`association to ${toId} has no types`);
    if (!portal.live(OTHER[type], toId)) errors.push(`${SINGULAR[OTHER[type]]} ${toId} does not exist`);
    inputs.push({ toId, stored });
  }
  return { inputs, errors };
}

export function failAssociations(errors: string[]): never {
  return badRequest(`One or more associations are invalid: ${errors.join('; ')}`, { subCategory: 'crm.associations.INVALID_ASSOCIATION' });
}

/** Validates a create's properties (incl. unique values) and associations; throws HubSpot's 400. */
export function validateCreate(portal: Portal, type: ObjectType, input: Record<string, unknown>, claimed?: Map<string, Map<string, string>>): { values: Record<string, string | null>; associations: AssociationInput[]; errors: PropertyError[]; associationErrors: string[] } {
  const { values, errors } = validateProperties(portal, type, input.properties ?? {}, undefined);
  if (errors.length === 0) errors.push(...uniqueConflicts(portal, type, values, undefined, claimed));
  const a = parseCreateAssociations(portal, type, input.associations);
  return { values, associations: a.inputs, errors, associationErrors: a.errors };
}

export function applyCreate(ctx: WriteCtx, type: ObjectType, values: Record<string, string | null>, associations: AssociationInput[]): CrmRecord {
  const r = createRecord(ctx, type, values);
  for (const a of associations) associate(ctx, type, r.id, a.toId, a.stored);
  return r;
}

export function registerObjectRoutes(routes: ApiRoutes, svc: Services): void {
  routes.post('/crm/v3/objects/:objectType/search', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    return ok(search(req.portal, type, req.body, svc.now()));
  });

  routes.post('/crm/v3/objects/:objectType/merge', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const b = bodyObject(req);
    const primaryId = String(b.primaryObjectId ?? '');
    const otherId = String(b.objectIdToMerge ?? '');
    if (!primaryId || !otherId) badRequest('primaryObjectId and objectIdToMerge are required');
    const primary = req.portal.live(type, primaryId);
    const other = req.portal.live(type, otherId);
    if (!primary) objectNotFound(primaryId);
    if (!other) objectNotFound(otherId);
    if (primary.id === other.id) badRequest(`Cannot merge ${SINGULAR[type]} ${primaryId} into itself`);
    const merged = mergeRecords(writeCtx(svc, req), type, primary, other);
    return ok(toPublic(req.portal, type, merged, { properties: '*set' }));
  });

  routes.get('/crm/v3/objects/:objectType', (req) => list(req));

  routes.post('/crm/v3/objects/:objectType', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const v = validateCreate(req.portal, type, bodyObject(req));
    if (v.errors.length > 0) failProperties(v.errors);
    if (v.associationErrors.length > 0) failAssociations(v.associationErrors);
    const r = applyCreate(writeCtx(svc, req), type, v.values, v.associations);
    return ok(toPublic(req.portal, type, r, { properties: '*set' }), 201);
  });

  routes.get('/crm/v3/objects/:objectType/:objectId', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const id = req.params.objectId!;
    const r = lookup(req.portal, type, id, req.query.get('idProperty'), queryBool(req.query, 'archived'));
    if (!r) objectNotFound(id);
    return ok(toPublic(req.portal, type, r, readShapeFromQuery(req.query)));
  });

  routes.patch('/crm/v3/objects/:objectType/:objectId', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const id = req.params.objectId!;
    const r = lookup(req.portal, type, id, req.query.get('idProperty'));
    if (!r) objectNotFound(id);
    const { values, errors } = validateProperties(req.portal, type, bodyObject(req).properties ?? {}, r);
    if (errors.length === 0) errors.push(...uniqueConflicts(req.portal, type, values, r.id));
    if (errors.length > 0) failProperties(errors);
    updateRecord(writeCtx(svc, req), type, r, values);
    return ok(toPublic(req.portal, type, r, { properties: '*set' }));
  });

  routes.delete('/crm/v3/objects/:objectType/:objectId', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const r = req.portal.live(type, req.params.objectId!);
    if (r) archiveRecord(writeCtx(svc, req), type, r);
    return noContent;
  });

  function list(req: ApiRequest): ReturnType<typeof ok> {
    const type = resolveObjectType(req.params.objectType!);
    const limitRaw = req.query.get('limit');
    const limit = Math.min(LIST_MAX, Math.max(1, limitRaw ? Number(limitRaw) || 10 : 10));
    const after = req.query.get('after');
    const archived = queryBool(req.query, 'archived');
    const shape = readShapeFromQuery(req.query);
    const results: Array<Record<string, unknown>> = [];
    let last: string | undefined;
    let more = false;
    for (const r of req.portal.objects[type].values()) {
      if (r.archived !== archived) continue;
      if (after && compareIds(r.id, after) <= 0) continue;
      if (results.length === limit) {
        more = true;
        break;
      }
      results.push(toPublic(req.portal, type, r, shape));
      last = r.id;
    }
    const body: Record<string, unknown> = { results };
    if (more && last) body.paging = { next: { after: last, link: nextLink(req, last) } };
    return ok(body);
  }

}
