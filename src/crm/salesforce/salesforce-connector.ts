// The Salesforce connector: how dealreg builds a Salesforce adapter for a connection, gets new access
// tokens (web-server flow: the refresh token; JWT bearer: a newly signed assertion), revokes on
// disconnect, what a connection request looks like (tokens obtained elsewhere, or JWT settings), and the
// browser install (web-server flow with PKCE). Registered in the typed record of connectors (src/main.ts).
//
// Credentials that belong to the installation (SALESFORCE_CLIENT_SECRET, SALESFORCE_JWT_PRIVATE_KEY_FILE)
// are only ever sent to Salesforce's own login hosts or to the configured SALESFORCE_LOGIN_URL: a workspace
// admin naming another login host must bring the connected app's credentials along.
import { createPrivateKey } from 'node:crypto';
import { z, ZodError } from 'zod';
import { crmFailure, type ConnectionDraft } from '../../use-cases/crm/connections';
import type { CrmConnector, CrmServices, CrmSettings } from '../crm-services';
import { readSecrets, readTokens, type ConnectionRecord, type TokenSet } from '../../data/repositories/connections';
import { AppError } from '../../lib/errors';
import { CrmError } from '../crm-adapter';
import type { Refresher } from '../token-source';
import { createSalesforceAdapter } from './salesforce-adapter';
import { createApiBudget } from './salesforce-budget';
import { defaultSalesforceMapping } from './salesforce-mapping-defaults';
import { SALESFORCE_REGISTRATION_ID_FIELD } from './salesforce-schema';
import {
  createPkcePair,
  exchangeCode,
  identity,
  isHttpsOrLoopback,
  jwtBearerToken,
  refreshAccessToken,
  revokeToken,
  salesforceAuthorizeUrl,
  type SalesforceTokens,
} from './salesforce-oauth';

const SANDBOX_LOGIN_URL = 'https://test.salesforce.com';

// ---------------------------------------------------------------------------------------------------
// Login and instance URLs

/** An origin dealreg may call: https, or plain http on loopback (the sandbox, a local fake); no path, query or credentials. */
function originProblem(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'must be a URL such as https://login.salesforce.com';
  }
  if (!isHttpsOrLoopback(raw)) return 'must use https (plain http only on loopback)';
  if (u.username || u.password) return 'must not carry credentials';
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return 'must be an origin only (no path, query or fragment), e.g. https://acme.my.salesforce.com';
  return null;
}

const salesforceOrigin = z
  .string()
  .trim()
  .max(300)
  .transform((v, ctx) => {
    const problem = originProblem(v);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return new URL(v).origin;
  });

/**
 * Whether the installation's connected-app secret / JWT key may be sent to this login host: the configured
 * SALESFORCE_LOGIN_URL (exactly: scheme, host and port), or an https host Salesforce runs (login, test, My
 * Domains, Experience Cloud sites).
 */
