// Salesforce OAuth 2.0: the consent URL of the web-server flow (with PKCE, S256), the token endpoint
// (authorization code, refresh token, JWT bearer), token revocation and the identity of a token (org,
// user, username). Standalone functions over plain fetch: no CallGate (the login server is not part of an
// org's daily API allowance) and no retries (the caller decides, from the CrmError code).
//
// Errors (the login server answers `400 { error, error_description }`): invalid_grant, invalid_client_id,
// invalid_client, inactive_user, inactive_org → AUTH (this will never work: reconnect); unsupported_grant_type,
// invalid_request, redirect_uri_mismatch → INVALID; 429 → RATE_LIMITED; 5xx, timeouts, refused or reset
// connections → TEMPORARY. Secrets (client secret, codes, verifiers, assertions, tokens) never go into a
// log line or an error message; Salesforce's own error_description is safe to pass on.
//
// Salesforce access tokens carry no expiry (the session ends after the org's inactivity timeout, or when
// revoked): every answer here leaves the expiry to the caller, who refreshes on a 401.
import { createHash, createHmac, createSign, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { CrmError, type CrmErrorCode } from '../crm-adapter';
import { toId18 } from './salesforce-ids';

/** What dealreg asks for: the REST API, a refresh token (both spellings Salesforce knows) and the identity URL. */
export const SALESFORCE_SCOPES = 'api refresh_token offline_access id';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const DEFAULT_OAUTH_TIMEOUT_MS = 15_000;
/** Salesforce accepts assertions that expire at most 3 minutes ahead. */
const JWT_LIFETIME_S = 180;
const MAX_MESSAGE = 300;

interface Endpoint {
  /** `https://login.salesforce.com`, `https://test.salesforce.com`, a My Domain, or the sandbox. */
  loginUrl: string;
  timeoutMs?: number;
}

export interface SalesforceTokens {
  accessToken: string;
  /** Only the web-server flow's answers carry one; a refresh keeps the old one unless rotation sends a new one. */
  refreshToken: string | null;
  instanceUrl: string;
  /** The identity URL, `<login host>/id/<orgId>/<userId>`. */
  idUrl: string;
  /** 18-char org and user ids, read off the identity URL. */
  orgId: string;
  userId: string;
  /** When the session was issued (ms since the epoch), when the answer says (not for JWT bearer). */
  issuedAt: number | null;
  scope: string | null;
}

export interface SalesforceIdentity {
  orgId: string;
  userId: string;
  username: string | null;
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or plain http on loopback only (the sandbox, a local fake): tokens never travel in clear over a network. */
export function isHttpsOrLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname));
  } catch {
    return false;
  }
}

const clip = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s);

// ---------------------------------------------------------------------------------------------------
// Ids

