// OAuth through the real SDK: the install redirect, the authorization_code and refresh_token grants on
// both token paths, expiring access tokens (401 EXPIRED_AUTHENTICATION), expire-tokens, introspection.
import { Client } from '@hubspot/api-client';
import { apiError, startSandbox, type Harness } from './harness';

let h: Harness;
let clock = Date.parse('2026-11-23T12:00:00Z');
const REDIRECT = 'http://127.0.0.1:3000/oauth/hubspot/callback';

beforeAll(async () => {
  h = await startSandbox({ now: () => clock });
});
afterAll(() => h.close());

/** Walks the install page: returns the `code` and `state` it redirects back with. */
async function install(clientId: string, state: string, extra = ''): Promise<{ code: string; state: string | null; location: URL }> {
  const res = await fetch(`${h.baseUrl}/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=crm.objects.deals.read%20crm.objects.companies.write&state=${state}${extra}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  return { code: location.searchParams.get('code')!, state: location.searchParams.get('state'), location };
}

describe('OAuth install flow', () => {
  it('redirects back to the redirect_uri with a code and the state, then exchanges the code for tokens (SDK, /oauth/v1/token)', async () => {
    const portal = await h.createPortal({ tokenTtlSeconds: 1800 });
    const { code, state, location } = await install(portal.clientId, 'xyz-123');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(state).toBe('xyz-123');

    const tokens = await new Client({ basePath: h.baseUrl }).oauth.tokensApi.create('authorization_code', code, REDIRECT, portal.clientId, portal.clientSecret);
    expect(tokens.tokenType).toBe('bearer');
    expect(tokens.expiresIn).toBe(1800);
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));

    const api = h.client(tokens.accessToken);
    const deal = await api.crm.deals.basicApi.create({ properties: { dealname: 'Via OAuth' }, associations: [] });
    expect(deal.id).toMatch(/^\d+$/);

    const info = await new Client({ basePath: h.baseUrl }).oauth.accessTokensApi.get(tokens.accessToken);
    expect(info).toMatchObject({ hubId: portal.portalId, appId: portal.appId, tokenType: 'access' });
    expect(info.scopes).toEqual(['crm.objects.deals.read', 'crm.objects.companies.write']);
    const refresh = await new Client({ basePath: h.baseUrl }).oauth.refreshTokensApi.get(tokens.refreshToken);
    expect(refresh).toMatchObject({ hubId: portal.portalId, clientId: portal.clientId, tokenType: 'refresh' });
  });

  it('codes are single-use and must come with the same redirect_uri', async () => {
    const portal = await h.createPortal();
    const { code } = await install(portal.clientId, 's');
    const oauth = new Client({ basePath: h.baseUrl }).oauth.tokensApi;
    const wrongRedirect = await apiError(oauth.create('authorization_code', code, 'http://evil.example/cb', portal.clientId, portal.clientSecret));
    expect(wrongRedirect.code).toBe(400);
    expect(wrongRedirect.body.status).toBe('BAD_REDIRECT_URI');
    await oauth.create('authorization_code', code, REDIRECT, portal.clientId, portal.clientSecret);
    const reused = await apiError(oauth.create('authorization_code', code, REDIRECT, portal.clientId, portal.clientSecret));
    expect(reused.body.status).toBe('BAD_AUTH_CODE');
  });

  it('a revoked refresh token (uninstall) can no longer refresh', async () => {
    const portal = await h.createPortal();
    const oauth = new Client({ basePath: h.baseUrl }).oauth;
    await oauth.refreshTokensApi.archive(portal.refreshToken);
    const err = await apiError(oauth.tokensApi.create('refresh_token', undefined, undefined, portal.clientId, portal.clientSecret, portal.refreshToken));
    expect(err.body.status).toBe('BAD_REFRESH_TOKEN');
  });

  it('refuses unknown clients and wrong secrets', async () => {
    const portal = await h.createPortal();
    const oauth = new Client({ basePath: h.baseUrl }).oauth.tokensApi;
    expect((await apiError(oauth.create('refresh_token', undefined, undefined, 'nobody', 'x', portal.refreshToken))).body.status).toBe('BAD_CLIENT_ID');
    expect((await apiError(oauth.create('refresh_token', undefined, undefined, portal.clientId, 'wrong', portal.refreshToken))).body.status).toBe('BAD_CLIENT_SECRET');
    const unknownClient = await fetch(`${h.baseUrl}/oauth/authorize?client_id=nobody&redirect_uri=${encodeURIComponent(REDIRECT)}`, { redirect: 'manual' });
    expect(unknownClient.status).toBe(400);
  });

  it('serves the 2026-03 token path with the same form-encoded grants', async () => {
    const portal = await h.createPortal({ tokenTtlSeconds: 600 });
    const res = await fetch(`${h.baseUrl}/oauth/2026-03/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: portal.clientId, client_secret: portal.clientSecret, refresh_token: portal.refreshToken }).toString(),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'bearer', refresh_token: portal.refreshToken, expires_in: 600 });
    const deals = await h.client(String(body.access_token)).crm.deals.basicApi.getPage();
    expect(deals.results).toEqual([]);
  });

  it('pinned appId, clientId and clientSecret let a demo configure dealreg before the portal exists', async () => {
    const portal = await h.createPortal({ appId: 777001, clientId: 'demo-client', clientSecret: 'demo-secret' });
    expect(portal).toMatchObject({ appId: 777001, clientId: 'demo-client', clientSecret: 'demo-secret' });
    const { code } = await install('demo-client', 'pinned', `&portalId=${portal.portalId}`);
    const tokens = await new Client({ basePath: h.baseUrl }).oauth.tokensApi.create('authorization_code', code, REDIRECT, 'demo-client', 'demo-secret');
    const info = await new Client({ basePath: h.baseUrl }).oauth.accessTokensApi.get(tokens.accessToken);
    expect(info.hubId).toBe(portal.portalId);
  });
});