export function isTrustedLoginHost(loginUrl: string, settings: CrmSettings): boolean {
  const u = new URL(loginUrl);
  if (u.origin === new URL(settings.salesforce.loginUrl).origin) return true;
  const host = u.hostname.toLowerCase();
  return u.protocol === 'https:' && (host === 'salesforce.com' || host.endsWith('.salesforce.com') || host.endsWith('.force.com'));
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

// ---------------------------------------------------------------------------------------------------
// POST /v1/connections/salesforce

const secretString = (what: string) => z.string().trim().min(10, what).max(4096);
const clientIdString = z.string().trim().min(1).max(255);

const pemPrivateKey = z
  .string()
  .max(16_384)
  .refine((v) => {
    if (!v.includes('-----BEGIN')) return false;
    try {
      return createPrivateKey(v).asymmetricKeyType === 'rsa';
    } catch {
      return false;
    }
  }, 'must be the connected app certificate\u2019s RSA private key, PEM-encoded (a BEGIN PRIVATE KEY block)');

/** Tokens obtained elsewhere (an OAuth client, the Salesforce CLI): at least one of accessToken / refreshToken. */
export const salesforceTokensConnectSchema = z
  .object({
    auth: z.literal('oauth').optional(),
    instanceUrl: salesforceOrigin,
    accessToken: secretString('the Salesforce access (session) token').optional(),
    refreshToken: secretString('the Salesforce refresh token').optional(),
    loginUrl: salesforceOrigin.optional(),
    clientId: clientIdString.optional(),
    clientSecret: z.string().trim().min(1).max(512).optional(),
  })
  .strict()
  .refine((b) => b.accessToken !== undefined || b.refreshToken !== undefined, { message: 'give accessToken, refreshToken or both', path: ['accessToken'] });

/** JWT bearer (server to server): the integration user's username and the connected app's key. */
export const salesforceJwtConnectSchema = z
  .object({
    auth: z.literal('jwt'),
    username: z.string().trim().min(3).max(255).regex(/^[^\s@]+@[^\s@]+$/, 'a Salesforce username (it looks like an email address)'),
    clientId: clientIdString.optional(),
    loginUrl: salesforceOrigin.optional(),
    privateKey: pemPrivateKey.optional(),
    /** Informational: the login server's answer names the org's instance, and that one is used. */
    instanceUrl: salesforceOrigin.optional(),
  })
  .strict();

export const salesforceConnectSchema = z.discriminatedUnion('auth', [salesforceTokensConnectSchema, salesforceJwtConnectSchema]);

type TokensInput = z.output<typeof salesforceTokensConnectSchema>;
type JwtInput = z.output<typeof salesforceJwtConnectSchema>;

/** A request problem that only shows with the installation's settings: answered like any other 422 VALIDATION_FAILED. */
function invalidField(path: string, message: string): ZodError {
  return new ZodError([{ code: 'custom', path: [path], message, input: undefined }]);
}

/** A failure while building the draft: answered as connectCrm answers its own (nothing is stored yet). */
function connectFailure(err: unknown, what: string): unknown {
  if (err instanceof ZodError || err instanceof AppError) return err;
  return crmFailure('salesforce', err, what);
}

/** The connected app to use against `loginUrl`: the request's own, else the installation's (trusted hosts only). */
function appCredentials(s: CrmServices, loginUrl: string, clientId?: string, clientSecret?: string): { clientId?: string; clientSecret?: string } {
  const sf = s.settings.salesforce;
  if (clientId && clientId !== sf.clientId) return { clientId, clientSecret };
  if (!sf.clientId) return { clientId: undefined, clientSecret };
  if (clientSecret === undefined && sf.clientSecret && !isTrustedLoginHost(loginUrl, s.settings)) {
    throw invalidField('loginUrl', "dealreg's connected app is only used with Salesforce login hosts and SALESFORCE_LOGIN_URL: for this login host give the clientId (and clientSecret) of your own connected app");
  }
  return { clientId: sf.clientId, clientSecret: clientSecret ?? sf.clientSecret };
}

function draftSettings(s: CrmServices, o: { instanceUrl: string; loginUrl: string; clientId?: string; username: string | null; userId: string }): Record<string, unknown> {
  return {
    instanceUrl: o.instanceUrl,
    loginUrl: o.loginUrl,
    ...(o.clientId ? { clientId: o.clientId } : {}),
    ...(o.username ? { username: o.username } : {}),
    userId: o.userId,
    apiVersion: s.settings.salesforce.apiVersion,
  };
}

/**
 * Salesforce sessions end after the org's inactivity timeout (15 min to 24 h, sliding), not at a fixed time,
 * and token answers carry no expiry: any fixed guess is wrong for a busy connection. The expiry is left
 * unknown (null) and a 401 refreshes, once, through the token source.
 */
const UNKNOWN_EXPIRY = null;

async function draftFromTokens(input: TokensInput, s: CrmServices): Promise<ConnectionDraft> {
  const loginUrl = input.loginUrl ?? trimSlash(s.settings.salesforce.loginUrl);
  // A pasted access token alone needs no connected app; a refresh token needs the one that issued it.
  const app = input.refreshToken ? appCredentials(s, loginUrl, input.clientId, input.clientSecret) : { clientId: input.clientId, clientSecret: input.clientSecret };
  if (input.refreshToken && !app.clientId) {
    throw invalidField('clientId', 'a refresh token only works with the client id of the connected app that issued it: give clientId, or set SALESFORCE_CLIENT_ID');
  }
  let accessToken = input.accessToken;
  let refreshToken = input.refreshToken ?? null;
  let instanceUrl = input.instanceUrl;
  let idUrl: string | undefined;
  let refreshed = false;
  const refresh = async () => {
    const t = await refreshAccessToken({ loginUrl, clientId: app.clientId!, clientSecret: app.clientSecret, refreshToken: refreshToken! });
    refreshed = true;
    accessToken = t.accessToken;
    refreshToken = t.refreshToken;
    // The login server knows the org's instance better than what was typed in.
    instanceUrl = t.instanceUrl;
    idUrl = t.idUrl;
  };
  let who;
  try {
    if (!accessToken) await refresh();
    try {
      who = await identity({ idUrl, instanceUrl, accessToken: accessToken! });
    } catch (err) {
      // A stale access token next to a refresh token: the refresh token is what counts.
      if (!(err instanceof CrmError && err.code === 'AUTH' && refreshToken && !refreshed)) throw err;
      await refresh();
      who = await identity({ idUrl, instanceUrl, accessToken: accessToken! });
    }
  } catch (err) {
    throw connectFailure(err, 'checking the tokens');
  }
  // Only a secret the request brought is stored with the connection (encrypted); the installation's stays in the config.
  const ownSecret = refreshToken && input.clientSecret ? { clientSecret: input.clientSecret } : null;
  return {
    crm: 'salesforce',
    externalAccountId: who.orgId,
    authType: refreshToken ? 'oauth' : 'private_app',
    tokens: { accessToken: accessToken!, refreshToken, expiresAt: UNKNOWN_EXPIRY },
    settings: draftSettings(s, { instanceUrl, loginUrl, clientId: refreshToken ? app.clientId : input.clientId, username: who.username, userId: who.userId }),
    secrets: ownSecret,
  };
}

async function draftFromJwt(input: JwtInput, s: CrmServices): Promise<ConnectionDraft> {
  const sf = s.settings.salesforce;
  const loginUrl = input.loginUrl ?? trimSlash(sf.loginUrl);
  const clientId = input.clientId ?? sf.clientId;
  if (!clientId) throw invalidField('clientId', 'the JWT bearer flow needs the connected app\u2019s client id (its consumer key): give clientId, or set SALESFORCE_CLIENT_ID');
  const privateKey = input.privateKey ?? sf.jwtPrivateKey;
  if (!privateKey) throw invalidField('privateKey', 'the JWT bearer flow needs the private key of the certificate uploaded to the connected app: give privateKey (PEM), or set SALESFORCE_JWT_PRIVATE_KEY_FILE');
  if (!input.privateKey && !isTrustedLoginHost(loginUrl, s.settings)) {
    throw invalidField('loginUrl', "dealreg's JWT key is only used with Salesforce login hosts and SALESFORCE_LOGIN_URL: for this login host give your own privateKey");
  }
  let t: SalesforceTokens;
  let who;
  try {
    // Signed with the wall clock, not the use-case clock: Salesforce checks `exp` against its own.
    t = await jwtBearerToken({ loginUrl, clientId, username: input.username, privateKeyPem: privateKey });
    who = await identity({ idUrl: t.idUrl, accessToken: t.accessToken });
  } catch (err) {
    throw connectFailure(err, 'signing in with the JWT bearer flow');
  }
  return {
    crm: 'salesforce',
    externalAccountId: who.orgId,
    authType: 'jwt',
    tokens: { accessToken: t.accessToken, refreshToken: null, expiresAt: UNKNOWN_EXPIRY },
    settings: draftSettings(s, { instanceUrl: t.instanceUrl, loginUrl, clientId, username: input.username, userId: who.userId }),
    secrets: input.privateKey ? { privateKey: input.privateKey } : null,
  };
}

export async function salesforceDraftFromRequest(body: unknown, s: CrmServices): Promise<ConnectionDraft> {
  const input = salesforceConnectSchema.parse(body ?? {});
  return input.auth === 'jwt' ? draftFromJwt(input, s) : draftFromTokens(input, s);
}

// ---------------------------------------------------------------------------------------------------
// A stored connection

const storedSettings = z
  .object({
    instanceUrl: z.string().min(1),
    loginUrl: z.string().min(1).optional(),
    clientId: z.string().optional(),
    username: z.string().optional(),
    userId: z.string().optional(),
  })
  .passthrough();

function connectionSettings(c: ConnectionRecord, s: CrmServices) {
  const parsed = storedSettings.safeParse(c.settings);
  if (!parsed.success) throw new CrmError('salesforce', 'INVALID', 'the connection has no Salesforce instance URL: reconnect it');
  return { ...parsed.data, loginUrl: parsed.data.loginUrl ?? trimSlash(s.settings.salesforce.loginUrl) };
}

/** The draft's secrets (not stored yet), or the stored ones. `undefined` means "stored": see CrmConnector.refresher. */
async function secretsOf(c: ConnectionRecord, s: CrmServices, draftSecrets: Record<string, string> | null | undefined): Promise<Record<string, string> | null> {
  if (draftSecrets !== undefined) return draftSecrets;
  return s.key ? readSecrets(s.ctx.prisma, s.key, c.id) : null;
}

function refresherFor(c: ConnectionRecord, s: CrmServices, draftSecrets: Record<string, string> | null | undefined): Refresher | undefined {
  const sf = s.settings.salesforce;
  if (c.authType === 'jwt') {
    return async () => {
      const cs = connectionSettings(c, s);
      const clientId = cs.clientId ?? sf.clientId;
      if (!clientId || !cs.username) throw new CrmError('salesforce', 'AUTH', 'the JWT connection has no client id or username: reconnect it');
      const own = (await secretsOf(c, s, draftSecrets))?.privateKey;
      const privateKey = own ?? (isTrustedLoginHost(cs.loginUrl, s.settings) ? sf.jwtPrivateKey : undefined);
      if (!privateKey) throw new CrmError('salesforce', 'AUTH', 'no JWT private key for this connection (SALESFORCE_JWT_PRIVATE_KEY_FILE is not set)');
      const t = await jwtBearerToken({ loginUrl: cs.loginUrl, clientId, username: cs.username, privateKeyPem: privateKey });
      return { accessToken: t.accessToken, refreshToken: null, expiresAt: UNKNOWN_EXPIRY };
    };
  }
  if (!c.hasRefreshToken) return undefined;
  return async (refreshToken) => {
    if (!refreshToken) throw new CrmError('salesforce', 'AUTH', 'the connection has no refresh token');
    const cs = connectionSettings(c, s);
    const clientId = cs.clientId ?? sf.clientId;
    if (!clientId) throw new CrmError('salesforce', 'AUTH', 'SALESFORCE_CLIENT_ID is needed to refresh this connection\u2019s tokens');
    const own = (await secretsOf(c, s, draftSecrets))?.clientSecret;
    const installationSecret = clientId === sf.clientId && isTrustedLoginHost(cs.loginUrl, s.settings) ? sf.clientSecret : undefined;
    const t = await refreshAccessToken({ loginUrl: cs.loginUrl, clientId, clientSecret: own ?? installationSecret, refreshToken });
    return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: UNKNOWN_EXPIRY };
  };
}

