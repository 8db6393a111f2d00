// OAuth at the HTTP boundary: the install URL, code exchange and refresh at /oauth/2026-03/token
// (form-encoded), what their errors mean, introspection, revocation, and the adapter's
// verifyCredentials / revoke built on them.
import nock from 'nock';
import { exchangeCode, hubspotAuthorizeUrl, introspect, refreshAccessToken, revokeRefreshToken } from '../../../src/crm/hubspot';
import { adapterWith, APP_ID, BASE, errorBody, hubspot, PORTAL_ID, RATE_LIMIT_BODY } from './helpers';

const TOKEN = '/oauth/2026-03/token';
const client = { baseUrl: BASE, clientId: 'client-123', clientSecret: 'very-secret-client-secret' };

afterEach(() => nock.cleanAll());

const oauthError = (status: string, message: string) => ({ status, message, correlationId: '5a1b2c3d-0000-4000-8000-00000000000a' });

describe('hubspotAuthorizeUrl', () => {
  it('builds the install URL with space-separated scopes (as %20), optional scopes and state', () => {
    expect(
      hubspotAuthorizeUrl({
        authorizeBaseUrl: 'https://app.hubspot.com/',
        clientId: 'client-123',
        redirectUri: 'https://dealreg.example.com/oauth/hubspot/callback',
        scopes: ['oauth', 'crm.objects.deals.read', 'crm.objects.deals.write'],
        optionalScopes: ['crm.objects.owners.read'],
        state: 'st&te=1',
      }),
    ).toBe(
      'https://app.hubspot.com/oauth/authorize?client_id=client-123&redirect_uri=https%3A%2F%2Fdealreg.example.com%2Foauth%2Fhubspot%2Fcallback' +
        '&scope=oauth%20crm.objects.deals.read%20crm.objects.deals.write&optional_scope=crm.objects.owners.read&state=st%26te%3D1',
    );
  });

  it('leaves optional_scope out when there is none', () => {
    const url = new URL(hubspotAuthorizeUrl({ authorizeBaseUrl: 'http://127.0.0.1:4010', clientId: 'c', redirectUri: 'http://localhost/cb', scopes: ['oauth'], state: 's' }));
    expect(url.pathname).toBe('/oauth/authorize');
    expect(url.searchParams.has('optional_scope')).toBe(false);
  });
});

