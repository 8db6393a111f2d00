import { Router } from 'express';
import { dryRunPolicy, dryRunSchema, getPolicy, replacePolicy } from '../../use-cases/policies';
import type { UseCaseContext } from '../../use-cases/context';
import { requireStaff } from '../middleware/auth';
import { body, parse } from './helpers';

const POLICY_ROLES = ['revops', 'admin'] as const;

export function policyRoutes(ctx: UseCaseContext): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    const by = requireStaff(req);
    res.json(await getPolicy(ctx, by.workspaceId));
  });
  r.put('/', async (req, res) => {
    const by = requireStaff(req, POLICY_ROLES);
    res.json(await replacePolicy(ctx, by, body(req)));
  });
  r.post('/dry-run', async (req, res) => {
    const by = requireStaff(req, POLICY_ROLES);
    res.json(await dryRunPolicy(ctx, by.workspaceId, parse(dryRunSchema, body(req))));
  });
  return r;
}