async function revokeConnection(c: ConnectionRecord, tokens: TokenSet, s: CrmServices): Promise<void> {
  const { loginUrl } = connectionSettings(c, s);
  // Revoking the refresh token also ends every session issued from it; a JWT connection only has its session.
  await revokeToken({ loginUrl, token: tokens.refreshToken ?? tokens.accessToken });
}

// ---------------------------------------------------------------------------------------------------
// Browser install: web-server flow with PKCE

export function salesforceRedirectUri(s: CrmServices): string {
  return `${trimSlash(s.settings.publicBaseUrl)}/oauth/salesforce/callback`;
}

const installQuery = z
  .object({
    loginUrl: salesforceOrigin.optional(),
    sandbox: z.enum(['true', 'false']).optional(),
    /** Prefills the username on Salesforce's login page (and picks the user when several orgs share the app). */
    loginHint: z.string().trim().min(3).max(255).optional(),
  })
  .passthrough();

function beginInstall(s: CrmServices, query: Record<string, string | undefined>) {
  const sf = s.settings.salesforce;
  if (!sf.clientId) {
    throw new CrmError('salesforce', 'INVALID', 'set SALESFORCE_CLIENT_ID (and SALESFORCE_CLIENT_SECRET, unless your connected app allows PKCE without a secret) to install through OAuth');
  }
  const q = installQuery.parse(query);
  const loginUrl = q.loginUrl ?? (q.sandbox === 'true' ? SANDBOX_LOGIN_URL : trimSlash(sf.loginUrl));
  // The code, the verifier and dealreg's client secret go to this host at the callback.
  if (!isTrustedLoginHost(loginUrl, s.settings)) throw invalidField('loginUrl', 'installs go through Salesforce login hosts (login.salesforce.com, test.salesforce.com, a My Domain) or SALESFORCE_LOGIN_URL');
  const { codeVerifier, codeChallenge } = createPkcePair();
  return {
    keep: { codeVerifier, loginUrl },
    authorizeUrl: (state: string) => salesforceAuthorizeUrl({ loginUrl, clientId: sf.clientId!, redirectUri: salesforceRedirectUri(s), state, codeChallenge, loginHint: q.loginHint }),
  };
}