describe('token expiry', () => {
  it('an access token stops working after tokenTtlSeconds (401 EXPIRED_AUTHENTICATION) and the refresh grant gets a new one', async () => {
    const portal = await h.createPortal({ tokenTtlSeconds: 60 });
    const oauth = new Client({ basePath: h.baseUrl }).oauth.tokensApi;
    const first = await oauth.create('refresh_token', undefined, undefined, portal.clientId, portal.clientSecret, portal.refreshToken);
    const api = h.client(first.accessToken);
    await api.crm.companies.basicApi.getPage();

    clock += 61_000;
    const expired = await apiError(h.client(first.accessToken).crm.companies.basicApi.getPage());
    expect(expired.code).toBe(401);
    expect(expired.body).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION' });
    expect(String(expired.body.message)).toMatch(/^The OAuth token used to make this call expired \d+ second\(s\) ago\.$/);

    const second = await oauth.create('refresh_token', undefined, undefined, portal.clientId, portal.clientSecret, portal.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await h.client(second.accessToken).crm.companies.basicApi.getPage()).results).toEqual([]);
  });

  it('expire-tokens ends every current token of the portal, the static private-app token included, and no other portal’s', async () => {
    const a = await h.createPortal();
    const b = await h.createPortal();
    await h.client(a.accessToken).crm.deals.basicApi.getPage();
    const res = await h.control<{ expired: number }>('POST', '/_sandbox/expire-tokens', { portalId: a.portalId });
    expect(res.body.expired).toBeGreaterThanOrEqual(1);
    const err = await apiError(h.client(a.accessToken).crm.deals.basicApi.getPage());
    expect(err.code).toBe(401);
    expect(err.body.category).toBe('EXPIRED_AUTHENTICATION');
    await expect(h.client(b.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
    // the refresh token still works; a rotated private-app token too
    const fresh = await new Client({ basePath: h.baseUrl }).oauth.tokensApi.create('refresh_token', undefined, undefined, a.clientId, a.clientSecret, a.refreshToken);
    await expect(h.client(fresh.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
    const rotated = await h.control<{ accessToken: string }>('POST', `/_sandbox/portals/${a.portalId}/rotate-token`);
    await expect(h.client(rotated.body.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
  });

  it('the private-app token from portal creation does not expire with time', async () => {
    const portal = await h.createPortal({ tokenTtlSeconds: 1 });
    clock += 365 * 24 * 3600_000;
    await expect(h.client(portal.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
  });
});
