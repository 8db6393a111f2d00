// Associations v4 between deals and companies: default (unlabeled) and labelled (Primary) single
// writes, listing, removal, and the batch create / default / read / archive / labels-archive calls.
import { associate, associationsOf, dissociate, toStoredType, typeRef, validTypes } from './association-store';
import { batchInputs, isoNow, noContent, ok, writeCtx, type ApiRoutes, type Services } from './api';
import { badRequest, batchError, fail } from './errors';
import { OBJECT_TYPE_ID, OTHER, resolveObjectType, SINGULAR, type ObjectType } from './object-types';
import type { Portal } from './portal';

const PAGE_MAX = 500;

function pairTypes(fromRaw: string, toRaw: string): { from: ObjectType; to: ObjectType } {
  const from = resolveObjectType(fromRaw);
  const to = resolveObjectType(toRaw);
  if (to !== OTHER[from]) badRequest(`The sandbox models deal↔company associations only, not ${from} → ${to}`);
  return { from, to };
}

/** Parses `[{ associationCategory, associationTypeId }]` into stored (deal→company) type ids. */
function storedTypes(from: ObjectType, raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0) badRequest('At least one association type is required');
  return raw.map((t: Record<string, unknown>) => {
    const stored = toStoredType(from, Number(t?.associationTypeId));
    if (stored === undefined || (t?.associationCategory ?? 'HUBSPOT_DEFINED') !== 'HUBSPOT_DEFINED') {
      const valid = validTypes(from);
      badRequest(`${String(t?.associationCategory)}/${String(t?.associationTypeId)} is not a valid association type from ${SINGULAR[from]} to ${SINGULAR[OTHER[from]]}; valid HUBSPOT_DEFINED types are ${valid.unlabeled} and ${valid.primary}`);
    }
    return stored;
  });
}

function requireLive(portal: Portal, type: ObjectType, id: string): void {
  if (!portal.live(type, id)) fail(404, 'OBJECT_NOT_FOUND', `${SINGULAR[type]} ${id} does not exist`, { context: { id: [id] } });
}

function labelsPair(from: ObjectType, fromId: string, to: ObjectType, toId: string, typeIds: number[]): Record<string, unknown> {
  return {
    fromObjectTypeId: OBJECT_TYPE_ID[from],
    fromObjectId: Number(fromId),
    toObjectTypeId: OBJECT_TYPE_ID[to],
    toObjectId: Number(toId),
    labels: typeIds.map((t) => typeRef(t).label).filter((l): l is string => l !== null),
  };
}

function viewed(portal: Portal, from: ObjectType, fromId: string, toId: string): number[] {
  return associationsOf(portal, from, fromId).find((a) => a.id === toId)?.typeIds ?? [];
}

function idOf(v: unknown): string {
  return String((v as Record<string, unknown> | undefined)?.id ?? '');
}

