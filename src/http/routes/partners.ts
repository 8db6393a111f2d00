import { Router } from 'express';
import { z } from 'zod';
import { PARTNER_STATUSES, PARTNER_TIERS } from '../../domain/types';
import {
  createPartner, createPartnerApiKey, createPartnerSchema, getPartner, listPartnerApiKeys, listPartners, revokePartnerApiKey,
  updatePartner, updatePartnerSchema,
} from '../../use-cases/partners';
import type { UseCaseContext } from '../../use-cases/context';
import { requireStaff } from '../middleware/auth';
import { body, encodeCursor, pageArgs, param, parse } from './helpers';

const listQuery = z.object({ status: z.enum(PARTNER_STATUSES).optional(), tier: z.enum(PARTNER_TIERS).optional() }).passthrough();

export function partnerRoutes(ctx: UseCaseContext): Router {
  const r = Router();
  r.post('/', async (req, res) => {
    const by = requireStaff(req, ['admin', 'partner_manager']);
    const out = await createPartner(ctx, by, parse(createPartnerSchema, body(req)));
    res.status(201).json(out);
  });
  r.get('/', async (req, res) => {
    const by = requireStaff(req);
    const q = parse(listQuery, req.query);
    const page = await listPartners(ctx, by.workspaceId, { ...pageArgs(req), status: q.status, tier: q.tier });
    res.json({ data: page.data, nextCursor: encodeCursor(page.nextCursor) });
  });
  r.get('/:id', async (req, res) => {
    const by = requireStaff(req);
    res.json(await getPartner(ctx, by.workspaceId, param(req, 'id')));
  });
  r.patch('/:id', async (req, res) => {
    const by = requireStaff(req, ['admin', 'partner_manager']);
    res.json(await updatePartner(ctx, by, param(req, 'id'), parse(updatePartnerSchema, body(req))));
  });
  r.get('/:id/api-keys', async (req, res) => {
    const by = requireStaff(req, ['admin', 'partner_manager']);
    res.json({ data: await listPartnerApiKeys(ctx, by.workspaceId, param(req, 'id')), nextCursor: null });
  });
  r.post('/:id/api-keys', async (req, res) => {
    const by = requireStaff(req, ['admin', 'partner_manager']);
    res.status(201).json(await createPartnerApiKey(ctx, by, param(req, 'id')));
  });
  r.delete('/:id/api-keys/:keyId', async (req, res) => {
    const by = requireStaff(req, ['admin', 'partner_manager']);
    await revokePartnerApiKey(ctx, by, param(req, 'id'), param(req, 'keyId'));
    res.status(204).end();
  });
  return r;
}
