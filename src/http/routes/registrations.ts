import { Router, type Request } from 'express';
import { z } from 'zod';
import { REGISTRATION_STATUSES } from '../../domain/types';
import { findRegistration, isUuid, listRegistrations } from '../../data/repositories/registrations';
import { badRequest, notFound } from '../../lib/errors';
import {
  checkAvailability, checkAvailabilitySchema, submitRegistration, submitRegistrationSchema,
} from '../../use-cases/submit-registration';
import {
  approveRegistration, approveSchema, decideExtension, extensionDecisionSchema, extensionRequestSchema, listExtensionRequests,
  rejectRegistration, rejectSchema, requestExtension, withdrawRegistration,
} from '../../use-cases/registration-lifecycle';
import type { UseCaseContext } from '../../use-cases/context';
import { principal, requirePartner, requireStaff, withPartnerKey, type ApiPrincipal } from '../middleware/auth';
import { registrationView, eventView, type Audience } from '../views/registration-view';
import type { RegistrationRow } from '../../data/repositories/registrations';
import { body, encodeCursor, limitArg, pageArgs, param, parse } from './helpers';

const listQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(',').map((x) => x.trim()) : undefined))
      .pipe(z.array(z.enum(REGISTRATION_STATUSES)).optional()),
    partnerId: z.string().optional(),
  })
  .passthrough();

const DECIDERS = ['partner_manager', 'admin'] as const;

/** Looks up CRM record ids for registrations (filled in by the CRM connectors). */
export type CrmLinkLookup = (registrationIds: string[]) => Promise<Map<string, Record<string, unknown>>>;

export function registrationRoutes(ctx: UseCaseContext, crmLinks: CrmLinkLookup = async () => new Map()): Router {
  const r = Router();
  const audienceOf = (p: ApiPrincipal): Audience => (p.kind === 'staff' ? 'staff' : 'partner');
  const show = async (req: Request, row: RegistrationRow) => {
    const links = await crmLinks([row.id]);
    return registrationView(row, audienceOf(principal(req)), ctx.clock(), links.get(row.id) ?? {});
  };
  const visibleTo = (p: ApiPrincipal) => (p.kind === 'partner' ? p.partnerId : undefined);
  const idParam = (req: Request) => {
    const id = param(req, 'id');
    if (!isUuid(id)) throw notFound('Registration');
    return id;
  };

  // The two partner hot paths verify the partner's key in their evidence query (withPartnerKey, auth.ts).
  r.post('/check', async (req, res) => {
    const answer = await withPartnerKey(req, (by, keyCheck) => checkAvailability(ctx, by, parse(checkAvailabilitySchema, body(req)), { keyCheck }));
    res.json(answer);
  });

  r.post('/', async (req, res) => {
    const key = req.header('idempotency-key');
    // An Idempotency-Key is looked up before the evidence is read: verify the partner key first.
    if (key !== undefined) await req.pendingPartnerKey?.verifyNow();
    const { by, out } = await withPartnerKey(req, async (by, keyCheck) => {
      if (key !== undefined && (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key))) {
        throw badRequest('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–255 visible ASCII characters (a UUID is ideal).');
      }
      const input = parse(submitRegistrationSchema, body(req));
      return { by, out: await submitRegistration(ctx, by, input, { idempotencyKey: key, keyCheck }) };
    });
    if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
    // A registration this request just created has no CRM record yet (the CRM sync starts from its outbox
    // row, after the commit): answer without looking its CRM links up. A replay shows them.
    res.status(201).json(out.replayed ? await show(req, out.registration) : registrationView(out.registration, audienceOf(by), ctx.clock(), {}));
  });

  r.get('/', async (req, res) => {
    const p = principal(req);
    const q = parse(listQuery, req.query);
    if (q.partnerId !== undefined && !isUuid(q.partnerId)) throw badRequest('INVALID_QUERY', 'partnerId must be a partner id (UUID).');
    const partnerId = p.kind === 'partner' ? p.partnerId : q.partnerId;
    const page = await listRegistrations(ctx.prisma, { workspaceId: p.workspaceId, partnerId, status: q.status, ...pageArgs(req) });
    const links = await crmLinks(page.rows.map((x) => x.id));
    res.json({
      data: page.rows.map((row) => registrationView(row, audienceOf(p), ctx.clock(), links.get(row.id) ?? {})),
      nextCursor: encodeCursor(page.nextCursor),
    });
  });

  r.get('/:id', async (req, res) => {
    const p = principal(req);
    const row = await findRegistration(ctx.prisma, p.workspaceId, idParam(req), visibleTo(p));
    if (!row) throw notFound('Registration');
    res.json(await show(req, row));
  });

  r.get('/:id/events', async (req, res) => {
    const p = principal(req);
    const id = idParam(req);
    const row = await findRegistration(ctx.prisma, p.workspaceId, id, visibleTo(p));
    if (!row) throw notFound('Registration');
    const limit = limitArg(req.query);
    const after = req.query.cursor ? Number(Buffer.from(String(req.query.cursor), 'base64url').toString('utf8')) : 0;
    if (!Number.isSafeInteger(after) || after < 0) throw badRequest('INVALID_CURSOR', 'The cursor is not one this API handed out; start again without it.');
    const events = await ctx.prisma.ledgerEvent.findMany({
      where: { workspaceId: p.workspaceId, registrationId: id, seq: { gt: BigInt(after) } },
      orderBy: { seq: 'asc' },
      take: limit + 1,
    });
    const more = events.length > limit;
    const page = more ? events.slice(0, limit) : events;
    res.json({
      data: page.map((e) => eventView(e, audienceOf(p))),
      nextCursor: more ? Buffer.from(String(page[page.length - 1]!.seq)).toString('base64url') : null,
    });
  });

  r.post('/:id/withdraw', async (req, res) => {
    const by = requirePartner(req);
    parse(z.object({}).strict(), body(req));
    res.json(await show(req, await withdrawRegistration(ctx, by, idParam(req))));
  });

  r.post('/:id/extension-requests', async (req, res) => {
    const by = requirePartner(req);
    const out = await requestExtension(ctx, by, idParam(req), parse(extensionRequestSchema, body(req)));
    res.status(201).json({ ...out.extensionRequest, registration: await show(req, out.registration) });
  });

  r.get('/:id/extension-requests', async (req, res) => {
    const p = principal(req);
    res.json({ data: await listExtensionRequests(ctx, p.workspaceId, idParam(req), visibleTo(p)), nextCursor: null });
  });

  for (const decision of ['approve', 'reject'] as const) {
    r.post(`/:id/extension-requests/:requestId/${decision}`, async (req, res) => {
      const by = requireStaff(req, DECIDERS);
      const input = parse(extensionDecisionSchema, body(req));
      if (!isUuid(param(req, 'requestId'))) throw notFound('Extension request');
      const out = await decideExtension(ctx, by, idParam(req), param(req, 'requestId'), decision, input.note);
      res.json({ ...out.extensionRequest, registration: await show(req, out.registration) });
    });
  }

  r.post('/:id/approve', async (req, res) => {
    const by = requireStaff(req, DECIDERS);
    res.json(await show(req, await approveRegistration(ctx, by, idParam(req), parse(approveSchema, body(req)))));
  });

  r.post('/:id/reject', async (req, res) => {
    const by = requireStaff(req, DECIDERS);
    res.json(await show(req, await rejectRegistration(ctx, by, idParam(req), parse(rejectSchema, body(req)))));
  });

  return r;
}
