// Salesforce OAuth at the HTTP boundary: the consent URL with its PKCE challenge, the token endpoint
// (code exchange, refresh, JWT bearer: form-encoded), what its errors mean, revocation and identity.
import { createHash, createHmac, generateKeyPairSync, verify } from 'node:crypto';
import nock from 'nock';
import {
  createPkcePair,
  exchangeCode,
  identity,
  idsFromIdentityUrl,
  jwtAudience,
  jwtBearerToken,
  refreshAccessToken,
  revokeToken,
  salesforceAuthorizeUrl,
} from '../../../src/crm/salesforce/salesforce-oauth';

const LOGIN = 'https://login.salesforce.com';
const INSTANCE = 'https://acme.my.salesforce.com';
const ORG_ID = '00D5g000004ABCDEA4';
const USER_ID = '0055g00000AbCdEAAV';
const ID_URL = `${LOGIN}/id/${ORG_ID}/${USER_ID}`;
const TOKEN = '/services/oauth2/token';
const CLIENT = { loginUrl: LOGIN, clientId: '3MVG9dealregConnectedApp', clientSecret: 'very-secret-consumer-secret' };

afterEach(() => nock.cleanAll());

/** A token answer as Salesforce sends it, signed with the client secret (HMAC-SHA256 over id + issued_at). */
function tokenAnswer(over: Record<string, string> = {}, secret = CLIENT.clientSecret): Record<string, string> {
  const issuedAt = '1780000000000';
  const id = over.id ?? ID_URL;
  return {
    access_token: '00D5g000004ABCD!AQ0AQ.session',
    refresh_token: '5Aep861refresh',
    signature: createHmac('sha256', secret).update(id + issuedAt).digest('base64'),
    scope: 'refresh_token api id',
    instance_url: INSTANCE,
    id,
    token_type: 'Bearer',
    issued_at: issuedAt,
    ...over,
  };
}

/** Intercepts one POST to the token endpoint and records its form and content type. */
function tokenEndpoint(status: number, body: unknown, headers: Record<string, string> = {}) {
  const seen: { form?: Record<string, string>; contentType?: string } = {};
  const scope = nock(LOGIN)
    .post(TOKEN, (b: string) => ((seen.form = Object.fromEntries(new URLSearchParams(b))), true))
    .reply(function () {
      seen.contentType = String(this.req.headers['content-type']);
      return [status, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers }];
    });
  return { scope, seen };
}

