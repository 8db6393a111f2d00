// OAuth installs (browser): GET /oauth/hubspot/install sends the admin to HubSpot's consent page (or, with
// `Accept: application/json`, answers { authorizeUrl } for scripts); HubSpot sends the browser back to
// GET /oauth/hubspot/callback with a code, which becomes a connection.
import { Router, type Request, type Response } from 'express';
import type { PrismaClient } from '../../data/prisma';
import type { CrmServices } from '../../crm/crm-services';
import { CrmError } from '../../crm/crm-adapter';
import { AppError } from '../../lib/errors';
import { connectCrm, consumeOauthState, createOauthState } from '../../use-cases/crm/connections';
import { hubspotDraftFromCode, hubspotInstallUrl } from '../../crm/hubspot/hubspot-connector';
import { authenticate, requireStaff } from '../middleware/auth';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, text: string): void {
  res
    .status(status)
    .type('html')
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>dealreg: ${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

const wantsJson = (req: Request) => (req.headers.accept ?? '').includes('application/json');

export function oauthRoutes(s: CrmServices, prisma: PrismaClient, clock: () => Date): Router {
  const r = Router();
  const auth = authenticate(prisma, clock);
  r.get('/hubspot/install', auth, async (req, res) => {
    const by = requireStaff(req, ['admin']);
    let url: string;
    try {
      url = hubspotInstallUrl(s, await createOauthState(s, by, 'hubspot'));
    } catch (err) {
      if (err instanceof CrmError) throw new AppError(503, 'OAUTH_NOT_CONFIGURED', err.message);
      throw err;
    }
    if (wantsJson(req)) res.json({ authorizeUrl: url, expiresInSeconds: 600 });
    else res.redirect(302, url);
  });
  r.get('/hubspot/callback', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    try {
      if (q.error) throw new AppError(400, 'OAUTH_DENIED', `HubSpot did not grant access: ${String(q.error_description ?? q.error).slice(0, 300)}`);
      const { by } = await consumeOauthState(s, 'hubspot', q.state);
      if (!q.code) throw new AppError(400, 'OAUTH_CODE_MISSING', 'HubSpot sent no authorization code: start the install again.');
      let draft;
      try {
        draft = await hubspotDraftFromCode(s, q.code);
      } catch (err) {
        if (err instanceof CrmError && err.code === 'AUTH') throw new AppError(400, 'OAUTH_CODE_REJECTED', `HubSpot refused the authorization code (${err.message}): start the install again.`);
        throw err;
      }
      const out = await connectCrm(s, by, draft);
      if (wantsJson(req)) res.status(201).json(out);
      else page(res, 200, 'HubSpot connected', `dealreg is connected to HubSpot portal ${out.connection.externalAccountId}. It is filling its account mirror now; you can close this tab.`);
    } catch (err) {
      if (wantsJson(req)) throw err;
      const e = err instanceof AppError ? err : new AppError(502, 'CRM_UNAVAILABLE', (err as Error).message);
      s.ctx.log.warn({ component: 'oauth', crm: 'hubspot', code: e.code }, 'OAuth install failed');
      page(res, e.status, 'HubSpot was not connected', `${e.message} (${e.code})`);
    }
  });
  return r;
}