export function registerAssociationRoutes(routes: ApiRoutes, svc: Services): void {
  const labels: Parameters<ApiRoutes['get']>[1] = (req) => {
    const { from } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const t = validTypes(from);
    return ok({ results: [typeRef(t.primary), typeRef(t.unlabeled)] });
  };
  routes.get('/crm/v4/associations/:fromObjectType/:toObjectType/labels', labels);
  routes.get('/crm/associations/v4/:fromObjectType/:toObjectType/labels', labels); // the SDK's schema client uses this spelling

  routes.put('/crm/v4/objects/:fromObjectType/:fromObjectId/associations/default/:toObjectType/:toObjectId', (req) => {
    const { from, to } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const fromId = req.params.fromObjectId!;
    const toId = req.params.toObjectId!;
    requireLive(req.portal, from, fromId);
    requireLive(req.portal, to, toId);
    const startedAt = isoNow(svc);
    associate(writeCtx(svc, req), from, fromId, toId, []);
    return ok({
      status: 'COMPLETE',
      results: [
        { from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: validTypes(from).unlabeled } },
        { from: { id: toId }, to: { id: fromId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: validTypes(to).unlabeled } },
      ],
      startedAt,
      completedAt: isoNow(svc),
    });
  });

  routes.put('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', (req) => {
    const { from, to } = pairTypes(req.params.objectType!, req.params.toObjectType!);
    const fromId = req.params.objectId!;
    const toId = req.params.toObjectId!;
    const types = storedTypes(from, req.body);
    requireLive(req.portal, from, fromId);
    requireLive(req.portal, to, toId);
    associate(writeCtx(svc, req), from, fromId, toId, types);
    return ok(labelsPair(from, fromId, to, toId, viewed(req.portal, from, fromId, toId)), 201);
  });

  routes.delete('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', (req) => {
    const { from } = pairTypes(req.params.objectType!, req.params.toObjectType!);
    dissociate(writeCtx(svc, req), from, req.params.objectId!, req.params.toObjectId!);
    return noContent;
  });

  routes.get('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType', (req) => {
    const { from } = pairTypes(req.params.objectType!, req.params.toObjectType!);
    const id = req.params.objectId!;
    requireLive(req.portal, from, id);
    const limit = Math.min(PAGE_MAX, Math.max(1, Number(req.query.get('limit')) || PAGE_MAX));
    const offset = Number(req.query.get('after')) || 0;
    const all = associationsOf(req.portal, from, id);
    const page = all.slice(offset, offset + limit).map((a) => ({ toObjectId: Number(a.id), associationTypes: a.typeIds.map(typeRef) }));
    const body: Record<string, unknown> = { results: page };
    if (offset + limit < all.length) body.paging = { next: { after: String(offset + limit) } };
    return ok(body);
  });

  routes.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/create', (req) => {
    const { from, to } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const startedAt = isoNow(svc);
    const ctx = writeCtx(svc, req);
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of batchInputs(req) as Array<Record<string, unknown>>) {
      const fromId = idOf(input?.from);
      const toId = idOf(input?.to);
      const types = storedTypes(from, input?.types);
      const missing = [...(ctx.portal.live(from, fromId) ? [] : [fromId]), ...(ctx.portal.live(to, toId) ? [] : [toId])];
      if (missing.length > 0) {
        errors.push(batchError('VALIDATION_ERROR', `One or more objects do not exist: ${missing.join(', ')}`, { fromObjectId: [fromId], toObjectId: [toId] }, 'crm.associations.INVALID_OBJECT_IDS'));
        continue;
      }
      associate(ctx, from, fromId, toId, types);
      results.push(labelsPair(from, fromId, to, toId, viewed(ctx.portal, from, fromId, toId)));
    }
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) };
    if (errors.length > 0) return ok({ ...body, numErrors: errors.length, errors }, 207);
    return ok(body, 201);
  });

  routes.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/associate/default', (req) => {
    const { from, to } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const startedAt = isoNow(svc);
    const ctx = writeCtx(svc, req);
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of batchInputs(req) as Array<Record<string, unknown>>) {
      const fromId = idOf(input?.from);
      const toId = idOf(input?.to);
      if (!ctx.portal.live(from, fromId) || !ctx.portal.live(to, toId)) {
        errors.push(batchError('VALIDATION_ERROR', `One or more objects do not exist: ${fromId}, ${toId}`, { fromObjectId: [fromId], toObjectId: [toId] }, 'crm.associations.INVALID_OBJECT_IDS'));
        continue;
      }
      associate(ctx, from, fromId, toId, []);
      results.push({ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: validTypes(from).unlabeled } });
    }
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) };
    if (errors.length > 0) Object.assign(body, { numErrors: errors.length, errors });
    return ok(body, 200);
  });

  routes.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/read', (req) => {
    const { from, to } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const startedAt = isoNow(svc);
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of batchInputs(req, 1000) as Array<Record<string, unknown>>) {
      const id = String(input?.id ?? '');
      const found = req.portal.live(from, id) ? associationsOf(req.portal, from, id) : [];
      if (found.length === 0) {
        errors.push(batchError('OBJECT_NOT_FOUND', `No ${SINGULAR[to]} is associated with ${SINGULAR[from]} ${id}.`, { fromObjectId: [id] }, 'crm.associations.NO_ASSOCIATIONS_FOUND'));
        continue;
      }
      results.push({ from: { id }, to: found.map((a) => ({ toObjectId: Number(a.id), associationTypes: a.typeIds.map(typeRef) })) });
    }
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: isoNow(svc) };
    if (errors.length > 0) return ok({ ...body, numErrors: errors.length, errors }, 207);
    return ok(body);
  });

  routes.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/archive', (req) => {
    const { from } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const ctx = writeCtx(svc, req);
    for (const input of batchInputs(req, 2000) as Array<Record<string, unknown>>) {
      const fromId = idOf(input?.from);
      const tos = Array.isArray(input?.to) ? input.to : [];
      for (const t of tos) dissociate(ctx, from, fromId, idOf(t));
    }
    return noContent;
  });

  routes.post('/crm/v4/associations/:fromObjectType/:toObjectType/batch/labels/archive', (req) => {
    const { from } = pairTypes(req.params.fromObjectType!, req.params.toObjectType!);
    const ctx = writeCtx(svc, req);
    for (const input of batchInputs(req, 2000) as Array<Record<string, unknown>>) {
      dissociate(ctx, from, idOf(input?.from), idOf(input?.to), storedTypes(from, input?.types));
    }
    return noContent;
  });
}
