// OAuth 2.0 as a Salesforce org's login server answers it: web-server flow (authorize redirect, code
// exchange with PKCE), refresh_token, JWT bearer (RS256 assertion checked against the connected app's
// certificate), revoke; access tokens that expire after the org's tokenTtlSeconds.
import { createHash, createHmac, createPublicKey, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { SandboxRequest, SandboxResponse } from '../common/http';
import { oauthError } from './errors';
import type { Org, Row } from './org';

export interface AccessTokenData {
  token: string;
  orgId: string;
  userId: string;
  clientId: string;
  issuedAt: number;
  expiresAt: number;
  /** The refresh token this session was issued from (revoking it ends the session). */
  refreshToken: string | null;
}

export interface RefreshTokenData {
  token: string;
  orgId: string;
  userId: string;
  clientId: string;
  issuedAt: number;
}

interface AuthCode {
  orgId: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  expiresAt: number;
}

export interface TokenStoreData {
  access: AccessTokenData[];
  refresh: RefreshTokenData[];
}

/** What the OAuth endpoints need from the sandbox. */
export interface AuthHost {
  now(): number;
  publicUrl(): string;
  org(orgId: string): Org | undefined;
  orgsByClientId(clientId: string): Org[];
  userByUsername(username: string): { org: Org; user: Row } | null;
}

const b64url = (buf: Buffer): string => buf.toString('base64url');

export class TokenStore {
  readonly access = new Map<string, AccessTokenData>();
  readonly refresh = new Map<string, RefreshTokenData>();
  private readonly codes = new Map<string, AuthCode>();

  constructor(private readonly host: AuthHost) {}

  clear(): void {
    this.access.clear();
    this.refresh.clear();
    this.codes.clear();
  }

  toData(): TokenStoreData {
    return { access: [...this.access.values()], refresh: [...this.refresh.values()] };
  }

  load(data: TokenStoreData): void {
    this.clear();
    for (const a of data.access) this.access.set(a.token, a);
    for (const r of data.refresh) this.refresh.set(r.token, r);
  }

  issueAccess(org: Org, userId: string, clientId: string, refreshToken: string | null): AccessTokenData {
    const now = this.host.now();
    if (this.access.size > 50_000) this.sweep(now);
    // Salesforce access tokens start with the 15-char org id and a '!'.
    const token = `${org.id.slice(0, 15)}!${b64url(randomBytes(48)).replace(/-/g, '.').replace(/_/g, 'A')}`;
    const data: AccessTokenData = { token, orgId: org.id, userId, clientId, issuedAt: now, expiresAt: now + org.settings.tokenTtlSeconds * 1000, refreshToken };
    this.access.set(token, data);
    return data;
  }

  issueRefresh(org: Org, userId: string, clientId: string): RefreshTokenData {
    const token = `5Aep861${b64url(randomBytes(60)).replace(/-/g, '.').replace(/_/g, 'A')}`;
    const data: RefreshTokenData = { token, orgId: org.id, userId, clientId, issuedAt: this.host.now() };
    this.refresh.set(token, data);
    return data;
  }

  /** The live session behind a bearer token, or null (unknown, revoked, expired). */
  session(token: string): AccessTokenData | null {
    const data = this.access.get(token);
    if (!data) return null;
    if (this.host.now() >= data.expiresAt) {
      this.access.delete(token);
      return null;
    }
    return data;
  }

  expireOrg(orgId: string): number {
    let n = 0;
    for (const [k, v] of this.access) {
      if (v.orgId === orgId) {
        this.access.delete(k);
        n++;
      }
    }
    return n;
  }

  dropOrg(orgId: string): void {
    this.expireOrg(orgId);
    for (const [k, v] of this.refresh) if (v.orgId === orgId) this.refresh.delete(k);
    for (const [k, v] of this.codes) if (v.orgId === orgId) this.codes.delete(k);
  }

  private sweep(now: number): void {
    for (const [k, v] of this.access) if (now >= v.expiresAt) this.access.delete(k);
  }

  // -------------------------------------------------------------------------------------------------

  /** `GET /services/oauth2/authorize`: approves at once and redirects back with `code` and `state`. */
  authorize(req: SandboxRequest): SandboxResponse {
    const q = req.query;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('response_type') !== 'code') throw oauthError(400, 'unsupported_response_type', 'response type not supported');
    const candidates = this.host.orgsByClientId(clientId);
    if (candidates.length === 0) throw oauthError(400, 'invalid_client_id', 'client identifier invalid');
    const hint = q.get('login_hint');
    let org: Org | undefined;
    let userId: string | undefined;
    if (hint) {
      const found = this.host.userByUsername(hint);
      if (found && candidates.includes(found.org)) {
        org = found.org;
        userId = found.user.Id;
      }
    }
    if (!org) {
      org = candidates[candidates.length - 1]!;
      userId = org.data.integrationUserId;
    }
    if (!redirectUri || (org.data.app.redirectUris.length > 0 && !org.data.app.redirectUris.includes(redirectUri))) {
      throw oauthError(400, 'redirect_uri_mismatch', 'redirect_uri must match configuration');
    }
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge && method && method !== 'S256') throw oauthError(400, 'invalid_request', 'unsupported code_challenge_method');
    const code = `aPrx${b64url(randomBytes(36))}`;
    this.codes.set(code, { orgId: org.id, userId: userId!, clientId, redirectUri, codeChallenge: challenge, expiresAt: this.host.now() + 15 * 60_000 });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, headers: { location: target.toString(), 'cache-control': 'no-cache,must-revalidate,max-age=0,no-store,private' } };
  }

  /** `POST /services/oauth2/token`. */
  token(req: SandboxRequest): SandboxResponse {
    const p = formParams(req);
    const grant = p.get('grant_type');
    switch (grant) {
      case 'authorization_code':
        return this.codeGrant(p);
      case 'refresh_token':
        return this.refreshGrant(p);
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        return this.jwtGrant(p);
      default:
        throw oauthError(400, 'unsupported_grant_type', 'grant type not supported');
    }
  }

  private checkClient(org: Org, clientId: string | null, clientSecret: string | null, secretRequired: boolean): void {
    if (!clientId || clientId !== org.data.app.clientId) throw oauthError(400, 'invalid_client_id', 'client identifier invalid');
    if (clientSecret !== null ? clientSecret !== org.data.app.clientSecret : secretRequired) {
      throw oauthError(400, 'invalid_client', 'invalid client credentials');
    }
  }

  private codeGrant(p: URLSearchParams): SandboxResponse {
    const code = p.get('code') ?? '';
    const entry = this.codes.get(code);
    if (!entry || this.host.now() >= entry.expiresAt) {
      this.codes.delete(code);
      throw oauthError(400, 'invalid_grant', 'invalid authorization code');
    }
    const org = this.host.org(entry.orgId);
    if (!org) throw oauthError(400, 'invalid_grant', 'invalid authorization code');
    const verifier = p.get('code_verifier');
    // Without PKCE the client secret is required; with PKCE a public client may omit it.
    this.checkClient(org, p.get('client_id'), p.get('client_secret'), entry.codeChallenge === null);
    if (entry.clientId !== p.get('client_id')) throw oauthError(400, 'invalid_grant', 'invalid authorization code');
    if ((p.get('redirect_uri') ?? '') !== entry.redirectUri) throw oauthError(400, 'invalid_grant', 'redirect_uri must match configuration');
    if (entry.codeChallenge !== null) {
      if (!verifier) throw oauthError(400, 'invalid_grant', 'invalid code verifier');
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (computed !== entry.codeChallenge) throw oauthError(400, 'invalid_grant', 'invalid code verifier');
    } else if (verifier) {
      throw oauthError(400, 'invalid_grant', 'invalid code verifier');
    }
    this.codes.delete(code);
    const refresh = this.issueRefresh(org, entry.userId, entry.clientId);
    const access = this.issueAccess(org, entry.userId, entry.clientId, refresh.token);
    return this.tokenResponse(org, access, refresh.token, true, 'api refresh_token id');
  }

  private refreshGrant(p: URLSearchParams): SandboxResponse {
    const entry = this.refresh.get(p.get('refresh_token') ?? '');
    if (!entry) throw oauthError(400, 'invalid_grant', 'expired access/refresh token');
    const org = this.host.org(entry.orgId);
    if (!org) throw oauthError(400, 'invalid_grant', 'expired access/refresh token');
    this.checkClient(org, p.get('client_id'), p.get('client_secret'), false);
    const user = org.table('User').get(entry.userId);
    if (!user || user.IsActive !== true) throw oauthError(400, 'invalid_grant', 'inactive user');
    const access = this.issueAccess(org, entry.userId, entry.clientId, entry.token);
    return this.tokenResponse(org, access, null, true, 'api refresh_token id');
  }

  private jwtGrant(p: URLSearchParams): SandboxResponse {
    const assertion = p.get('assertion') ?? '';
    const parts = assertion.split('.');
    if (parts.length !== 3) throw oauthError(400, 'invalid_grant', 'invalid assertion');
    let header: { alg?: string };
    let claims: { iss?: string; sub?: string; aud?: string | string[]; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      throw oauthError(400, 'invalid_grant', 'invalid assertion');
    }
    if (header.alg !== 'RS256') throw oauthError(400, 'invalid_grant', 'invalid assertion');
    const candidates = this.host.orgsByClientId(claims.iss ?? '');
    if (candidates.length === 0) throw oauthError(400, 'invalid_client_id', 'client identifier invalid');
    const found = claims.sub ? this.host.userByUsername(claims.sub) : null;
    if (!found || !candidates.includes(found.org)) throw oauthError(400, 'invalid_grant', 'user hasn\'t approved this consumer');
    const org = found.org;
    const pem = org.data.app.jwtCertificate;
    if (!pem) throw oauthError(400, 'invalid_grant', 'invalid assertion');
    let key: KeyObject;
    try {
      key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
    } catch {
      throw oauthError(400, 'invalid_grant', 'invalid assertion');
    }
    const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) throw oauthError(400, 'invalid_grant', 'invalid assertion');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const allowed = new Set(['https://login.salesforce.com', 'https://test.salesforce.com', this.host.publicUrl()].map(trimSlash));
    if (!audiences.some((a) => typeof a === 'string' && allowed.has(trimSlash(a)))) throw oauthError(400, 'invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.host.now()) throw oauthError(400, 'invalid_grant', 'expired authorization code');
    if (found.user.IsActive !== true) throw oauthError(400, 'invalid_grant', 'inactive user');
    const access = this.issueAccess(org, found.user.Id, claims.iss!, null);
    return this.tokenResponse(org, access, null, false, 'api id');
  }

  /** Access token response; JWT bearer responses carry neither `issued_at` nor `signature`, as Salesforce's. */
  tokenResponse(org: Org, access: AccessTokenData, refreshToken: string | null, signed: boolean, scope: string): SandboxResponse {
    const id = `${this.host.publicUrl()}/id/${org.id}/${access.userId}`;
    const body: Record<string, string> = { access_token: access.token };
    if (refreshToken) body.refresh_token = refreshToken;
    if (signed) {
      const issuedAt = String(access.issuedAt);
      body.signature = createHmac('sha256', org.data.app.clientSecret).update(id + issuedAt).digest('base64');
    }
    body.scope = scope;
    body.instance_url = this.host.publicUrl();
    body.id = id;
    body.token_type = 'Bearer';
    if (signed) body.issued_at = String(access.issuedAt);
    return { status: 200, headers: { 'cache-control': 'no-cache,must-revalidate,max-age=0,no-store,private' }, body };
  }

  /** `POST /services/oauth2/revoke`: an access token ends that session; a refresh token ends it and its sessions. */
  revoke(req: SandboxRequest): SandboxResponse {
    const token = formParams(req).get('token') ?? req.query.get('token') ?? '';
    if (this.access.delete(token)) return { status: 200 };
    if (this.refresh.delete(token)) {
      for (const [k, v] of this.access) if (v.refreshToken === token) this.access.delete(k);
      return { status: 200 };
    }
    throw oauthError(400, 'unsupported_token_type', 'this token type is not supported');
  }
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

function formParams(req: SandboxRequest): URLSearchParams {
  if (req.rawBody.length === 0) return new URLSearchParams(req.query);
  const ct = req.headers['content-type'] ?? '';
  if (ct.includes('json') && req.body && typeof req.body === 'object') {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) p.set(k, String(v));
    return p;
  }
  return new URLSearchParams(req.rawBody.toString('utf8'));
}
