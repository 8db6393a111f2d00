// OAuth installs (browser): GET /oauth/<crm>/install sends the admin to the CRM's consent page (or, with
// `Accept: application/json`, answers { authorizeUrl } for scripts); the CRM sends the browser back to
// GET /oauth/<crm>/callback with a code, which becomes a connection. Each connector brings its own flow
// (HubSpot: client secret; Salesforce: web-server flow with PKCE, the verifier kept with the state).
import { Router, type Request, type Response } from 'express';
import type { PrismaClient } from '../../data/prisma';
import { connectorFor, type CrmServices } from '../../crm/crm-services';
import { CrmError } from '../../crm/crm-adapter';
import { CRM_NAMES, type CrmName } from '../../domain/types';
import { AppError, notFound } from '../../lib/errors';
import { connectCrm, consumeOauthState, createOauthState } from '../../use-cases/crm/connections';
import { authenticate, requireStaff } from '../middleware/auth';
import { param } from './helpers';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, text: string): void {
  res
    .status(status)
    .type('html')
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>dealreg: ${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

const wantsJson = (req: Request) => (req.headers.accept ?? '').includes('application/json');

const LABEL: Record<CrmName, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

function flowFor(s: CrmServices, req: Request) {
  const crm = param(req, 'crm');
  if (!(CRM_NAMES as readonly string[]).includes(crm)) throw notFound(`CRM "${crm}"`);
  const flow = connectorFor(s, crm as CrmName).oauth;
  if (!flow) throw notFound(`OAuth install for ${crm}`);
  return { crm: crm as CrmName, flow };
}

export function oauthRoutes(s: CrmServices, prisma: PrismaClient, clock: () => Date): Router {
  const r = Router();
  const auth = authenticate(prisma, clock);
  r.get('/:crm/install', auth, async (req, res) => {
    const by = requireStaff(req, ['admin']);
    const { crm, flow } = flowFor(s, req);
    let url: string;
    try {
      const started = flow.begin(s, req.query as Record<string, string | undefined>);
      url = started.authorizeUrl(await createOauthState(s, by, crm, started.keep));
    } catch (err) {
      if (err instanceof CrmError) throw new AppError(503, 'OAUTH_NOT_CONFIGURED', err.message);
      throw err;
    }
    if (wantsJson(req)) res.json({ authorizeUrl: url, expiresInSeconds: 600 });
    else res.redirect(302, url);
  });
  r.get('/:crm/callback', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const { crm, flow } = flowFor(s, req);
    const label = LABEL[crm];
    try {
      if (q.error) throw new AppError(400, 'OAUTH_DENIED', `${label} did not grant access: ${String(q.error_description ?? q.error).slice(0, 300)}`);
      const { by, extra } = await consumeOauthState(s, crm, q.state);
      if (!q.code) throw new AppError(400, 'OAUTH_CODE_MISSING', `${label} sent no authorization code: start the install again.`);
      let draft;
      try {
        draft = await flow.complete(s, q.code, extra);
      } catch (err) {
        if (err instanceof CrmError && err.code === 'AUTH') throw new AppError(400, 'OAUTH_CODE_REJECTED', `${label} refused the authorization code (${err.message}): start the install again.`);
        throw err;
      }
      const out = await connectCrm(s, by, draft);
      if (wantsJson(req)) res.status(201).json(out);
      else page(res, 200, `${label} connected`, `dealreg is connected to ${label} ${crm === 'hubspot' ? 'portal' : 'org'} ${out.connection.externalAccountId}. It is filling its account mirror now; you can close this tab.`);
    } catch (err) {
      if (wantsJson(req)) throw err;
      const e = err instanceof AppError ? err : new AppError(502, 'CRM_UNAVAILABLE', (err as Error).message);
      s.ctx.log.warn({ component: 'oauth', crm, code: e.code }, 'OAuth install failed');
      page(res, e.status, `${label} was not connected`, `${e.message} (${e.code})`);
    }
  });
  return r;
}
