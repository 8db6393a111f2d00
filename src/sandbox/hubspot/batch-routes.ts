// CRM v3 batch endpoints: create, read, update, upsert (by a unique property), archive. At most 100
// inputs. Validation errors fail the whole batch (400) — except a create whose every input carries an
// `objectWriteTraceId`, which answers 207 with per-input errors, as HubSpot does. Missing ids in read
// and update answer 207 with the found ones in `results` and the rest in `errors`.
import { batchInputs, bodyObject, isoNow, noContent, ok, queryBool, writeCtx, type ApiRoutes, type Services } from './api';
import { applyCreate, failAssociations, lookup, validateCreate, type AssociationInput } from './objects-routes';
import { badRequest, batchError, failProperties, propertyValidationBody, type PropertyError } from './errors';
import type { CrmRecord } from './model';
import { resolveObjectType, SINGULAR, type ObjectType } from './object-types';
import { createRecord, updateRecord, archiveRecord } from './records';
import { toPublic } from './serialize';
import { claim, uniqueConflicts, validateProperties } from './values';

function batchResponse(svc: Services, startedAt: string, results: unknown[], errors: unknown[], okStatus: number): ReturnType<typeof ok> {
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
    return ok(body, 207);
  }
  return ok(body, okStatus);
}

function notFoundError(type: ObjectType, ids: string[]): Record<string, unknown> {
  return batchError('OBJECT_NOT_FOUND', `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`, { ids });
}

