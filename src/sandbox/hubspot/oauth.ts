// OAuth: the install page (`/oauth/authorize`, which approves at once and redirects back with a code),
// the token endpoint (`/oauth/2026-03/token` and the legacy `/oauth/v1/token`; authorization_code and
// refresh_token grants, form-encoded), token introspection, and bearer-token authentication of API
// calls with HubSpot's 401 bodies.
import { randomUUID } from 'node:crypto';
import { Router, type SandboxRequest, type SandboxResponse } from '../common/http';
import { errorResponse } from './errors';
import type { Portal } from './portal';
import { DEFAULT_SCOPES, hubspotToken, opaqueToken, type AccessTokenInfo, type SandboxState } from './state';

const AUTH_CODE_TTL_MS = 5 * 60_000;
const CREDENTIALS_NOT_FOUND = 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export type AuthOutcome = { portal: Portal; token: AccessTokenInfo } | { response: SandboxResponse };

export function bearer(req: SandboxRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m ? m[1]!.trim() : undefined;
}

/** Resolves the portal of an API call's bearer token, or answers 401 the way HubSpot does. */
export function authenticate(state: SandboxState, req: SandboxRequest, now: number): AuthOutcome {
  const token = bearer(req);
  const info = token ? state.accessTokens.get(token) : undefined;
  const portal = info ? state.portals.get(info.portalId) : undefined;
  if (!info || !portal) return { response: errorResponse(401, 'INVALID_AUTHENTICATION', CREDENTIALS_NOT_FOUND) };
  if (info.expiresAt !== null && info.expiresAt <= now) {
    const ago = Math.max(0, Math.floor((now - info.expiresAt) / 1000));
    return {
      response: errorResponse(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${ago} second(s) ago.`, {
        context: { expire_time: [new Date(info.expiresAt).toISOString()] },
      }),
    };
  }
  return { portal, token: info };
}

function oauthError(status: string, message: string, http = 400): SandboxResponse {
  return { status: http, body: { status, message, correlationId: randomUUID() } };
}

function formBody(req: SandboxRequest): URLSearchParams {
  if (req.body && typeof req.body === 'object') {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) if (v !== undefined && v !== null) p.set(k, String(v));
    return p;
  }
  return new URLSearchParams(req.rawBody.toString('utf8'));
}

function installerUserId(portal: Portal): number {
  const first = [...portal.owners.values()].find((o) => !o.archived);
  return first?.userId ?? 1;
}

export function issueAccessToken(state: SandboxState, portal: Portal, now: number, scopes: string[], userId: number): { token: string; expiresIn: number } {
  const token = `sbx-${opaqueToken(30)}`;
  state.accessTokens.set(token, { portalId: portal.portalId, kind: 'oauth', expiresAt: now + portal.tokenTtlSeconds * 1000, scopes, userId });
  return { token, expiresIn: portal.tokenTtlSeconds };
}

export function issueRefreshToken(state: SandboxState, portal: Portal, scopes: string[], userId: number): string {
  const token = hubspotToken('na1');
  state.refreshTokens.set(token, { portalId: portal.portalId, clientId: portal.clientId, scopes, userId });
  return token;
}

export function oauthRouter(getState: () => SandboxState, now: () => number): Router {
  const router = new Router();

  router.get('/oauth/authorize', (req): SandboxResponse => {
    const state = getState();
    const clientId = req.query.get('client_id') ?? '';
    const redirectUri = req.query.get('redirect_uri') ?? '';
    const candidates = [...state.portals.values()].filter((p) => p.clientId === clientId);
    if (candidates.length === 0) return { status: 400, headers: { 'content-type': 'text/plain' }, body: `Authorization failed: unknown client_id ${clientId}` };
    if (!/^https?:\/\//.test(redirectUri)) return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'Authorization failed: redirect_uri must be an absolute http(s) URL' };
    // HubSpot asks the user which account to install into; the sandbox takes `portalId` or the newest portal.
    const wanted = req.query.get('portalId') ?? req.query.get('portal_id');
    const portal = wanted ? candidates.find((p) => String(p.portalId) === wanted) : candidates[candidates.length - 1];
    if (!portal) return { status: 400, headers: { 'content-type': 'text/plain' }, body: `Authorization failed: portal ${wanted} has no app with client_id ${clientId}` };
    const scopes = [...new Set(`${req.query.get('scope') ?? ''} ${req.query.get('optional_scope') ?? ''}`.split(/[\s+]+/).filter(Boolean))];
    const code = hubspotToken('na1');
    state.authCodes.set(code, { portalId: portal.portalId, clientId, redirectUri, scopes: scopes.length ? scopes : DEFAULT_SCOPES, expiresAt: now() + AUTH_CODE_TTL_MS });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    const st = req.query.get('state');
    if (st !== null) target.searchParams.set('state', st);
    return { status: 302, headers: { location: target.toString() } };
  });

  const token = (req: SandboxRequest): SandboxResponse => {
    const state = getState();
    const f = formBody(req);
    const grant = f.get('grant_type');
    const clientId = f.get('client_id') ?? '';
    const clientSecret = f.get('client_secret') ?? '';
    if (grant !== 'authorization_code' && grant !== 'refresh_token') return oauthError('BAD_GRANT_TYPE', `unsupported grant_type ${String(grant)}`);
    const clients = [...state.portals.values()].filter((p) => p.clientId === clientId);
    if (clients.length === 0) return oauthError('BAD_CLIENT_ID', 'missing or unknown client id');
    if (!clients.some((p) => p.clientSecret === clientSecret)) return oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');

    let portal: Portal | undefined;
    let refreshToken: string;
    let scopes: string[];
    let userId: number;
    if (grant === 'authorization_code') {
      const code = f.get('code') ?? '';
      const info = state.authCodes.get(code);
      if (!info || info.expiresAt <= now() || info.clientId !== clientId) return oauthError('BAD_AUTH_CODE', 'missing or unknown auth code');
      if ((f.get('redirect_uri') ?? '') !== info.redirectUri) return oauthError('BAD_REDIRECT_URI', 'redirect_uri does not match initial redirect_uri');
      state.authCodes.delete(code); // single use
      portal = state.portals.get(info.portalId);
      if (!portal || portal.clientSecret !== clientSecret) return oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
      scopes = info.scopes;
      userId = installerUserId(portal);
      refreshToken = issueRefreshToken(state, portal, scopes, userId);
    } else {
      refreshToken = f.get('refresh_token') ?? '';
      const info = state.refreshTokens.get(refreshToken);
      if (!info || info.clientId !== clientId) return oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
      portal = state.portals.get(info.portalId);
      if (!portal || portal.clientSecret !== clientSecret) return oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
      scopes = info.scopes;
      userId = info.userId;
    }
    const access = issueAccessToken(state, portal, now(), scopes, userId);
    return { status: 200, body: { token_type: 'bearer', refresh_token: refreshToken, access_token: access.token, expires_in: access.expiresIn } };
  };
  router.post('/oauth/2026-03/token', token);
  router.post('/oauth/v1/token', token);

  router.get('/oauth/v1/access-tokens/:token', (req) => {
    const state = getState();
    const t = req.params.token!;
    const info = state.accessTokens.get(t);
    const portal = info ? state.portals.get(info.portalId) : undefined;
    if (!info || !portal || (info.expiresAt !== null && info.expiresAt <= now())) return oauthError('BAD_ACCESS_TOKEN', 'missing, unknown or expired access token', 404);
    return {
      status: 200,
      body: {
        token: t, user: `user-${info.userId}@sandbox.invalid`, hub_domain: `portal-${portal.portalId}.sandbox.invalid`, scopes: info.scopes,
        hub_id: portal.portalId, app_id: portal.appId, expires_in: info.expiresAt === null ? 0 : Math.floor((info.expiresAt - now()) / 1000),
        user_id: info.userId, token_type: 'access',
      },
    };
  });

  router.get('/oauth/v1/refresh-tokens/:token', (req) => {
    const state = getState();
    const t = req.params.token!;
    const info = state.refreshTokens.get(t);
    const portal = info ? state.portals.get(info.portalId) : undefined;
    if (!info || !portal) return oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token', 404);
    return {
      status: 200,
      body: { token: t, user: `user-${info.userId}@sandbox.invalid`, hub_domain: `portal-${portal.portalId}.sandbox.invalid`, scopes: info.scopes, hub_id: portal.portalId, client_id: info.clientId, user_id: info.userId, token_type: 'refresh' },
    };
  });

  router.delete('/oauth/v1/refresh-tokens/:token', (req) => {
    getState().refreshTokens.delete(req.params.token!);
    return { status: 204 };
  });

  return router;
}