describe('the consent URL and PKCE', () => {
  test('the authorize URL asks for a code with the S256 challenge, scopes as %20, state encoded', () => {
    const url = salesforceAuthorizeUrl({ loginUrl: 'https://test.salesforce.com/', clientId: 'cid', redirectUri: 'https://dealreg.example.com/oauth/salesforce/callback', state: 'st&te=1', codeChallenge: 'abc_-' });
    expect(url).toBe(
      'https://test.salesforce.com/services/oauth2/authorize?response_type=code&client_id=cid' +
        '&redirect_uri=https%3A%2F%2Fdealreg.example.com%2Foauth%2Fsalesforce%2Fcallback&scope=api%20refresh_token%20offline_access%20id' +
        '&state=st%26te%3D1&code_challenge=abc_-&code_challenge_method=S256',
    );
  });

  test('the challenge is base64url(sha256(verifier)); verifiers are RFC 7636-sized, unreserved characters, fresh each time', () => {
    const a = createPkcePair();
    const b = createPkcePair();
    expect(a.codeChallenge).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(a.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
  });
});

describe('ids', () => {
  test('identity URLs name the org and the user (18-char ids, also from 15-char ones)', () => {
    expect(idsFromIdentityUrl(ID_URL)).toEqual({ orgId: ORG_ID, userId: USER_ID });
    expect(idsFromIdentityUrl(`${LOGIN}/id/${ORG_ID.slice(0, 15)}/${USER_ID.slice(0, 15)}`)).toEqual({ orgId: ORG_ID, userId: USER_ID });
    expect(idsFromIdentityUrl('https://login.salesforce.com/services/oauth2/userinfo')).toBeNull();
    expect(idsFromIdentityUrl('not a url')).toBeNull();
  });
});

describe('token endpoint', () => {
  test('exchanges the code with the PKCE verifier, form-encoded; org and user come from the identity URL', async () => {
    const { scope, seen } = tokenEndpoint(200, tokenAnswer());
    const t = await exchangeCode({ ...CLIENT, redirectUri: 'https://dealreg.example.com/oauth/salesforce/callback', code: 'aPrxCode', codeVerifier: 'v'.repeat(64) });
    expect(scope.isDone()).toBe(true);
    expect(seen.contentType).toBe('application/x-www-form-urlencoded');
    expect(seen.form).toEqual({
      grant_type: 'authorization_code',
      code: 'aPrxCode',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      redirect_uri: 'https://dealreg.example.com/oauth/salesforce/callback',
      code_verifier: 'v'.repeat(64),
    });
    expect(t).toEqual({
      accessToken: '00D5g000004ABCD!AQ0AQ.session',
      refreshToken: '5Aep861refresh',
      instanceUrl: INSTANCE,
      idUrl: ID_URL,
      orgId: ORG_ID,
      userId: USER_ID,
      issuedAt: 1780000000000,
      scope: 'refresh_token api id',
    });
  });

  test('a public client (PKCE, no secret) sends no client_secret and cannot check the signature', async () => {
    const { seen } = tokenEndpoint(200, tokenAnswer({}, 'someone-elses-secret'));
    await exchangeCode({ loginUrl: LOGIN, clientId: CLIENT.clientId, redirectUri: 'https://x.example/cb', code: 'c', codeVerifier: 'v'.repeat(43) });
    expect(seen.form).not.toHaveProperty('client_secret');
  });

  test('a token answer whose signature does not match the client secret is refused (its id names the org)', async () => {
    tokenEndpoint(200, tokenAnswer({}, 'forged-with-another-secret'));
    await expect(exchangeCode({ ...CLIENT, redirectUri: 'https://x.example/cb', code: 'c', codeVerifier: 'v'.repeat(43) })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
  });

  test('refreshes an access token and keeps the refresh token (Salesforce sends none back)', async () => {
    const { refresh_token: _r, ...answer } = tokenAnswer({ access_token: '00D5g000004ABCD!new' });
    const { seen } = tokenEndpoint(200, answer);
    const t = await refreshAccessToken({ ...CLIENT, refreshToken: '5Aep861refresh' });
    expect(seen.form).toEqual({ grant_type: 'refresh_token', refresh_token: '5Aep861refresh', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    expect(t).toMatchObject({ accessToken: '00D5g000004ABCD!new', refreshToken: '5Aep861refresh', orgId: ORG_ID, instanceUrl: INSTANCE });
  });

  test('a rotated refresh token replaces the old one', async () => {
    tokenEndpoint(200, tokenAnswer({ refresh_token: '5Aep861rotated' }));
    expect((await refreshAccessToken({ ...CLIENT, refreshToken: '5Aep861refresh' })).refreshToken).toBe('5Aep861rotated');
  });

  test('invalid_grant (revoked refresh token, used code) → AUTH, with Salesforce’s description and no secret in the message', async () => {
    tokenEndpoint(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
    const e = await refreshAccessToken({ ...CLIENT, refreshToken: '5Aep861refresh-secret' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'CrmError', crm: 'salesforce', code: 'AUTH', status: 400, crmCode: 'invalid_grant' });
    expect((e as Error).message).toMatch(/expired access\/refresh token/);
    expect((e as Error).message).not.toMatch(/very-secret|refresh-secret/);
  });

  test.each([
    [400, 'invalid_client_id', 'client identifier invalid', 'AUTH'],
    [400, 'invalid_client', 'invalid client credentials', 'AUTH'],
    [400, 'inactive_user', 'user is inactive', 'AUTH'],
    [400, 'unsupported_grant_type', 'grant type not supported', 'INVALID'],
    [400, 'redirect_uri_mismatch', 'redirect_uri must match configuration', 'INVALID'],
  ])('%i %s (%s) → %s', async (status, error, description, code) => {
    tokenEndpoint(status, { error, error_description: description });
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code, crmCode: error });
  });

  test('503 (and an HTML 502) → TEMPORARY; 429 → RATE_LIMITED with Retry-After', async () => {
    tokenEndpoint(503, { error: 'server_error', error_description: 'the login server is unavailable' });
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'TEMPORARY', status: 503 });
    tokenEndpoint(502, '<html><body>Bad gateway</body></html>');
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'TEMPORARY', status: 502 });
    tokenEndpoint(429, { error: 'rate_limited' }, { 'retry-after': '7' });
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 7000 });
  });

  test('an unreachable login host → TEMPORARY (NETWORK); one that hangs → TEMPORARY (TIMEOUT)', async () => {
    nock(LOGIN).post(TOKEN).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'TEMPORARY', crmCode: 'NETWORK' });
    nock(LOGIN).post(TOKEN).delay(5000).reply(200, tokenAnswer());
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r', timeoutMs: 50 })).rejects.toMatchObject({ code: 'TEMPORARY', crmCode: 'TIMEOUT' });
    nock.abortPendingRequests();
  });

  test('an answer without an access token, or whose id names no org, is refused, not passed on', async () => {
    const { access_token: _a, ...noToken } = tokenAnswer();
    tokenEndpoint(200, noToken);
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
    tokenEndpoint(200, tokenAnswer({ id: `${LOGIN}/services/oauth2/userinfo` }));
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
  });

  test('an instance URL over plain http (beyond loopback) is refused: every API call would carry the token in clear', async () => {
    tokenEndpoint(200, tokenAnswer({ instance_url: 'http://acme.my.salesforce.com' }));
    await expect(refreshAccessToken({ ...CLIENT, refreshToken: 'r' })).rejects.toMatchObject({ code: 'INVALID', message: expect.stringMatching(/not https/) });
  });

  test('a code exchange answered without a refresh token is refused (the app lacks the refresh_token scope)', async () => {
    const { refresh_token: _r, ...answer } = tokenAnswer();
    tokenEndpoint(200, answer);
    await expect(exchangeCode({ ...CLIENT, redirectUri: 'https://x.example/cb', code: 'c', codeVerifier: 'v'.repeat(43) })).rejects.toMatchObject({ code: 'INVALID' });
  });
});