/** Org and user ids from an identity URL (`https://login.salesforce.com/id/00D…/005…`), or null. */
export function idsFromIdentityUrl(idUrl: string): { orgId: string; userId: string } | null {
  let path: string;
  try {
    path = new URL(idUrl).pathname;
  } catch {
    return null;
  }
  const m = /\/id\/(00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/(005[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\/?$/.exec(path);
  if (!m) return null;
  const orgId = toId18(m[1]!);
  const userId = toId18(m[2]!);
  return orgId && userId ? { orgId, userId } : null;
}

// ---------------------------------------------------------------------------------------------------
// PKCE and the consent URL

export interface PkcePair {
  /** Kept server-side with the state until the callback; sent only to the token endpoint. */
  codeVerifier: string;
  /** base64url(sha256(verifier)), sent in the consent URL. */
  codeChallenge: string;
}

/** A PKCE verifier (86 chars of base64url, inside RFC 7636's 43..128) and its S256 challenge. */
export function createPkcePair(): PkcePair {
  const codeVerifier = randomBytes(64).toString('base64url');
  return { codeVerifier, codeChallenge: pkceChallenge(codeVerifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The URL that sends an admin to Salesforce's consent page (web-server flow with PKCE). Pure. */
export function salesforceAuthorizeUrl(o: { loginUrl: string; clientId: string; redirectUri: string; state: string; codeChallenge: string; scopes?: string; loginHint?: string }): string {
  const pairs: Array<[string, string]> = [
    ['response_type', 'code'],
    ['client_id', o.clientId],
    ['redirect_uri', o.redirectUri],
    ['scope', o.scopes ?? SALESFORCE_SCOPES],
    ['state', o.state],
    ['code_challenge', o.codeChallenge],
    ['code_challenge_method', 'S256'],
  ];
  if (o.loginHint) pairs.push(['login_hint', o.loginHint]);
  // Spaces as %20 (not '+'), as Salesforce's own examples encode scopes.
  return `${trimSlash(o.loginUrl)}/services/oauth2/authorize?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

// ---------------------------------------------------------------------------------------------------
// JWT bearer

/**
 * The `aud` of a JWT bearer assertion. Salesforce accepts only `https://login.salesforce.com` (production,
 * also for a My Domain) or `https://test.salesforce.com` (sandboxes, also `*.sandbox.my.salesforce.com`):
 * a My Domain as audience is refused as "audience is invalid". Any other login host (the dealreg sandbox,
 * a loopback fake) is its own audience.
 */
export function jwtAudience(loginUrl: string): string {
  const u = new URL(loginUrl);
  const host = u.hostname.toLowerCase();
  if (host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com')) return 'https://test.salesforce.com';
  if (host === 'login.salesforce.com' || host.endsWith('.my.salesforce.com')) return 'https://login.salesforce.com';
  return u.origin;
}

/**
 * Signs the RS256 assertion: header `{ alg: RS256 }`, claims iss (client id), sub (username), aud, exp.
 * node:crypto rather than a JWT library: neither `jsonwebtoken` nor `jose` is a dependency, and signing
 * one fixed-shape token is a base64url join plus an RSA-SHA256 signature, the same primitive they call.
 * A key that is not an RSA private key in PEM throws CrmError INVALID (it will never sign).
 */
export function signJwtAssertion(o: { clientId: string; username: string; audience: string; privateKeyPem: string; now?: number }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  const input = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: o.clientId, sub: o.username, aud: o.audience, exp: now + JWT_LIFETIME_S })}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(o.privateKeyPem).toString('base64url');
  } catch (err) {
    throw new CrmError('salesforce', 'INVALID', 'the JWT private key cannot sign (expected an RSA private key in PEM)', { crmCode: 'BAD_PRIVATE_KEY', cause: err });
  }
  return `${input}.${signature}`;
}

// ---------------------------------------------------------------------------------------------------
// Wire shapes

const tokenWire = z
  .object({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1).optional(),
    instance_url: z.string().url(),
    id: z.string().url(),
    token_type: z.string().optional(),
    issued_at: z.string().regex(/^\d+$/).optional(),
    signature: z.string().optional(),
    scope: z.string().optional(),
  })
  .passthrough();

const oauthErrorWire = z.object({ error: z.string(), error_description: z.string().optional() }).passthrough();

/** The identity URL's answer (`username`) or OpenID userinfo's (`preferred_username`). */
const identityWire = z
  .object({
    user_id: z.string().min(15),
    organization_id: z.string().min(15),
    username: z.string().optional(),
    preferred_username: z.string().optional(),
  })
  .passthrough();

// ---------------------------------------------------------------------------------------------------
// Errors

const AUTH_ERRORS = new Set(['invalid_grant', 'invalid_client_id', 'invalid_client', 'inactive_user', 'inactive_org', 'unauthorized_client', 'invalid_token', 'access_denied']);

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A login-server answer that is not a success → CrmError. Pure. */
export function errorFromOauthAnswer(answer: { status: number; body: unknown; retryAfter?: string | null }, op: string): CrmError {
  const parsed = oauthErrorWire.safeParse(answer.body);
  const crmCode = parsed.success ? parsed.data.error : undefined;
  const what = parsed.success ? `${parsed.data.error}${parsed.data.error_description ? `: ${clip(parsed.data.error_description)}` : ''}` : `HTTP ${answer.status}`;
  const message = `Salesforce ${op} failed (${what})`;
  let code: CrmErrorCode;
  let retryAfterMs: number | undefined;
  if (answer.status === 429) {
    code = 'RATE_LIMITED';
    const s = Number(answer.retryAfter ?? '');
    retryAfterMs = Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
  } else if (answer.status >= 500 || answer.status === 408) code = 'TEMPORARY';
  else if (crmCode && AUTH_ERRORS.has(crmCode)) code = 'AUTH';
  else if (answer.status === 401 || answer.status === 403) code = 'AUTH';
  else if (answer.status === 404) code = 'NOT_FOUND';
  else code = 'INVALID';
  return new CrmError('salesforce', code, message, { status: answer.status, crmCode, retryAfterMs });
}

/** A REST-style answer of the identity / userinfo endpoints (`[{ errorCode, message }]` or text) → CrmError. */
function errorFromIdentityAnswer(answer: Answer, op: string): CrmError {
  const first = Array.isArray(answer.body) ? (answer.body[0] as { errorCode?: unknown; message?: unknown } | undefined) : undefined;
  const crmCode = typeof first?.errorCode === 'string' ? first.errorCode : undefined;
  const detail = typeof first?.message === 'string' ? `${crmCode}: ${clip(first.message)}` : `HTTP ${answer.status}`;
  if (answer.status === 401 || answer.status === 403) return new CrmError('salesforce', 'AUTH', `Salesforce ${op} refused the access token (${detail})`, { status: answer.status, crmCode });
  if (answer.status === 404) return new CrmError('salesforce', 'NOT_FOUND', `Salesforce ${op}: no such identity (${detail})`, { status: answer.status, crmCode });
  if (answer.status === 429) return new CrmError('salesforce', 'RATE_LIMITED', `Salesforce ${op} was rate limited`, { status: 429, crmCode });
  if (answer.status >= 500) return new CrmError('salesforce', 'TEMPORARY', `Salesforce ${op} failed (${detail})`, { status: answer.status, crmCode });
  return new CrmError('salesforce', 'INVALID', `Salesforce ${op} failed (${detail})`, { status: answer.status, crmCode });
}

function unexpected(op: string, status: number, why: string): CrmError {
  return new CrmError('salesforce', 'INVALID', `Salesforce ${op} answered something unexpected (${why})`, { status, crmCode: 'UNEXPECTED_RESPONSE' });
}

// ---------------------------------------------------------------------------------------------------
// Transport

/**
 * One request. Token and revoke requests never follow redirects (their bodies hold secrets); identity
 * does (fetch drops the Authorization header on a cross-origin hop).
 */
async function send(url: string, init: RequestInit, op: string, timeoutMs: number): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new CrmError('salesforce', 'TEMPORARY', `Salesforce ${op} did not answer within ${timeoutMs} ms`, { crmCode: 'TIMEOUT', cause: err });
    }
    // fetch's TypeError hides the reason (ECONNREFUSED, ENOTFOUND, a reset) in `cause`: name it, without the URL's query.
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new CrmError('salesforce', 'TEMPORARY', `could not reach Salesforce for ${op} at ${new URL(url).origin} (${cause?.code ?? (err as Error).message})`, { crmCode: 'NETWORK', cause: err });
  }
  const text = await res.text().catch(() => '');
  let body: unknown = text;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      /* an HTML error page: keep the text */
    }
  }
  return { status: res.status, headers: res.headers, body };
}