describe('token endpoint', () => {
  it('exchanges an authorization code, form-encoded, at /oauth/2026-03/token', async () => {
    let form: URLSearchParams | undefined;
    let contentType: string | undefined;
    hubspot()
      .scope.post(TOKEN, (body: string) => ((form = new URLSearchParams(body)), true))
      .reply(function () {
        contentType = String(this.req.headers['content-type']);
        return [200, { token_type: 'bearer', refresh_token: 'na1-refresh', access_token: 'CKDZ-access', expires_in: 1800 }];
      });
    const tokens = await exchangeCode({ ...client, redirectUri: 'https://dealreg.example.com/cb', code: 'na1-code' });
    expect(tokens).toEqual({ accessToken: 'CKDZ-access', refreshToken: 'na1-refresh', expiresIn: 1800 });
    expect(contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form!)).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client-123',
      client_secret: 'very-secret-client-secret',
      redirect_uri: 'https://dealreg.example.com/cb',
      code: 'na1-code',
    });
  });

  it('refreshes an access token; keeps the refresh token when the answer carries none', async () => {
    let form: Record<string, string> = {};
    hubspot()
      .scope.post(TOKEN, (body: string) => ((form = Object.fromEntries(new URLSearchParams(body))), true))
      .reply(200, { token_type: 'bearer', access_token: 'CKDZ-new', expires_in: 1800 });
    expect(await refreshAccessToken({ ...client, refreshToken: 'na1-refresh' })).toEqual({ accessToken: 'CKDZ-new', refreshToken: 'na1-refresh', expiresIn: 1800 });
    expect(form).toEqual({ grant_type: 'refresh_token', client_id: 'client-123', client_secret: 'very-secret-client-secret', refresh_token: 'na1-refresh' });
  });

  it.each(['BAD_REFRESH_TOKEN', 'BAD_CLIENT_ID', 'BAD_CLIENT_SECRET'])('400 %s → AUTH (no refresh will ever work), without echoing secrets', async (status) => {
    hubspot().scope.post(TOKEN).reply(400, oauthError(status, 'missing or unknown refresh token'));
    const e = await refreshAccessToken({ ...client, refreshToken: 'na1-refresh-secret' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'CrmError', code: 'AUTH', status: 400, crmCode: status });
    expect((e as Error).message).not.toMatch(/very-secret|na1-refresh-secret/);
  });

  it('400 BAD_AUTH_CODE on an exchange → AUTH', async () => {
    hubspot().scope.post(TOKEN).reply(400, oauthError('BAD_AUTH_CODE', 'missing or unknown auth code'));
    await expect(exchangeCode({ ...client, redirectUri: 'https://x.example.com/cb', code: 'used' })).rejects.toMatchObject({ code: 'AUTH', crmCode: 'BAD_AUTH_CODE' });
  });

  it('429 → RATE_LIMITED with Retry-After; 500 and a 502 HTML page → TEMPORARY', async () => {
    const { scope } = hubspot();
    scope
      .post(TOKEN)
      .reply(429, RATE_LIMIT_BODY, { 'Retry-After': '4' })
      .post(TOKEN)
      .reply(500, errorBody('INTERNAL_ERROR', 'internal error'))
      .post(TOKEN)
      .reply(502, '<html><body>Bad gateway</body></html>', { 'Content-Type': 'text/html' });
    await expect(refreshAccessToken({ ...client, refreshToken: 'r' })).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 4000 });
    await expect(refreshAccessToken({ ...client, refreshToken: 'r' })).rejects.toMatchObject({ code: 'TEMPORARY', status: 500 });
    await expect(refreshAccessToken({ ...client, refreshToken: 'r' })).rejects.toMatchObject({ code: 'TEMPORARY', status: 502 });
  });

  it('a token endpoint that hangs → TEMPORARY after timeoutMs', async () => {
    hubspot().scope.post(TOKEN).delay(5000).reply(200, {});
    await expect(refreshAccessToken({ ...client, refreshToken: 'r', timeoutMs: 50 })).rejects.toMatchObject({ code: 'TEMPORARY', crmCode: 'TIMEOUT' });
    nock.abortPendingRequests();
  });

  it('an answer without an access token is refused, not passed on', async () => {
    hubspot().scope.post(TOKEN).reply(200, { token_type: 'bearer', expires_in: 1800 });
    await expect(refreshAccessToken({ ...client, refreshToken: 'r' })).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
  });
});

describe('introspection and revocation', () => {
  it('introspects an access token: hub id, app id, scopes, time left', async () => {
    hubspot()
      .scope.get('/oauth/v1/access-tokens/CKDZ-access')
      .reply(200, { token: 'CKDZ-access', user: 'rep@example.com', hub_domain: 'acme.com', scopes: ['oauth', 'crm.objects.deals.read'], hub_id: 40000001, app_id: 3000001, expires_in: 1712, user_id: 901, token_type: 'access' });
    expect(await introspect({ baseUrl: BASE, accessToken: 'CKDZ-access' })).toEqual({ hubId: '40000001', appId: '3000001', scopes: ['oauth', 'crm.objects.deals.read'], expiresIn: 1712, userId: '901', tokenType: 'access' });
  });

  it('an unknown or expired token → NOT_FOUND', async () => {
    hubspot().scope.get('/oauth/v1/access-tokens/gone').reply(404, oauthError('BAD_ACCESS_TOKEN', 'missing, unknown or expired access token'));
    await expect(introspect({ baseUrl: BASE, accessToken: 'gone' })).rejects.toMatchObject({ code: 'NOT_FOUND', crmCode: 'BAD_ACCESS_TOKEN' });
  });

  it('revokes a refresh token (204); an already revoked one (404) is fine; a 500 is TEMPORARY', async () => {
    const { scope } = hubspot();
    scope.delete('/oauth/v1/refresh-tokens/na1-r1').reply(204).delete('/oauth/v1/refresh-tokens/na1-r2').reply(404, oauthError('BAD_REFRESH_TOKEN', 'unknown')).delete('/oauth/v1/refresh-tokens/na1-r3').reply(500, 'oops');
    await expect(revokeRefreshToken({ baseUrl: BASE, refreshToken: 'na1-r1' })).resolves.toBeUndefined();
    await expect(revokeRefreshToken({ baseUrl: BASE, refreshToken: 'na1-r2' })).resolves.toBeUndefined();
    await expect(revokeRefreshToken({ baseUrl: BASE, refreshToken: 'na1-r3' })).rejects.toMatchObject({ code: 'TEMPORARY' });
    expect(scope.isDone()).toBe(true);
  });
});

