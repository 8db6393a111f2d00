// Owners (`/crm/v3/owners`, with teams) and deal pipelines with their stages (`/crm/v3/pipelines/deals`).
import { bodyObject, nextLink, ok, queryBool, type ApiRoutes, type Services } from './api';
import { badRequest, fail } from './errors';
import type { OwnerDef, PipelineDef, StageDef } from './model';
import { resolveObjectType } from './object-types';
import type { Portal } from './portal';
import { compareIds } from './association-store';
import { isoTime } from './values';

export function publicOwner(o: OwnerDef): Record<string, unknown> {
  return {
    id: o.id,
    email: o.email,
    type: 'PERSON',
    firstName: o.firstName,
    lastName: o.lastName,
    userId: o.userId,
    userIdIncludingInactive: o.userId,
    createdAt: isoTime(o.createdAt),
    updatedAt: isoTime(o.updatedAt),
    archived: o.archived,
    teams: o.teams.map((t) => ({ id: t.id, name: t.name, primary: t.primary })),
  };
}

function publicStage(s: StageDef): Record<string, unknown> {
  return {
    label: s.label,
    displayOrder: s.displayOrder,
    metadata: { isClosed: String(s.isClosed), probability: s.probability },
    id: s.id,
    createdAt: isoTime(s.createdAt),
    updatedAt: isoTime(s.updatedAt),
    archived: s.archived,
    writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
  };
}

function publicPipeline(p: PipelineDef): Record<string, unknown> {
  return {
    label: p.label,
    displayOrder: p.displayOrder,
    id: p.id,
    stages: p.stages.filter((s) => !s.archived).map(publicStage),
    createdAt: isoTime(p.createdAt),
    updatedAt: isoTime(p.updatedAt),
    archived: p.archived,
  };
}

function dealsOnly(raw: string): void {
  if (resolveObjectType(raw) !== 'deals') badRequest(`Object type ${raw} has no pipelines; the sandbox serves deal pipelines`);
}

function getPipeline(portal: Portal, id: string): PipelineDef {
  const p = portal.pipelines.get(id);
  if (!p || p.archived) fail(404, 'OBJECT_NOT_FOUND', `Unable to find pipeline ${id}`, { context: { pipelineId: [id] } });
  return p;
}

function parseStage(raw: Record<string, unknown>, id: string, i: number, now: number): StageDef {
  if (typeof raw?.label !== 'string') badRequest('every stage needs a label');
  const meta = (raw.metadata ?? {}) as Record<string, unknown>;
  const probability = meta.probability === undefined ? '0.0' : String(meta.probability);
  const p = Number(probability);
  if (Number.isNaN(p) || p < 0 || p > 1) badRequest(`stage probability must be between 0.0 and 1.0, got ${probability}`);
  const isClosed = meta.isClosed === undefined ? p === 0 || p === 1 : String(meta.isClosed) === 'true';
  return { id, label: raw.label, displayOrder: typeof raw.displayOrder === 'number' ? raw.displayOrder : i, isClosed, probability: Number.isInteger(p) ? p.toFixed(1) : String(p), createdAt: now, updatedAt: now, archived: false };
}

export function registerOwnerAndPipelineRoutes(routes: ApiRoutes, svc: Services): void {
  routes.get('/crm/v3/owners', (req) => {
    const email = req.query.get('email')?.toLowerCase();
    const archived = queryBool(req.query, 'archived');
    const limit = Math.min(500, Math.max(1, Number(req.query.get('limit')) || 100));
    const after = req.query.get('after');
    const all = [...req.portal.owners.values()]
      .filter((o) => o.archived === archived && (!email || o.email.toLowerCase() === email) && (!after || compareIds(o.id, after) > 0))
      .sort((a, b) => compareIds(a.id, b.id));
    const page = all.slice(0, limit);
    const body: Record<string, unknown> = { results: page.map(publicOwner) };
    if (all.length > limit) body.paging = { next: { after: page[page.length - 1]!.id, link: nextLink(req, page[page.length - 1]!.id) } };
    return ok(body);
  });

  routes.get('/crm/v3/owners/:ownerId', (req) => {
    const id = req.params.ownerId!;
    const byUser = req.query.get('idProperty') === 'userId';
    const archived = queryBool(req.query, 'archived');
    const o = byUser ? [...req.portal.owners.values()].find((x) => String(x.userId) === id) : req.portal.owners.get(id);
    if (!o || o.archived !== archived) fail(404, 'OBJECT_NOT_FOUND', `Unable to find owner ${id}`, { context: { ownerId: [id] } });
    return ok(publicOwner(o));
  });

  routes.get('/crm/v3/pipelines/:objectType', (req) => {
    dealsOnly(req.params.objectType!);
    const results = [...req.portal.pipelines.values()].filter((p) => !p.archived).sort((a, b) => a.displayOrder - b.displayOrder).map(publicPipeline);
    return ok({ results });
  });

  routes.post('/crm/v3/pipelines/:objectType', (req) => {
    dealsOnly(req.params.objectType!);
    const b = bodyObject(req);
    if (typeof b.label !== 'string' || b.label === '') badRequest('label is required');
    if (!Array.isArray(b.stages) || b.stages.length === 0) badRequest('a pipeline needs at least one stage');
    const state = svc.state();
    const now = svc.now();
    const id = String(state.next('pipelineId'));
    const stages = (b.stages as Array<Record<string, unknown>>).map((s, i) => parseStage(s, String(state.next('pipelineId')), i, now));
    const p: PipelineDef = { id, label: b.label, displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : req.portal.pipelines.size, stages, createdAt: now, updatedAt: now, archived: false };
    req.portal.pipelines.set(id, p);
    return ok(publicPipeline(p), 201);
  });

  routes.get('/crm/v3/pipelines/:objectType/:pipelineId', (req) => {
    dealsOnly(req.params.objectType!);
    return ok(publicPipeline(getPipeline(req.portal, req.params.pipelineId!)));
  });

  routes.get('/crm/v3/pipelines/:objectType/:pipelineId/stages', (req) => {
    dealsOnly(req.params.objectType!);
    return ok({ results: getPipeline(req.portal, req.params.pipelineId!).stages.filter((s) => !s.archived).map(publicStage) });
  });

  routes.get('/crm/v3/pipelines/:objectType/:pipelineId/stages/:stageId', (req) => {
    dealsOnly(req.params.objectType!);
    const s = getPipeline(req.portal, req.params.pipelineId!).stages.find((x) => x.id === req.params.stageId && !x.archived);
    if (!s) fail(404, 'OBJECT_NOT_FOUND', `Unable to find stage ${req.params.stageId!}`, { context: { stageId: [req.params.stageId!] } });
    return ok(publicStage(s));
  });
}
