// Attribution: GET/PUT /v1/registrations/:id/attribution and the CRM-record lookup GET /v1/attribution.
import { Router } from 'express';
import { z } from 'zod';
import { CRM_NAMES } from '../../domain/types';
import { isUuid } from '../../data/repositories/registrations';
import { notFound } from '../../lib/errors';
import { attributionForCrmRecord, readAttribution, replaceAttribution, replaceAttributionSchema } from '../../use-cases/attribution';
import type { UseCaseContext } from '../../use-cases/context';
import { principal, requireStaff } from '../middleware/auth';
import { body, param, parse } from './helpers';

const EDITORS = ['admin', 'partner_manager'] as const;

const lookupQuery = z
  .object({
    crm: z.enum(CRM_NAMES),
    recordId: z.string().trim().min(1).max(255),
  })
  .passthrough();

/** Mounted on /v1 (next to the registrations router). */
export function attributionRoutes(ctx: UseCaseContext): Router {
  const r = Router();
  const idParam = (req: Parameters<typeof param>[0]) => {
    const id = param(req, 'id');
    if (!isUuid(id)) throw notFound('Registration');
    return id;
  };

  r.get('/registrations/:id/attribution', async (req, res) => {
    res.json(await readAttribution(ctx, principal(req), idParam(req)));
  });

  r.put('/registrations/:id/attribution', async (req, res) => {
    const by = requireStaff(req, EDITORS);
    const id = idParam(req);
    res.json(await replaceAttribution(ctx, by, id, parse(replaceAttributionSchema, body(req))));
  });

  r.get('/attribution', async (req, res) => {
    const by = requireStaff(req);
    const q = parse(lookupQuery, req.query);
    res.json(await attributionForCrmRecord(ctx, by.workspaceId, q.crm, q.recordId));
  });

  return r;
}