async function tokenRequest(e: Endpoint & { clientSecret?: string }, op: string, form: Record<string, string | undefined>): Promise<SalesforceTokens> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) params.set(k, v);
  const answer = await send(
    `${trimSlash(e.loginUrl)}/services/oauth2/token`,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: params.toString() },
    op,
    e.timeoutMs ?? DEFAULT_OAUTH_TIMEOUT_MS,
  );
  if (answer.status < 200 || answer.status >= 300) throw errorFromOauthAnswer({ status: answer.status, body: answer.body, retryAfter: answer.headers.get('retry-after') }, op);
  const parsed = tokenWire.safeParse(answer.body);
  if (!parsed.success) throw unexpected(op, answer.status, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  const t = parsed.data;
  // The signature proves `id` (which names the org) and `issued_at` came from the connected app's login
  // server: check it whenever we hold the client secret that keys it.
  if (e.clientSecret && t.signature && t.issued_at) {
    const expected = createHmac('sha256', e.clientSecret).update(t.id + t.issued_at).digest();
    const got = Buffer.from(t.signature, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw unexpected(op, answer.status, 'the token answer signature does not match');
  }
  const ids = idsFromIdentityUrl(t.id);
  if (!ids) throw unexpected(op, answer.status, 'the identity URL names no org and user');
  // Every API call will carry the token to these: never over plain http beyond loopback.
  if (!isHttpsOrLoopback(t.instance_url) || !isHttpsOrLoopback(t.id)) throw unexpected(op, answer.status, 'the instance or identity URL is not https');
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token ?? null,
    instanceUrl: trimSlash(t.instance_url),
    idUrl: t.id,
    orgId: ids.orgId,
    userId: ids.userId,
    issuedAt: t.issued_at ? Number(t.issued_at) : null,
    scope: t.scope ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------
// Token endpoint

/** The callback's code (with the PKCE verifier kept since the consent URL) → tokens. */
export async function exchangeCode(o: Endpoint & { clientId: string; clientSecret?: string; redirectUri: string; code: string; codeVerifier: string }): Promise<SalesforceTokens> {
  const op = 'oauth.token.authorization_code';
  const t = await tokenRequest(o, op, {
    grant_type: 'authorization_code',
    code: o.code,
    client_id: o.clientId,
    // With PKCE a connected app may not require its secret; send it when we have it (apps that require it refuse without).
    client_secret: o.clientSecret,
    redirect_uri: o.redirectUri,
    code_verifier: o.codeVerifier,
  });
  if (!t.refreshToken) throw unexpected(op, 200, 'no refresh_token: the connected app must allow the refresh_token scope');
  return t;
}

/** A new access token for a refresh token. Salesforce does not rotate refresh tokens unless the app says so: the old one is kept when none comes back. */
export async function refreshAccessToken(o: Endpoint & { clientId: string; clientSecret?: string; refreshToken: string }): Promise<SalesforceTokens> {
  const t = await tokenRequest(o, 'oauth.token.refresh_token', { grant_type: 'refresh_token', refresh_token: o.refreshToken, client_id: o.clientId, client_secret: o.clientSecret });
  return { ...t, refreshToken: t.refreshToken ?? o.refreshToken };
}

/** A session for `username` through the JWT bearer flow (server to server, no refresh token: sign again when it ends). */
export async function jwtBearerToken(o: Endpoint & { clientId: string; username: string; privateKeyPem: string; audience?: string; now?: number }): Promise<SalesforceTokens> {
  const assertion = signJwtAssertion({ clientId: o.clientId, username: o.username, audience: o.audience ?? jwtAudience(o.loginUrl), privateKeyPem: o.privateKeyPem, now: o.now });
  const t = await tokenRequest(o, 'oauth.token.jwt_bearer', { grant_type: JWT_BEARER_GRANT, assertion });
  return { ...t, refreshToken: null };
}

/**
 * Revokes a token (disconnect): a refresh token ends itself and every session issued from it, an access
 * token its session. A token Salesforce no longer knows (400 unsupported_token_type / invalid_token) is
 * already revoked: fine.
 */
export async function revokeToken(o: Endpoint & { token: string }): Promise<void> {
  const op = 'oauth.revoke';
  const answer = await send(
    `${trimSlash(o.loginUrl)}/services/oauth2/revoke`,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: o.token }).toString() },
    op,
    o.timeoutMs ?? DEFAULT_OAUTH_TIMEOUT_MS,
  );
  if (answer.status >= 200 && answer.status < 300) return;
  const err = errorFromOauthAnswer({ status: answer.status, body: answer.body, retryAfter: answer.headers.get('retry-after') }, op);
  if (answer.status === 400 && (err.crmCode === 'unsupported_token_type' || err.crmCode === 'invalid_token' || err.crmCode === 'invalid_grant')) return;
  throw err;
}

