import { Router } from 'express';
import { createStaffToken, createStaffTokenSchema, listStaffTokens, revokeStaffToken } from '../../use-cases/workspaces';
import type { UseCaseContext } from '../../use-cases/context';
import { requireStaff } from '../middleware/auth';
import { isUuid } from '../../data/repositories/registrations';
import { notFound } from '../../lib/errors';
import { body, param, parse } from './helpers';

export function staffTokenRoutes(ctx: UseCaseContext): Router {
  const r = Router();
  r.post('/', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const t = await createStaffToken(ctx, by, parse(createStaffTokenSchema, body(req)));
    res.status(201).json({ token: t.token, role: t.role, id: t.id, name: t.name });
  });
  r.get('/', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const rows = await listStaffTokens(ctx, by);
    res.json({
      data: rows.map((t) => ({ ...t, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null, revokedAt: t.revokedAt?.toISOString() ?? null })),
      nextCursor: null,
    });
  });
  r.delete('/:id', async (req, res) => {
    const by = requireStaff(req, ['admin']);
    if (!isUuid(param(req, 'id'))) throw notFound('Staff token');
    await revokeStaffToken(ctx, by, param(req, 'id'));
    res.status(204).end();
  });
  return r;
}
