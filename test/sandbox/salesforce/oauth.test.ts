// OAuth through jsforce's OAuth2 and Connection: web-server flow with PKCE, refresh (also jsforce's
// automatic refresh on INVALID_SESSION_ID), JWT bearer with an RSA key made here, revoke, session expiry.
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Connection, OAuth2 } from 'jsforce';
import { failure, useSalesforceSandbox, type TestOrg } from './sf-test-kit';

let clock = Date.parse('2026-05-01T08:00:00Z');
const kit = useSalesforceSandbox({ now: () => clock });
const REDIRECT = 'https://app.dealreg.test/oauth/salesforce/callback';

/** The browser leg: follow the authorize URL once and read `code` and `state` off the redirect. */
async function authorizeInBrowser(url: string): Promise<{ code: string; state: string | null; location: string }> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = res.headers.get('location')!;
  const u = new URL(location);
  return { code: u.searchParams.get('code')!, state: u.searchParams.get('state'), location };
}

function jwt(privateKey: KeyObject, claims: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), privateKey).toString('base64url')}`;
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('OAuth web-server flow', () => {
  test('authorization code with PKCE: authorize redirects back with code and state, jsforce exchanges it for tokens', async () => {
    const org = await kit.createOrg({ redirectUris: [REDIRECT] });
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl, clientId: org.clientId, clientSecret: org.clientSecret, redirectUri: REDIRECT, useVerifier: true });
    const { code, state, location } = await authorizeInBrowser(oauth2.getAuthorizationUrl({ state: 'csrf-123' }));
    expect(location.startsWith(REDIRECT)).toBe(true);
    expect(state).toBe('csrf-123');

    const conn = new Connection({ oauth2, version: '66.0' });
    const userInfo = await conn.authorize(code);
    expect(userInfo).toMatchObject({ id: org.integrationUserId, organizationId: org.orgId });
    expect(conn.instanceUrl).toBe(kit.baseUrl);
    expect(conn.accessToken!.startsWith(org.orgId.slice(0, 15) + '!')).toBe(true);
    expect(typeof conn.refreshToken).toBe('string');
    const r = await conn.query('SELECT Id FROM User');
    expect(r.totalSize).toBe(1);

    const reused = await failure(conn.authorize(code));
    expect(reused.name).toBe('invalid_grant');
  });

  test('a code exchanged with the wrong PKCE verifier is refused with invalid_grant', async () => {
    const org = await kit.createOrg();
    const browser = new OAuth2({ loginUrl: kit.baseUrl, clientId: org.clientId, redirectUri: REDIRECT, useVerifier: true });
    const attacker = new OAuth2({ loginUrl: kit.baseUrl, clientId: org.clientId, redirectUri: REDIRECT, useVerifier: true });
    const { code } = await authorizeInBrowser(browser.getAuthorizationUrl({ state: 's' }));
    const err = await failure(attacker.requestToken(code));
    expect(err.name).toBe('invalid_grant');
    expect(err.message).toBe('invalid code verifier');
  });

  test('the token response has Salesforce’s fields and a verifiable signature', async () => {
    const org = await kit.createOrg();
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl, clientId: org.clientId, clientSecret: org.clientSecret, redirectUri: REDIRECT });
    const { code } = await authorizeInBrowser(oauth2.getAuthorizationUrl({}));
    const res = (await oauth2.requestToken(code)) as unknown as Record<string, string>;
    expect(Object.keys(res).sort()).toEqual(['access_token', 'id', 'instance_url', 'issued_at', 'refresh_token', 'scope', 'signature', 'token_type']);
    expect(res.token_type).toBe('Bearer');
    expect(res.id).toBe(`${kit.baseUrl}/id/${org.orgId}/${org.integrationUserId}`);
    const { createHmac } = await import('node:crypto');
    expect(res.signature).toBe(createHmac('sha256', org.clientSecret).update(res.id! + res.issued_at!).digest('base64'));
  });

  test('two orgs sharing one connected app: login_hint picks the org, and each token only sees its own org', async () => {
    const a = await kit.createOrg({ clientId: 'dealreg-shared-app', clientSecret: 'shared-secret' });
    const b = await kit.createOrg({ clientId: 'dealreg-shared-app', clientSecret: 'shared-secret' });
    await kit.connect(a).sobject('Account').create({ Name: 'Only in A' });
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl, clientId: 'dealreg-shared-app', clientSecret: 'shared-secret', redirectUri: REDIRECT });
    const { code } = await authorizeInBrowser(oauth2.getAuthorizationUrl({ login_hint: b.username } as never));
    const conn = new Connection({ oauth2, version: '66.0' });
    const info = await conn.authorize(code);
    expect(info.organizationId).toBe(b.orgId);
    const seen = await conn.query("SELECT Id FROM Account WHERE Name = 'Only in A'");
    expect(seen.totalSize).toBe(0);
    const conflict = await kit.control('POST', '/_sandbox/orgs', { clientId: 'dealreg-shared-app', clientSecret: 'other' });
    expect(conflict.status).toBe(409);
  });
});

describe('refresh and session expiry', () => {
  test('a session older than tokenTtlSeconds answers 401 INVALID_SESSION_ID', async () => {
    const org = await kit.createOrg({ tokenTtlSeconds: 60 });
    const conn = kit.connect(org);
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
    clock += 61_000;
    const err = await failure(conn.query('SELECT Id FROM User'));
    expect(err.errorCode).toBe('INVALID_SESSION_ID');
    expect(err.message).toBe('Session expired or invalid');
  });

  test('jsforce refreshes the session on INVALID_SESSION_ID with the refresh token and retries', async () => {
    const org = await kit.createOrg();
    const conn = new Connection({
      instanceUrl: org.instanceUrl,
      accessToken: org.accessToken,
      refreshToken: org.refreshToken,
      oauth2: { loginUrl: kit.baseUrl, clientId: org.clientId, clientSecret: org.clientSecret, redirectUri: REDIRECT },
      version: '66.0',
    });
    const refreshed: string[] = [];
    conn.on('refresh', (token: string) => refreshed.push(token));
    const expired = await kit.control('POST', '/_sandbox/expire-tokens', { orgId: org.orgId });
    expect(expired.body.expired).toBeGreaterThanOrEqual(1);
    const r = await conn.query('SELECT Id FROM User');
    expect(r.totalSize).toBe(1);
    expect(refreshed).toHaveLength(1);
    expect(conn.accessToken).toBe(refreshed[0]);
    expect(conn.accessToken).not.toBe(org.accessToken);
  });

  test('a revoked refresh token ends its sessions and cannot be refreshed any more', async () => {
    const org = await kit.createOrg();
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl, clientId: org.clientId, clientSecret: org.clientSecret, redirectUri: REDIRECT });
    const conn = kit.connect(org);
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
    await oauth2.revokeToken(org.refreshToken);
    expect((await failure(conn.query('SELECT Id FROM User'))).errorCode).toBe('INVALID_SESSION_ID');
    const err = await failure(oauth2.refreshToken(org.refreshToken));
    expect(err.name).toBe('invalid_grant');
    expect(err.message).toBe('expired access/refresh token');
  });
});

describe('JWT bearer flow', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let org: TestOrg;

  beforeAll(async () => {
    org = await kit.createOrg({ jwtCertificate: publicKey.export({ type: 'spki', format: 'pem' }) as string });
  });

  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: org.clientId,
    sub: org.username,
    aud: kit.baseUrl,
    exp: Math.floor(clock / 1000) + 180,
    ...over,
  });

  test('a signed assertion for a user of the org yields a session without a refresh token', async () => {
    const conn = new Connection({ oauth2: { loginUrl: kit.baseUrl }, version: '66.0' });
    const info = await conn.authorize({ grant_type: JWT_GRANT, assertion: jwt(privateKey, claims()) });
    expect(info).toMatchObject({ id: org.integrationUserId, organizationId: org.orgId });
    expect(conn.refreshToken).toBeUndefined();
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);

    const raw = (await new OAuth2({ loginUrl: kit.baseUrl }).requestToken({ grant_type: JWT_GRANT, assertion: jwt(privateKey, claims()) })) as unknown as Record<string, string>;
    expect(Object.keys(raw).sort()).toEqual(['access_token', 'id', 'instance_url', 'scope', 'token_type']);
  });

  test('jsforce re-authenticates with a refreshFn that signs a new assertion when the session expires', async () => {
    let assertions = 0;
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl });
    const first = (await oauth2.requestToken({ grant_type: JWT_GRANT, assertion: jwt(privateKey, claims()) })) as unknown as { access_token: string };
    const conn = new Connection({
      instanceUrl: kit.baseUrl,
      accessToken: first.access_token,
      version: '66.0',
      refreshFn: (_c, callback) => {
        assertions++;
        oauth2.requestToken({ grant_type: JWT_GRANT, assertion: jwt(privateKey, claims()) }).then(
          (res) => callback(null, res.access_token, res),
          (e: Error) => callback(e),
        );
      },
    });
    await kit.control('POST', '/_sandbox/expire-tokens', { orgId: org.orgId });
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
    expect(assertions).toBe(1);
  });

  test('a bad signature, wrong audience, expired assertion, unknown user or unknown client is refused', async () => {
    const oauth2 = new OAuth2({ loginUrl: kit.baseUrl });
    const attempt = (assertion: string) => failure(oauth2.requestToken({ grant_type: JWT_GRANT, assertion }));
    const forged = await attempt(jwt(other.privateKey, claims()));
    expect([forged.name, forged.message]).toEqual(['invalid_grant', 'invalid assertion']);
    const aud = await attempt(jwt(privateKey, claims({ aud: 'https://evil.example' })));
    expect([aud.name, aud.message]).toEqual(['invalid_grant', 'audience is invalid']);
    const expired = await attempt(jwt(privateKey, claims({ exp: Math.floor(clock / 1000) - 1 })));
    expect([expired.name, expired.message]).toEqual(['invalid_grant', 'expired authorization code']);
    const user = await attempt(jwt(privateKey, claims({ sub: 'nobody@nowhere.example' })));
    expect(user.name).toBe('invalid_grant');
    const client = await attempt(jwt(privateKey, claims({ iss: 'not-a-client' })));
    expect([client.name, client.message]).toEqual(['invalid_client_id', 'client identifier invalid']);
  });

  test('the public key can be registered later through the control API', async () => {
    const late = await kit.createOrg();
    const key = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
    const patched = await kit.control('PATCH', `/_sandbox/orgs/${late.orgId}`, { jwtCertificate: key });
    expect(patched.status).toBe(200);
    const res = (await new OAuth2({ loginUrl: kit.baseUrl }).requestToken({
      grant_type: JWT_GRANT,
      assertion: jwt(privateKey, { iss: late.clientId, sub: late.username, aud: 'https://login.salesforce.com', exp: Math.floor(clock / 1000) + 60 }),
    })) as unknown as { access_token: string };
    expect(res.access_token.startsWith(late.orgId.slice(0, 15))).toBe(true);
  });
});
