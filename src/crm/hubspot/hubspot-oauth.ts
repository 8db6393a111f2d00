// HubSpot OAuth: the install URL, the token endpoint (authorization code exchange and refresh, at the
// date-versioned `POST /oauth/2026-03/token`, form-encoded: the v1 paths go away on 2027-02-16), token
// introspection and refresh-token revocation. Standalone functions: no CallGate (the OAuth endpoints are
// not part of a portal's API quota) and no retries (the caller decides, from the CrmError code).
//
// Errors: 400 BAD_REFRESH_TOKEN / BAD_AUTH_CODE / BAD_CLIENT_ID / BAD_CLIENT_SECRET / BAD_REDIRECT_URI →
// AUTH (this will never work: reconnect), 429 → RATE_LIMITED, 5xx / timeouts / resets → TEMPORARY.
// Secrets (client secret, codes, tokens) are never put in a log line or an error message.
import { errorFromOauthAnswer, unexpectedAnswer } from './hubspot-errors';
import { answerOf, createHubspotClient, DEFAULT_TIMEOUT_MS, parseBody, sendOnce, type SdkCall } from './hubspot-transport';
import { hsAccessTokenInfoWire, hsTokenWire } from './hubspot-wire';

export const HUBSPOT_TOKEN_PATH = '/oauth/2026-03/token';

export interface HubspotTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export interface HubspotTokenInfo {
  /** The portal (hub) id the token belongs to. */
  hubId: string;
  appId: string | null;
  scopes: string[];
  /** Seconds left; 0 when the token does not expire (the sandbox's private-app tokens). */
  expiresIn: number;
  userId: string | null;
  tokenType: string | null;
}

interface Endpoint {
  /** `https://api.hubapi.com`, or a sandbox. */
  baseUrl: string;
  timeoutMs?: number;
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

/**
 * The URL that sends an admin to HubSpot's install page. Pure. `authorizeBaseUrl` is HubSpot's app host
 * (`https://app.hubspot.com`, `https://app-eu1.hubspot.com`, or a sandbox); `/oauth/authorize` is added.
 */
export function hubspotAuthorizeUrl(o: {
  authorizeBaseUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  optionalScopes?: readonly string[];
  state: string;
}): string {
  // Scopes are space-separated; encode spaces as %20 (HubSpot's own examples), not '+'.
  const pairs: Array<[string, string]> = [
    ['client_id', o.clientId],
    ['redirect_uri', o.redirectUri],
    ['scope', o.scopes.join(' ')],
  ];
  if (o.optionalScopes && o.optionalScopes.length > 0) pairs.push(['optional_scope', o.optionalScopes.join(' ')]);
  pairs.push(['state', o.state]);
  const query = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const base = trimSlash(o.authorizeBaseUrl);
  return `${base.endsWith('/oauth/authorize') ? base : `${base}/oauth/authorize`}?${query}`;
}

async function tokenRequest(e: Endpoint, op: string, form: Record<string, string>): Promise<{ accessToken: string; refreshToken: string | null; expiresIn: number }> {
  const body = new URLSearchParams(form).toString();
  const call: SdkCall = (c) =>
    c.apiRequest({ method: 'POST', path: HUBSPOT_TOKEN_PATH, body, defaultJson: false, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  const answer = answerOf(await sendOnce(createHubspotClient(trimSlash(e.baseUrl)), call, op, e.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  if (answer.status < 200 || answer.status >= 300) throw errorFromOauthAnswer(answer, op);
  return parseBody(hsTokenWire, answer, op);
}

/** Exchanges the code from the install redirect for tokens. */
export async function exchangeCode(o: Endpoint & { clientId: string; clientSecret: string; redirectUri: string; code: string }): Promise<HubspotTokens> {
  const t = await tokenRequest(o, 'oauth.token.authorization_code', {
    grant_type: 'authorization_code',
    client_id: o.clientId,
    client_secret: o.clientSecret,
    redirect_uri: o.redirectUri,
    code: o.code,
  });
  if (t.refreshToken === null) throw unexpectedAnswer('oauth.token.authorization_code', 200, 'no refresh_token in the answer');
  return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresIn: t.expiresIn };
}

/** A new access token for a refresh token (HubSpot's refresh tokens do not rotate; a new one is kept if sent). */
export async function refreshAccessToken(o: Endpoint & { clientId: string; clientSecret: string; refreshToken: string }): Promise<HubspotTokens> {
  const t = await tokenRequest(o, 'oauth.token.refresh_token', {
    grant_type: 'refresh_token',
    client_id: o.clientId,
    client_secret: o.clientSecret,
    refresh_token: o.refreshToken,
  });
  return { accessToken: t.accessToken, refreshToken: t.refreshToken ?? o.refreshToken, expiresIn: t.expiresIn };
}

/**
 * What an access token is: portal, app, scopes, time left (`GET /oauth/v1/access-tokens/{token}`).
 * HubSpot answers 4xx for tokens it does not introspect (private-app tokens, expired tokens): NOT_FOUND
 * or AUTH. The sandbox introspects private-app tokens too (expiresIn 0).
 */
export async function introspect(o: Endpoint & { accessToken: string }): Promise<HubspotTokenInfo> {
  const op = 'oauth.access-token.introspect';
  const call: SdkCall = (c, options) => c.oauth.accessTokensApi.get(o.accessToken, options);
  const answer = answerOf(await sendOnce(createHubspotClient(trimSlash(o.baseUrl)), call, op, o.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  if (answer.status < 200 || answer.status >= 300) throw errorFromOauthAnswer(answer, op);
  const info = parseBody(hsAccessTokenInfoWire, answer, op);
  return {
    hubId: info.hub_id,
    appId: info.app_id ?? null,
    scopes: info.scopes,
    expiresIn: info.expires_in ?? 0,
    userId: info.user_id ?? null,
    tokenType: info.token_type ?? null,
  };
}

/**
 * Deletes a refresh token (disconnect). An already revoked or unknown token (400 / 404) is fine.
 * The adapter's revoke() does the same through the connection's CallGate.
 */
export async function revokeRefreshToken(o: Endpoint & { refreshToken: string }): Promise<void> {
  const op = 'oauth.refresh-token.revoke';
  const call: SdkCall = (c, options) => c.oauth.refreshTokensApi.archive(o.refreshToken, options);
  const answer = answerOf(await sendOnce(createHubspotClient(trimSlash(o.baseUrl)), call, op, o.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  if (answer.status >= 200 && answer.status < 300) return;
  if (answer.status === 400 || answer.status === 404) return;
  throw errorFromOauthAnswer(answer, op);
}
