// Connecting Salesforce against a real sandbox org (and real PostgreSQL and Redis): tokens pasted in,
// the browser install (web-server flow with PKCE, the verifier checked by the sandbox's login server), the
// JWT bearer flow with a key pair registered on the org; expired sessions renewed on the next call; clear
// refusals for bad input, refused credentials, an unreachable host and a second org; disconnect revokes.
import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { createSalesforceSandbox, type CreatedOrg, type CreateOrgOptions, type SalesforceSandbox } from '../../src/sandbox/salesforce';
import { startHarness, TEST_ENCRYPTION_KEY, type Harness } from '../helpers/harness';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { adapterFor } from '../../src/crm/crm-services';
import { findConnection, readSecrets, readTokens } from '../../src/data/repositories/connections';
import { createLogger } from '../../src/lib/logger';
import { DEALREG_OPPORTUNITY_FIELDS } from '../../src/crm/salesforce/salesforce-schema';
import { refreshAccessToken } from '../../src/crm/salesforce/salesforce-oauth';

jest.setTimeout(60_000);

const CLIENT_ID = 'dealreg-component-connected-app';
const CLIENT_SECRET = 'dealreg-component-connected-app-secret-0123';
const DEALREG_FIELDS = DEALREG_OPPORTUNITY_FIELDS.map((f) => f.name).sort();

let sandbox: SalesforceSandbox;
let h: Harness;
const logLines: string[] = [];
/** Every secret a test handed to dealreg: none may appear in a response, a log line or a database column in clear. */
const secrets = new Set<string>([CLIENT_SECRET]);

beforeAll(async () => {
  sandbox = createSalesforceSandbox();
  await sandbox.listen(0);
  h = await startHarness({ crm: { salesforce: { loginUrl: sandbox.baseUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } } });
  // Everything dealreg logs, at every level, to check that no secret is ever in it.
  h.ctx.log = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
});

afterAll(async () => {
  await h?.close();
  await sandbox?.close();
});

/** An org of dealreg's connected app (customer orgs share it, as installs of one app do). */
function newOrg(o: CreateOrgOptions = {}): CreatedOrg {
  const org = sandbox.createOrg({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...o });
  secrets.add(org.accessToken);
  secrets.add(org.refreshToken);
  return org;
}

async function newAdmin(): Promise<string> {
  return (await createWorkspace(h.ctx, { name: `sf-${Math.random().toString(36).slice(2, 8)}` })).adminToken;
}

async function control<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sandbox.baseUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const connect = (admin: string, body: unknown) => h.api.post('/v1/connections/salesforce', admin, body);

function expectNoSecretIn(what: string, text: string): void {
  for (const s of secrets) expect({ what, leaked: text.includes(s) ? s.slice(0, 12) : null }).toEqual({ what, leaked: null });
}

async function storedRow(id: string): Promise<string> {
  return JSON.stringify(await h.prisma.crmConnection.findUnique({ where: { id } }));
}

async function renewOnNextCall(connectionId: string, orgId: string) {
  const before = await readTokens(h.prisma, TEST_ENCRYPTION_KEY, connectionId);
  expect((await control('POST', '/_sandbox/expire-tokens', { orgId })).status).toBe(200);
  const record = await findConnection(h.prisma, connectionId);
  await expect(adapterFor(h.crm!, record!).verifyCredentials()).resolves.toMatchObject({ accountId: orgId });
  const after = await readTokens(h.prisma, TEST_ENCRYPTION_KEY, connectionId);
  expect(after!.accessToken).not.toBe(before!.accessToken);
  expect((await findConnection(h.prisma, connectionId))!.status).toBe('active');
  return { before: before!, after: after! };
}

