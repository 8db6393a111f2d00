// /v1/crm-users (admin): which dealreg role a CRM user has on the cards inside the CRM. Thin: parse, call, answer.
import { Router } from 'express';
import { z } from 'zod';
import { CRM_NAMES } from '../../domain/types';
import { isUuid } from '../../data/repositories/registrations';
import { notFound } from '../../lib/errors';
import type { UseCaseContext } from '../../use-cases/context';
import { deleteCrmUser, listCrmUsers, upsertCrmUser, upsertCrmUserSchema } from '../../use-cases/crm-users';
import { requireStaff } from '../middleware/auth';
import { body, param, parse } from './helpers';

const listQuery = z.object({ crm: z.enum(CRM_NAMES).optional() }).passthrough();

export function crmUserRoutes(ctx: UseCaseContext): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const q = parse(listQuery, req.query);
    res.json({ data: await listCrmUsers(ctx, by, q.crm), nextCursor: null });
  });
  // Upsert: 201 when the user was not mapped yet, 200 when their row changed.
  r.put('/', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const out = await upsertCrmUser(ctx, by, parse(upsertCrmUserSchema, body(req)));
    res.status(out.created ? 201 : 200).json(out.user);
  });
  r.delete('/:id', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const id = param(req, 'id');
    if (!isUuid(id)) throw notFound('CRM user');
    await deleteCrmUser(ctx, by, id);
    res.status(204).end();
  });
  return r;
}