function rejectDuplicateIds(ids: string[]): void {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const id of ids) (seen.has(id) ? dups : seen).add(id);
  if (dups.size > 0) badRequest(`Duplicate IDs found in batch input: [${[...dups].join(', ')}]. IDs must be unique`, { context: { ids: [...dups] } });
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function registerBatchRoutes(routes: ApiRoutes, svc: Services): void {
  routes.post('/crm/v3/objects/:objectType/batch/create', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const inputs = batchInputs(req).map(asRecord);
    const multiStatus = inputs.length > 0 && inputs.every((i) => typeof i.objectWriteTraceId === 'string');
    const claimed = new Map<string, Map<string, string>>();
    const planned: Array<{ values: Record<string, string | null>; associations: AssociationInput[] } | null> = [];
    const errors: unknown[] = [];
    for (const [i, input] of inputs.entries()) {
      const v = validateCreate(req.portal, type, input, claimed);
      if (v.errors.length === 0 && v.associationErrors.length === 0) {
        claim(claimed, req.portal, type, v.values, `pending-${i}`);
        planned.push(v);
        continue;
      }
      if (!multiStatus) {
        if (v.errors.length > 0) failProperties(v.errors);
        failAssociations(v.associationErrors);
      }
      planned.push(null);
      const body = v.errors.length > 0 ? propertyValidationBody(v.errors) : { message: v.associationErrors.join('; ') };
      errors.push({ ...batchError('VALIDATION_ERROR', String(body.message), { objectWriteTraceId: [String(input.objectWriteTraceId)] }), objectWriteTraceId: input.objectWriteTraceId });
    }
    const ctx = writeCtx(svc, req);
    const results = planned.flatMap((p, i) => {
      if (!p) return [];
      const r = applyCreate(ctx, type, p.values, p.associations);
      const out = toPublic(req.portal, type, r, { properties: '*set' });
      if (multiStatus) out.objectWriteTraceId = inputs[i]!.objectWriteTraceId;
      return [out];
    });
    return batchResponse(svc, startedAt, results, errors, 201);
  });

  routes.post('/crm/v3/objects/:objectType/batch/read', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const b = bodyObject(req);
    const inputs = batchInputs(req).map(asRecord);
    const idProperty = typeof b.idProperty === 'string' ? b.idProperty : undefined;
    const archived = queryBool(req.query, 'archived');
    const shape = {
      properties: Array.isArray(b.properties) ? b.properties.map(String) : [],
      propertiesWithHistory: Array.isArray(b.propertiesWithHistory) ? b.propertiesWithHistory.map(String) : [],
    };
    const results: unknown[] = [];
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const r = lookup(req.portal, type, id, idProperty, archived);
      if (!r) missing.push(id);
      else if (!seen.has(r.id)) {
        seen.add(r.id);
        results.push(toPublic(req.portal, type, r, shape));
      }
    }
    return batchResponse(svc, startedAt, results, missing.length > 0 ? [notFoundError(type, missing)] : [], 200);
  });

  routes.post('/crm/v3/objects/:objectType/batch/update', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const inputs = batchInputs(req).map(asRecord);
    rejectDuplicateIds(inputs.map((i) => String(i.id ?? '')));
    const claimed = new Map<string, Map<string, string>>();
    const planned: Array<[CrmRecord, Record<string, string | null>]> = [];
    const missing: string[] = [];
    const problems: PropertyError[] = [];
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const r = lookup(req.portal, type, id, typeof input.idProperty === 'string' ? input.idProperty : undefined);
      if (!r) {
        missing.push(id);
        continue;
      }
      const { values, errors } = validateProperties(req.portal, type, input.properties ?? {}, r);
      if (errors.length === 0) errors.push(...uniqueConflicts(req.portal, type, values, r.id, claimed));
      problems.push(...errors);
      claim(claimed, req.portal, type, values, r.id);
      planned.push([r, values]);
    }
    if (problems.length > 0) failProperties(problems);
    const ctx = writeCtx(svc, req);
    const results = planned.map(([r, values]) => {
      updateRecord(ctx, type, r, values);
      return toPublic(req.portal, type, r, { properties: '*set' });
    });
    return batchResponse(svc, startedAt, results, missing.length > 0 ? [notFoundError(type, missing)] : [], 200);
  });

  routes.post('/crm/v3/objects/:objectType/batch/upsert', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const startedAt = isoNow(svc);
    const inputs = batchInputs(req).map(asRecord);
    rejectDuplicateIds(inputs.map((i) => `${String(i.idProperty)}=${String(i.id ?? '')}`));
    const claimed = new Map<string, Map<string, string>>();
    const planned: Array<{ existing?: CrmRecord; values: Record<string, string | null> }> = [];
    const problems: PropertyError[] = [];
    for (const [i, input] of inputs.entries()) {
      const id = String(input.id ?? '');
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : '';
      if (!id) badRequest('Each upsert input needs an "id" (the value of its idProperty)');
      if (!idProperty || idProperty === 'hs_object_id') badRequest(`Upsert needs "idProperty" naming a unique-value property of ${type}`);
      const def = req.portal.properties[type].get(idProperty);
      if (!def || !def.hasUniqueValue || def.archived) badRequest(`${idProperty} is not a unique property of ${type}; upserts match on properties with hasUniqueValue=true`);
      const existing = lookup(req.portal, type, id, idProperty);
      const props = { ...asRecord(input.properties), [idProperty]: id };
      const { values, errors } = validateProperties(req.portal, type, props, existing);
      if (errors.length === 0) errors.push(...uniqueConflicts(req.portal, type, values, existing?.id, claimed));
      problems.push(...errors);
      claim(claimed, req.portal, type, values, existing?.id ?? `pending-${i}`);
      planned.push({ existing, values });
    }
    if (problems.length > 0) failProperties(problems);
    const ctx = writeCtx(svc, req);
    const results = planned.map(({ existing, values }) => {
      const r = existing ?? createRecord(ctx, type, values);
      if (existing) updateRecord(ctx, type, existing, values);
      return { ...toPublic(req.portal, type, r, { properties: '*set' }), new: !existing };
    });
    return batchResponse(svc, startedAt, results, [], 200);
  });

  routes.post('/crm/v3/objects/:objectType/batch/archive', (req) => {
    const type = resolveObjectType(req.params.objectType!);
    const inputs = batchInputs(req).map(asRecord);
    const ctx = writeCtx(svc, req);
    for (const input of inputs) {
      const r = req.portal.live(type, String(input.id ?? ''));
      if (r) archiveRecord(ctx, type, r);
    }
    return noContent;
  });
}