describe('the adapter: verifyCredentials and revoke', () => {
  const owners = { results: [{ id: '70000001', email: 'a@example.com', firstName: null, lastName: null, userId: 1, teams: [], archived: false }] };

  it('with an OAuth token: one cheap owners call, then introspection names the portal and teaches the app id', async () => {
    const { adapter, gate } = adapterWith({ appId: null });
    const { scope, requests } = hubspot();
    scope
      .get('/crm/v3/owners/')
      .query({ limit: '1', archived: 'false' })
      .reply(200, owners)
      .get('/oauth/v1/access-tokens/token-1')
      .reply(200, { token: 'token-1', scopes: ['oauth'], hub_id: Number(PORTAL_ID), app_id: Number(APP_ID), expires_in: 1700, user_id: 1, token_type: 'access' });
    expect(await adapter.verifyCredentials()).toEqual({ accountId: PORTAL_ID, appId: APP_ID });
    expect(adapter.appId).toBe(APP_ID);
    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['api', 'api']);
  });

  it('reports the portal the token really belongs to', async () => {
    const { adapter } = adapterWith();
    hubspot()
      .scope.get('/crm/v3/owners/')
      .query(true)
      .reply(200, owners)
      .get('/oauth/v1/access-tokens/token-1')
      .reply(200, { token: 'token-1', scopes: [], hub_id: 49999999, app_id: Number(APP_ID), expires_in: 1700, token_type: 'access' });
    expect(await adapter.verifyCredentials()).toEqual({ accountId: '49999999', appId: APP_ID });
  });

  it('with a private-app token HubSpot does not introspect (404): the owners call proved it, the configured portal stands', async () => {
    const { adapter } = adapterWith({ appId: null });
    hubspot()
      .scope.get('/crm/v3/owners/')
      .query(true)
      .reply(200, owners)
      .get('/oauth/v1/access-tokens/token-1')
      .reply(404, oauthError('BAD_ACCESS_TOKEN', 'missing, unknown or expired access token'));
    expect(await adapter.verifyCredentials()).toEqual({ accountId: PORTAL_ID, appId: null });
  });

  it('a token HubSpot refuses → AUTH (after the one refresh)', async () => {
    const { adapter, tokens } = adapterWith();
    hubspot().scope.get('/crm/v3/owners/').query(true).times(2).reply(401, errorBody('INVALID_AUTHENTICATION', 'Authentication credentials not found.'));
    await expect(adapter.verifyCredentials()).rejects.toMatchObject({ code: 'AUTH' });
    expect(tokens.refreshed).toHaveLength(1);
  });

  it('revoke() deletes the connection\'s refresh token through the gate; already revoked is fine', async () => {
    const { adapter, gate } = adapterWith({ refreshToken: async () => 'na1-refresh' });
    const { scope } = hubspot();
    scope.delete('/oauth/v1/refresh-tokens/na1-refresh').reply(204).delete('/oauth/v1/refresh-tokens/na1-refresh').reply(400, oauthError('BAD_REFRESH_TOKEN', 'unknown'));
    await adapter.revoke();
    await adapter.revoke();
    expect(scope.isDone()).toBe(true);
    expect(gate.acquired).toEqual(['api', 'api']);
  });

  it('revoke() without a refresh token (private-app token) makes no call', async () => {
    const { adapter, gate } = adapterWith({ refreshToken: async () => null });
    await adapter.revoke();
    const { adapter: noGetter, gate: gate2 } = adapterWith();
    await noGetter.revoke();
    expect([...gate.acquired, ...gate2.acquired]).toEqual([]);
  });
});
