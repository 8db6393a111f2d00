// CRM routes under /v1: connections (admin) and sync mappings (revops). Thin: parse, call, answer.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { connectorFor, type CrmServices } from '../../crm/crm-services';
import { CRM_NAMES, type CrmName } from '../../domain/types';
import { notFound } from '../../lib/errors';
import { connectCrm, disconnect, listConnectionViews } from '../../use-cases/crm/connections';
import { getMapping, previewMapping, previewSchema, replaceMapping } from '../../use-cases/crm/mappings';
import { createCardSecret } from '../../use-cases/cards';
import { isUuid } from '../../data/repositories/registrations';
import { requireStaff } from '../middleware/auth';
import { body, param, parse } from './helpers';

const MAPPING_WRITERS = ['revops', 'admin'] as const;

function crmParam(req: Request): CrmName {
  const crm = param(req, 'crm');
  if (!(CRM_NAMES as readonly string[]).includes(crm)) throw notFound(`CRM "${crm}"`);
  return crm as CrmName;
}

export function connectionRoutes(s: CrmServices): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    res.json({ data: await listConnectionViews(s, by.workspaceId), nextCursor: null });
  });
  // POST /v1/connections/hubspot, /v1/connections/salesforce: each connector parses its own body.
  r.post('/:crm', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const crm = crmParam(req);
    const draft = await connectorFor(s, crm).draftFromRequest(body(req), s);
    res.status(201).json(await connectCrm(s, by, draft));
  });
  r.delete('/:id', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const id = param(req, 'id');
    if (!isUuid(id)) throw notFound('Connection');
    res.json(await disconnect(s, by, id));
  });
  // The Salesforce card's secret (its Named Credential), shown once; a second call rotates it.
  r.post('/:id/card-secret', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const id = param(req, 'id');
    if (!isUuid(id)) throw notFound('Connection');
    res.status(201).json(await createCardSecret(s.ctx, by, id));
  });
  return r;
}

export function mappingRoutes(s: CrmServices): Router {
  const r = Router();
  r.get('/:crm', async (req, res) => {
    const by = requireStaff(req);
    const q = z.object({ refresh: z.enum(['true', 'false']).optional() }).passthrough().parse(req.query);
    res.json(await getMapping(s, by.workspaceId, crmParam(req), { refresh: q.refresh === 'true' }));
  });
  r.put('/:crm', async (req, res) => {
    const by = requireStaff(req, MAPPING_WRITERS);
    res.json(await replaceMapping(s, by, crmParam(req), body(req)));
  });
  r.post('/:crm/preview', async (req, res) => {
    const by = requireStaff(req, MAPPING_WRITERS);
    res.json(await previewMapping(s, by, crmParam(req), parse(previewSchema, body(req))));
  });
  return r;
}