describe('JWT bearer', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const now = Date.parse('2026-06-01T12:00:00Z');

  test('signs an RS256 assertion (iss = client id, sub = username, aud = login host, exp = now + 3 min) that the public key verifies', async () => {
    const { access_token, scope, instance_url, id, token_type } = tokenAnswer();
    const { seen } = tokenEndpoint(200, { access_token, scope, instance_url, id, token_type });
    const t = await jwtBearerToken({ loginUrl: LOGIN, clientId: CLIENT.clientId, username: 'integration@acme.example', privateKeyPem: pem, now });
    expect(t).toMatchObject({ accessToken: access_token, refreshToken: null, orgId: ORG_ID, userId: USER_ID, issuedAt: null });
    expect(seen.form!.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(Object.keys(seen.form!).sort()).toEqual(['assertion', 'grant_type']);
    const [head, claims, sig] = seen.form!.assertion!.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(head, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toEqual({ iss: CLIENT.clientId, sub: 'integration@acme.example', aud: 'https://login.salesforce.com', exp: now / 1000 + 180 });
    expect(verify('RSA-SHA256', Buffer.from(`${head}.${claims}`), publicKey, Buffer.from(sig, 'base64url'))).toBe(true);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(verify('RSA-SHA256', Buffer.from(`${head}.${claims}`), other, Buffer.from(sig, 'base64url'))).toBe(false);
  });

  test('the audience: login or test for Salesforce hosts (My Domains too), the login URL itself for anything else', () => {
    expect(jwtAudience('https://login.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://acme.my.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://test.salesforce.com/')).toBe('https://test.salesforce.com');
    expect(jwtAudience('https://acme--uat.sandbox.my.salesforce.com')).toBe('https://test.salesforce.com');
    expect(jwtAudience('http://127.0.0.1:4020')).toBe('http://127.0.0.1:4020');
  });

  test('a refused assertion → AUTH; a key that cannot sign → INVALID before any call', async () => {
    tokenEndpoint(400, { error: 'invalid_grant', error_description: 'user hasn\u2019t approved this consumer' });
    await expect(jwtBearerToken({ loginUrl: LOGIN, clientId: 'c', username: 'u@x.example', privateKeyPem: pem })).rejects.toMatchObject({ code: 'AUTH', crmCode: 'invalid_grant' });
    await expect(jwtBearerToken({ loginUrl: LOGIN, clientId: 'c', username: 'u@x.example', privateKeyPem: 'not a key' })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'BAD_PRIVATE_KEY' });
  });
});