/** The callback's code → a draft. AUTH stays a CrmError (the route answers OAUTH_CODE_REJECTED); other failures are 502 / 422. */
async function completeInstall(s: CrmServices, code: string, kept: Record<string, string>): Promise<ConnectionDraft> {
  const sf = s.settings.salesforce;
  if (!sf.clientId) throw new CrmError('salesforce', 'INVALID', 'SALESFORCE_CLIENT_ID is not set');
  const loginUrl = kept.loginUrl ?? trimSlash(sf.loginUrl);
  if (!kept.codeVerifier) throw new CrmError('salesforce', 'AUTH', 'the install state carries no PKCE verifier');
  try {
    const t = await exchangeCode({ loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret, redirectUri: salesforceRedirectUri(s), code, codeVerifier: kept.codeVerifier });
    const who = await identity({ idUrl: t.idUrl, accessToken: t.accessToken });
    return {
      crm: 'salesforce',
      externalAccountId: who.orgId,
      authType: 'oauth',
      tokens: { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: UNKNOWN_EXPIRY },
      settings: draftSettings(s, { instanceUrl: t.instanceUrl, loginUrl, clientId: sf.clientId, username: who.username, userId: who.userId }),
      secrets: null,
    };
  } catch (err) {
    if (err instanceof CrmError && err.code === 'AUTH') throw err;
    throw connectFailure(err, 'exchanging the authorization code');
  }
}