describe('connecting with tokens', () => {
  test('access + refresh token: 201 with the org id and nothing missing; tokens only encrypted, never answered or logged', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 201, error: undefined });
    expect(r.body.schema.missing).toEqual([]);
    expect(r.body.connection).toMatchObject({ crm: 'salesforce', orgId: org.orgId, externalAccountId: org.orgId, authType: 'oauth', status: 'active', canRefresh: true, missingFields: [] });
    expectNoSecretIn('the response', JSON.stringify(r.body));
    const row = await h.prisma.crmConnection.findUniqueOrThrow({ where: { id: r.body.connection.id } });
    expect(row.settings).toMatchObject({ instanceUrl: sandbox.baseUrl, loginUrl: sandbox.baseUrl, clientId: CLIENT_ID, userId: org.integrationUserId, username: org.username, apiVersion: '66.0' });
    expect(row.secretsEnc).toBeNull();
    expectNoSecretIn('the database row', JSON.stringify(row));
    expect(await readTokens(h.prisma, TEST_ENCRYPTION_KEY, row.id)).toMatchObject({ accessToken: org.accessToken, refreshToken: org.refreshToken, expiresAt: null });
    const list = await h.api.get('/v1/connections', admin);
    expect(list.body.data).toEqual([expect.objectContaining({ id: row.id, orgId: org.orgId })]);
    expectNoSecretIn('the list', JSON.stringify(list.body));
  });

  test('a refresh token alone: dealreg refreshes first (with its connected app) and stores the new session', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, refreshToken: org.refreshToken });
    expect(r.status).toBe(201);
    const stored = await readTokens(h.prisma, TEST_ENCRYPTION_KEY, r.body.connection.id);
    expect(stored!.accessToken).not.toBe(org.accessToken);
    expect(stored!.accessToken.startsWith(org.orgId.slice(0, 15))).toBe(true);
    expect(stored!.refreshToken).toBe(org.refreshToken);
    secrets.add(stored!.accessToken);
  });

  test('a stale access token next to a good refresh token still connects (the refresh token counts)', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    await control('POST', '/_sandbox/expire-tokens', { orgId: org.orgId });
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    expect(r.status).toBe(201);
    expect((await readTokens(h.prisma, TEST_ENCRYPTION_KEY, r.body.connection.id))!.accessToken).not.toBe(org.accessToken);
  });

  test('an access token alone connects as a session that cannot be renewed', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken });
    expect(r.status).toBe(201);
    expect(r.body.connection).toMatchObject({ orgId: org.orgId, authType: 'private_app', canRefresh: false });
  });

  test('an org without the dealreg fields connects, and both the answer and the connection name the six fields to deploy', async () => {
    const admin = await newAdmin();
    const org = newOrg({ withDealregFields: false });
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    expect(r.status).toBe(201);
    expect([...r.body.schema.missing].sort()).toEqual(DEALREG_FIELDS);
    expect([...r.body.connection.missingFields].sort()).toEqual(DEALREG_FIELDS);
    const list = await h.api.get('/v1/connections', admin);
    expect([...list.body.data[0].missingFields].sort()).toEqual(DEALREG_FIELDS);
  });

  test('an expired session is renewed with the refresh token on the next call', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    expect(r.status).toBe(201);
    const { before, after } = await renewOnNextCall(r.body.connection.id, org.orgId);
    expect(after.refreshToken).toBe(before.refreshToken);
    secrets.add(after.accessToken);
  });

  test('a refresh token revoked in Salesforce parks the connection on the next call, saying why', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    expect(r.status).toBe(201);
    await fetch(`${sandbox.baseUrl}/services/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: org.refreshToken }) });
    const record = await findConnection(h.prisma, r.body.connection.id);
    await expect(adapterFor(h.crm!, record!).verifyCredentials()).rejects.toMatchObject({ code: 'AUTH' });
    const after = await findConnection(h.prisma, r.body.connection.id);
    expect(after).toMatchObject({ status: 'parked', statusReason: expect.stringMatching(/invalid_grant/) });
  });
});

describe('refusals', () => {
  test('bad bodies are 422 VALIDATION_FAILED with the path, and nothing is stored', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const before = await h.prisma.crmConnection.count();
    const cases: [unknown, string][] = [
      [{}, 'instanceUrl'],
      [{ instanceUrl: org.instanceUrl }, 'accessToken'],
      [{ instanceUrl: 'ftp://acme.my.salesforce.com', accessToken: org.accessToken }, 'instanceUrl'],
      [{ instanceUrl: 'http://acme.my.salesforce.com', accessToken: org.accessToken }, 'instanceUrl'],
      [{ instanceUrl: 'https://acme.my.salesforce.com/services/data', accessToken: org.accessToken }, 'instanceUrl'],
      [{ instanceUrl: org.instanceUrl, accessToken: org.accessToken, portalId: 1 }, ''],
      [{ instanceUrl: org.instanceUrl, accessToken: 'short' }, 'accessToken'],
      [{ auth: 'jwt' }, 'username'],
      [{ auth: 'jwt', username: org.username, privateKey: 'not a PEM key' }, 'privateKey'],
      [{ auth: 'saml', username: org.username }, 'auth'],
    ];
    for (const [body, path] of cases) {
      const r = await connect(admin, body);
      expect({ body, status: r.status, code: r.body.error?.code }).toEqual({ body, status: 422, code: 'VALIDATION_FAILED' });
      expect(r.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect(await h.prisma.crmConnection.count()).toBe(before);
  });

  test('dealreg\u2019s connected app is not sent to a login host that is not Salesforce\u2019s or the configured one', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r = await connect(admin, { instanceUrl: org.instanceUrl, refreshToken: org.refreshToken, loginUrl: 'https://login.evil.example' });
    expect(r.status).toBe(422);
    expect(r.body.error.details.issues[0].path).toBe('loginUrl');
  });

  test('a wrong access token, a revoked refresh token or a key the org does not know: 422 CRM_CREDENTIALS_REJECTED', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bodies = [
      { instanceUrl: org.instanceUrl, accessToken: `${org.orgId.slice(0, 15)}!not-a-real-session-token` },
      { instanceUrl: org.instanceUrl, refreshToken: '5Aep861not-a-real-refresh-token' },
      { auth: 'jwt', username: org.username, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) },
    ];
    for (const body of bodies) {
      const r = await connect(admin, body);
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 422, code: 'CRM_CREDENTIALS_REJECTED' });
    }
    expect(await h.prisma.crmConnection.count({ where: { externalAccountId: org.orgId } })).toBe(0);
  });

  test('an unreachable instance or login host is a 502 CRM_UNAVAILABLE', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const r1 = await connect(admin, { instanceUrl: 'http://127.0.0.1:1', accessToken: org.accessToken });
    expect({ status: r1.status, code: r1.body.error?.code }).toEqual({ status: 502, code: 'CRM_UNAVAILABLE' });
    const r2 = await connect(admin, { instanceUrl: org.instanceUrl, refreshToken: org.refreshToken, loginUrl: 'http://127.0.0.1:1', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    expect({ status: r2.status, code: r2.body.error?.code }).toEqual({ status: 502, code: 'CRM_UNAVAILABLE' });
  });

  test('the login server failing (503) while connecting is a 502 CRM_UNAVAILABLE, and a retry works', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    await control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 503, count: 1, target: 'token' });
    const r = await connect(admin, { instanceUrl: org.instanceUrl, refreshToken: org.refreshToken });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 502, code: 'CRM_UNAVAILABLE' });
    expect((await connect(admin, { instanceUrl: org.instanceUrl, refreshToken: org.refreshToken })).status).toBe(201);
  });

  test('a second org in the same workspace is a 409 CONNECTION_EXISTS', async () => {
    const admin = await newAdmin();
    const first = newOrg();
    const second = newOrg();
    expect((await connect(admin, { instanceUrl: first.instanceUrl, accessToken: first.accessToken, refreshToken: first.refreshToken })).status).toBe(201);
    const r = await connect(admin, { instanceUrl: second.instanceUrl, accessToken: second.accessToken, refreshToken: second.refreshToken });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONNECTION_EXISTS');
  });
});

describe('OAuth install (web-server flow with PKCE)', () => {
  const callbackPath = '/oauth/salesforce/callback';

  test('install → the sandbox\u2019s consent page → back to the callback with code and state → connected; the state works once', async () => {
    const admin = await newAdmin();
    const org = newOrg({ redirectUris: [`${h.baseUrl}${callbackPath}`] });
    // The browser: dealreg redirects to Salesforce's authorize endpoint...
    const install = await fetch(`${h.baseUrl}/oauth/salesforce/install?loginHint=${encodeURIComponent(org.username)}`, { headers: { authorization: `Bearer ${admin}` }, redirect: 'manual' });
    expect(install.status).toBe(302);
    const authorize = new URL(install.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${sandbox.baseUrl}/services/oauth2/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: `${h.baseUrl}${callbackPath}`, code_challenge_method: 'S256', scope: 'api refresh_token offline_access id' });
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([...authorize.searchParams.keys()]).not.toContain('code_verifier');
    // ...which approves and sends the browser back to the callback with a code and the state...
    const consent = await fetch(authorize, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.pathname).toBe(callbackPath);
    expect(callback.searchParams.get('state')).toBe(authorize.searchParams.get('state'));
    // ...where dealreg exchanges the code with the PKCE verifier it kept with the state.
    const done = await fetch(callback, { headers: { accept: 'application/json' } });
    const body = (await done.json()) as any;
    expect(done.status).toBe(201);
    expect(body.connection).toMatchObject({ orgId: org.orgId, authType: 'oauth', canRefresh: true, missingFields: [] });
    expectNoSecretIn('the callback answer', JSON.stringify(body));
    const tokens = await readTokens(h.prisma, TEST_ENCRYPTION_KEY, body.connection.id);
    secrets.add(tokens!.accessToken);
    secrets.add(tokens!.refreshToken!);
    expectNoSecretIn('the database row', await storedRow(body.connection.id));
    // The state is single use.
    const again = await fetch(callback, { headers: { accept: 'application/json' } });
    expect(again.status).toBe(400);
    expect(((await again.json()) as any).error.code).toBe('INVALID_OAUTH_STATE');
  });

  test('a code issued for another PKCE challenge is refused by the login server: the page says so, nothing is stored', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const started = await h.api.request('GET', `/oauth/salesforce/install?loginHint=${encodeURIComponent(org.username)}`, { token: admin, headers: { accept: 'application/json' } });
    expect(started.status).toBe(200);
    const authorize = new URL(started.body.authorizeUrl);
    authorize.searchParams.set('code_challenge', 'A'.repeat(43));
    const consent = await fetch(authorize, { redirect: 'manual' });
    const page = await fetch(consent.headers.get('location')!);
    expect(page.status).toBe(400);
    expect(await page.text()).toMatch(/OAUTH_CODE_REJECTED/);
    expect(await h.prisma.crmConnection.count({ where: { externalAccountId: org.orgId } })).toBe(0);
  });

  test('after an install, an expired session is renewed with the refresh token; disconnect revokes it at Salesforce', async () => {
    const admin = await newAdmin();
    const org = newOrg();
    const started = await h.api.request('GET', `/oauth/salesforce/install?loginHint=${encodeURIComponent(org.username)}`, { token: admin, headers: { accept: 'application/json' } });
    const consent = await fetch(started.body.authorizeUrl, { redirect: 'manual' });
    const done = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
    expect(done.status).toBe(201);
    const id = ((await done.json()) as any).connection.id as string;
    const { after } = await renewOnNextCall(id, org.orgId);
    secrets.add(after.accessToken);
    secrets.add(after.refreshToken!);
    const off = await h.api.delete(`/v1/connections/${id}`, admin);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ status: 'disconnected', revoked: true });
    await expect(refreshAccessToken({ loginUrl: sandbox.baseUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: after.refreshToken! })).rejects.toMatchObject({ code: 'AUTH', crmCode: 'invalid_grant' });
  });

  test('?sandbox=true sends the admin to test.salesforce.com; an untrusted loginUrl is refused; no connected app is a 503', async () => {
    const admin = await newAdmin();
    const json = { accept: 'application/json' };
    const sb = await h.api.request('GET', '/oauth/salesforce/install?sandbox=true', { token: admin, headers: json });
    expect(sb.status).toBe(200);
    expect(sb.body.authorizeUrl).toMatch(/^https:\/\/test\.salesforce\.com\/services\/oauth2\/authorize\?/);
    const evil = await h.api.request('GET', `/oauth/salesforce/install?loginUrl=${encodeURIComponent('https://login.evil.example')}`, { token: admin, headers: json });
    expect({ status: evil.status, code: evil.body.error?.code }).toEqual({ status: 422, code: 'VALIDATION_FAILED' });
    const plain = await h.api.request('GET', `/oauth/salesforce/install?loginUrl=${encodeURIComponent('http://login.salesforce.com')}`, { token: admin, headers: json });
    expect(plain.status).toBe(422);
    const settings = h.crm!.settings.salesforce;
    const saved = settings.clientId;
    settings.clientId = undefined;
    try {
      const r = await h.api.request('GET', '/oauth/salesforce/install', { token: admin, headers: json });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 503, code: 'OAUTH_NOT_CONFIGURED' });
      expect(r.body.error.message).toMatch(/SALESFORCE_CLIENT_ID/);
    } finally {
      settings.clientId = saved;
    }
  });
});

describe('JWT bearer', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  // A line of the key's base64 body: JSON escapes the PEM's newlines, so the whole PEM would never match.
  secrets.add(privatePem.split('\n')[1]!);

  test('connects with the org user\u2019s username and the app key; the key is stored encrypted only; an expired session gets a new assertion', async () => {
    const admin = await newAdmin();
    const org = newOrg({ jwtCertificate: publicPem });
    const r = await connect(admin, { auth: 'jwt', username: org.username, privateKey: privatePem });
    expect(r.status).toBe(201);
    expect(r.body.connection).toMatchObject({ orgId: org.orgId, authType: 'jwt', canRefresh: false, missingFields: [] });
    expectNoSecretIn('the response', JSON.stringify(r.body));
    const id = r.body.connection.id as string;
    expectNoSecretIn('the database row', await storedRow(id));
    expect(await readSecrets(h.prisma, TEST_ENCRYPTION_KEY, id)).toEqual({ privateKey: privatePem });
    expect((await h.prisma.crmConnection.findUniqueOrThrow({ where: { id } })).settings).toMatchObject({ username: org.username, clientId: CLIENT_ID, loginUrl: sandbox.baseUrl });
    const { after } = await renewOnNextCall(id, org.orgId);
    expect(after.refreshToken).toBeNull();
    secrets.add(after.accessToken);
  });

  test('without its own key, the installation\u2019s (SALESFORCE_JWT_PRIVATE_KEY_FILE) signs, and no secret is stored', async () => {
    const admin = await newAdmin();
    const org = newOrg({ jwtCertificate: publicPem });
    const settings = h.crm!.settings.salesforce;
    settings.jwtPrivateKey = privatePem;
    try {
      const r = await connect(admin, { auth: 'jwt', username: org.username });
      expect(r.status).toBe(201);
      expect((await h.prisma.crmConnection.findUniqueOrThrow({ where: { id: r.body.connection.id } })).secretsEnc).toBeNull();
      await renewOnNextCall(r.body.connection.id, org.orgId);
    } finally {
      settings.jwtPrivateKey = undefined;
    }
    const none = await connect(await newAdmin(), { auth: 'jwt', username: org.username });
    expect({ status: none.status, path: none.body.error?.details?.issues?.[0]?.path }).toEqual({ status: 422, path: 'privateKey' });
  });
});

test('no secret was ever logged', () => {
  expect(logLines.length).toBeGreaterThan(0);
  expectNoSecretIn('the logs', logLines.join('\n'));
});