/**
 * Who an access token is: org id, user id, username. With the identity URL from a token answer
 * (`.../id/<org>/<user>`), that; with only an instance URL (a pasted access token), OpenID userinfo on it.
 */
export async function identity(o: { idUrl?: string; instanceUrl?: string; accessToken: string; timeoutMs?: number }): Promise<SalesforceIdentity> {
  const op = 'identity';
  const url = o.idUrl ?? (o.instanceUrl ? `${trimSlash(o.instanceUrl)}/services/oauth2/userinfo` : undefined);
  if (!url) throw new CrmError('salesforce', 'INVALID', 'identity needs the identity URL or the instance URL');
  const answer = await send(url, { method: 'GET', redirect: 'follow', headers: { authorization: `Bearer ${o.accessToken}`, accept: 'application/json' } }, op, o.timeoutMs ?? DEFAULT_OAUTH_TIMEOUT_MS);
  if (answer.status < 200 || answer.status >= 300) throw errorFromIdentityAnswer(answer, op);
  const parsed = identityWire.safeParse(answer.body);
  if (!parsed.success) throw unexpected(op, answer.status, 'no user_id / organization_id');
  const orgId = toId18(parsed.data.organization_id);
  const userId = toId18(parsed.data.user_id);
  if (!orgId || !userId || !orgId.startsWith('00D') || !userId.startsWith('005')) throw unexpected(op, answer.status, 'the org or user id is not a Salesforce id');
  return { orgId, userId, username: parsed.data.username ?? parsed.data.preferred_username ?? null };
}