describe('revocation and identity', () => {
  test('revokes a token (200), form-encoded; an unknown (already revoked) token is fine; a 503 is TEMPORARY', async () => {
    let form: Record<string, string> = {};
    const scope = nock(LOGIN)
      .post('/services/oauth2/revoke', (b: string) => ((form = Object.fromEntries(new URLSearchParams(b))), true))
      .reply(200, '')
      .post('/services/oauth2/revoke')
      .reply(400, { error: 'unsupported_token_type', error_description: 'this token type is not supported' })
      .post('/services/oauth2/revoke')
      .reply(503, { error: 'server_error' });
    await expect(revokeToken({ loginUrl: LOGIN, token: '5Aep861refresh' })).resolves.toBeUndefined();
    expect(form).toEqual({ token: '5Aep861refresh' });
    await expect(revokeToken({ loginUrl: LOGIN, token: 'gone' })).resolves.toBeUndefined();
    await expect(revokeToken({ loginUrl: LOGIN, token: 'x' })).rejects.toMatchObject({ code: 'TEMPORARY' });
    expect(scope.isDone()).toBe(true);
  });

  test('identity through the identity URL (bearer), or userinfo on the instance for a pasted access token', async () => {
    let auth: string | undefined;
    nock(LOGIN)
      .get(`/id/${ORG_ID}/${USER_ID}`)
      .reply(function () {
        auth = String(this.req.headers.authorization);
        return [200, { id: ID_URL, user_id: USER_ID, organization_id: ORG_ID, username: 'integration@acme.example', active: true }];
      });
    expect(await identity({ idUrl: ID_URL, accessToken: 'tok-1' })).toEqual({ orgId: ORG_ID, userId: USER_ID, username: 'integration@acme.example' });
    expect(auth).toBe('Bearer tok-1');
    nock(INSTANCE).get('/services/oauth2/userinfo').reply(200, { sub: ID_URL, user_id: USER_ID.slice(0, 15), organization_id: ORG_ID.slice(0, 15), preferred_username: 'integration@acme.example' });
    expect(await identity({ instanceUrl: INSTANCE, accessToken: 'tok-2' })).toEqual({ orgId: ORG_ID, userId: USER_ID, username: 'integration@acme.example' });
  });

  test('identity with a dead session → AUTH; a 5xx → TEMPORARY', async () => {
    nock(INSTANCE).get('/services/oauth2/userinfo').reply(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]).get('/services/oauth2/userinfo').reply(503, 'down');
    await expect(identity({ instanceUrl: INSTANCE, accessToken: 'dead' })).rejects.toMatchObject({ code: 'AUTH', crmCode: 'INVALID_SESSION_ID' });
    await expect(identity({ instanceUrl: INSTANCE, accessToken: 'x' })).rejects.toMatchObject({ code: 'TEMPORARY' });
  });
});