// ---------------------------------------------------------------------------------------------------

export function salesforceConnector(): CrmConnector {
  return {
    crm: 'salesforce',
    registrationIdField: SALESFORCE_REGISTRATION_ID_FIELD,
    partnerRefKey: 'salesforceAccountId',
    defaultMapping: defaultSalesforceMapping,
    limits: (settings) => ({ apiPerSecond: settings.salesforce.requestsPerSecond, searchPerSecond: settings.salesforce.requestsPerSecond }),
    createAdapter: ({ connection, tokens, gate, services }) => {
      const cs = connectionSettings(connection, services);
      const orgId = connection.externalAccountId;
      return createSalesforceAdapter({
        orgId,
        instanceUrl: cs.instanceUrl,
        apiVersion: services.settings.salesforce.apiVersion,
        loginUrl: cs.loginUrl,
        tokens,
        gate,
        budget: createApiBudget({ redis: services.redis, prefix: services.prefix, orgId, percent: services.settings.salesforce.apiBudgetPercent }),
        log: services.ctx.log.child({ component: 'salesforce', connectionId: connection.id, orgId }),
        // Read only on revoke; a connection being checked before it is stored has none in the database yet.
        refreshToken: async () =>
          services.key && connection.hasRefreshToken && !connection.id.startsWith('pending-') ? ((await readTokens(services.ctx.prisma, services.key, connection.id))?.refreshToken ?? null) : null,
      });
    },
    refresher: (connection, services, secrets) => refresherFor(connection, services, secrets),
    revoke: revokeConnection,
    draftFromRequest: salesforceDraftFromRequest,
    oauth: { begin: beginInstall, complete: completeInstall },
  };
}
