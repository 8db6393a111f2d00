// Rate limits and injected faults, seen through the real SDK: HubSpot's 429 bodies and headers, the
// separate search limit, how the SDK's own retry reacts, and the control API's faults.
import { apiError, startSandbox, type Harness } from './harness';

function header(headers: unknown, name: string): string | undefined {
  const h = headers as Record<string, string> | Headers;
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? (h as Record<string, string>)[key] : undefined;
}

describe('the rolling 10-second limit (fake clock)', () => {
  let h: Harness;
  let clock = Date.parse('2026-11-23T12:00:00Z');
  beforeAll(async () => {
    h = await startSandbox({ now: () => clock });
  });
  afterAll(() => h.close());

  it('sends X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds on every API response', async () => {
    const p = await h.createPortal({ rateLimit: { max: 3, intervalMs: 10_000 } });
    const hs = h.client(p.accessToken);
    const seen: Array<[string | undefined, string | undefined, string | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      const info = await hs.crm.deals.basicApi.getPageWithHttpInfo();
      seen.push([header(info.headers, 'x-hubspot-ratelimit-max'), header(info.headers, 'x-hubspot-ratelimit-remaining'), header(info.headers, 'x-hubspot-ratelimit-interval-milliseconds')]);
    }
    expect(seen).toEqual([['3', '2', '10000'], ['3', '1', '10000'], ['3', '0', '10000']]);
  });

  it('sends current figures on every 204 too (each answer has its own headers)', async () => {
    const p = await h.createPortal({ rateLimit: { max: 10, intervalMs: 10_000 } });
    const hs = h.client(p.accessToken);
    const first = await hs.crm.deals.basicApi.archiveWithHttpInfo('1');
    const second = await hs.crm.deals.basicApi.archiveWithHttpInfo('2');
    expect(first.httpStatusCode).toBe(204);
    expect([header(first.headers, 'x-hubspot-ratelimit-remaining'), header(second.headers, 'x-hubspot-ratelimit-remaining')]).toEqual(['9', '8']);
    expect(header(first.headers, 'x-hubspot-correlation-id')).not.toBe(header(second.headers, 'x-hubspot-correlation-id'));
  });

  it('sends the headers on error answers too, and counts them against the window', async () => {
    const p = await h.createPortal({ rateLimit: { max: 5, intervalMs: 10_000 } });
    const err = await apiError(h.client(p.accessToken).crm.deals.basicApi.getById('404'));
    expect(err.code).toBe(404);
    expect(header(err.headers, 'x-hubspot-ratelimit-remaining')).toBe('4');
    expect(header(err.headers, 'x-hubspot-ratelimit-max')).toBe('5');
  });

  it('answers the next call with HubSpot’s 429 body, Retry-After, and lets calls through again once the window rolls', async () => {
    const p = await h.createPortal({ rateLimit: { max: 2, intervalMs: 10_000 } });
    const hs = h.client(p.accessToken);
    await hs.crm.deals.basicApi.getPage();
    clock += 4_000;
    await hs.crm.deals.basicApi.getPage();
    const err = await apiError(hs.crm.deals.basicApi.getPage());
    expect(err.code).toBe(429);
    expect(err.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: expect.any(String),
    });
    expect(header(err.headers, 'x-hubspot-ratelimit-remaining')).toBe('0');
    expect(header(err.headers, 'retry-after')).toBe('6');

    clock += 6_001; // the first call left the window, one slot is free
    await expect(hs.crm.deals.basicApi.getPage()).resolves.toBeDefined();
    expect((await apiError(hs.crm.deals.basicApi.getPage())).code).toBe(429);

    const stats = await h.control<{ rateLimited: number; byStatus: Record<string, number> }>('GET', `/_sandbox/portals/${p.portalId}/stats`);
    expect(stats.body.rateLimited).toBe(2);
    expect(stats.body.byStatus['429']).toBe(2);
  });

  it('defaults to 110 requests per 10 s per portal, and one portal’s limit does not touch another’s', async () => {
    const a = await h.createPortal();
    const b = await h.createPortal();
    const hs = h.client(a.accessToken);
    for (let i = 0; i < 110; i++) await hs.crm.companies.basicApi.getPage(1);
    expect((await apiError(hs.crm.companies.basicApi.getPage(1))).code).toBe(429);
    await expect(h.client(b.accessToken).crm.companies.basicApi.getPage(1)).resolves.toBeDefined();
  });

  it('limits search separately, about 5 per second (429 SECONDLY), without using up the 10-second window', async () => {
    const p = await h.createPortal({ rateLimit: { max: 100, intervalMs: 10_000 } });
    const hs = h.client(p.accessToken);
    for (let i = 0; i < 5; i++) await hs.crm.deals.searchApi.doSearch({ limit: 1 });
    const err = await apiError(hs.crm.deals.searchApi.doSearch({ limit: 1 }));
    expect(err.code).toBe(429);
    expect(err.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'SECONDLY', message: 'You have reached your secondly limit.' });
    const info = await hs.crm.deals.basicApi.getPageWithHttpInfo();
    expect(header(info.headers, 'x-hubspot-ratelimit-remaining')).toBe('99'); // searches did not count
    clock += 1_001;
    await expect(hs.crm.deals.searchApi.doSearch({ limit: 1 })).resolves.toBeDefined();
  });

  it('control endpoints are never rate limited', async () => {
    const p = await h.createPortal({ rateLimit: { max: 1, intervalMs: 10_000 } });
    for (let i = 0; i < 5; i++) expect((await h.control('GET', `/_sandbox/portals/${p.portalId}`)).status).toBe(200);
  });

  it('limits can be switched off for benchmarks (PATCH /_sandbox/settings)', async () => {
    const p = await h.createPortal({ rateLimit: { max: 1, intervalMs: 10_000 } });
    const hs = h.client(p.accessToken);
    await h.control('PATCH', '/_sandbox/settings', { rateLimitsEnabled: false });
    for (let i = 0; i < 3; i++) await hs.crm.deals.basicApi.getPage();
    await h.control('PATCH', '/_sandbox/settings', { rateLimitsEnabled: true });
    await hs.crm.deals.basicApi.getPage();
    expect((await apiError(hs.crm.deals.basicApi.getPage())).code).toBe(429);
  });
});

describe('injected faults', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startSandbox();
  });
  afterAll(() => h.close());

  it('the next `count` calls of the portal answer the status, then calls succeed again', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken);
    expect((await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, status: 503, count: 2 })).status).toBe(201);
    const first = await apiError(hs.crm.deals.basicApi.getPage());
    expect(first.code).toBe(503);
    expect(first.body.category).toBe('SERVICE_UNAVAILABLE');
    expect((await apiError(hs.crm.deals.basicApi.getPage())).code).toBe(503);
    await expect(hs.crm.deals.basicApi.getPage()).resolves.toBeDefined();
  });

  it('a 429 fault carries the real TEN_SECONDLY_ROLLING body; a 401 fault looks like an expired token; a 500 is an internal error', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken);
    await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, status: 429, count: 1 });
    await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, status: 401, count: 1 });
    await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, status: 500, count: 1 });
    const limited = await apiError(hs.crm.deals.basicApi.getPage());
    expect(limited.code).toBe(429);
    expect(limited.body).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    const unauthorized = await apiError(hs.crm.deals.basicApi.getPage());
    expect(unauthorized.code).toBe(401);
    expect(unauthorized.body.category).toBe('EXPIRED_AUTHENTICATION');
    const broken = await apiError(hs.crm.deals.basicApi.getPage());
    expect(broken.code).toBe(500);
    const stats = await h.control<{ faultsInjected: number }>('GET', `/_sandbox/portals/${p.portalId}/stats`);
    expect(stats.body.faultsInjected).toBe(3);
  });

  it('faults hit only the portal they name, and DELETE /_sandbox/faults clears them', async () => {
    const a = await h.createPortal();
    const b = await h.createPortal();
    await h.control('POST', '/_sandbox/faults', { portalId: a.portalId, status: 500, count: 5 });
    await expect(h.client(b.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
    expect((await apiError(h.client(a.accessToken).crm.deals.basicApi.getPage())).code).toBe(500);
    await h.control('DELETE', `/_sandbox/faults?portalId=${a.portalId}`);
    await expect(h.client(a.accessToken).crm.deals.basicApi.getPage()).resolves.toBeDefined();
  });

  it('a latency fault delays the call: a later, undelayed call finishes first', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken);
    await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, latencyMs: 800, count: 1 });
    const order: string[] = [];
    const slow = hs.crm.deals.basicApi.getPage().then(() => order.push('delayed'));
    await new Promise((r) => setTimeout(r, 50));
    const fast = hs.crm.deals.basicApi.getPage().then(() => order.push('normal'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['normal', 'delayed']);
  });

  it('refuses malformed faults', async () => {
    const p = await h.createPortal();
    expect((await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, count: 1 })).status).toBe(400);
    expect((await h.control('POST', '/_sandbox/faults', { portalId: 1, status: 500, count: 1 })).status).toBe(404);
  });
});

describe('what the SDK does with these answers (real clock)', () => {
  let h: Harness;
  let errorLog: jest.SpyInstance;
  beforeAll(async () => {
    h = await startSandbox();
    errorLog = jest.spyOn(console, 'error').mockImplementation(() => undefined); // the SDK logs each retry
  });
  afterAll(async () => {
    errorLog.mockRestore();
    await h.close();
  });

  it('without retries configured, a 429 surfaces as ApiException with code 429 and the parsed body', async () => {
    const p = await h.createPortal({ rateLimit: { max: 1, intervalMs: 60_000 } });
    const hs = h.client(p.accessToken);
    await hs.crm.deals.basicApi.getPage();
    const err = await apiError(hs.crm.deals.basicApi.getPage());
    expect(err.code).toBe(429);
    expect(err.body.policyName).toBe('TEN_SECONDLY_ROLLING');
  });

  it('with numberOfApiCallRetries, the SDK retries an injected 500 and succeeds', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken, { numberOfApiCallRetries: 3 });
    await h.control('POST', '/_sandbox/faults', { portalId: p.portalId, status: 500, count: 1 });
    await expect(hs.crm.deals.basicApi.getPage()).resolves.toBeDefined();
    const stats = await h.control<{ byStatus: Record<string, number> }>('GET', `/_sandbox/portals/${p.portalId}/stats`);
    expect(stats.body.byStatus).toMatchObject({ '500': 1, '200': 1 });
  });

  it('with numberOfApiCallRetries, the SDK recognises the search 429 by its message, waits and succeeds', async () => {
    const p = await h.createPortal();
    const hs = h.client(p.accessToken, { numberOfApiCallRetries: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => hs.crm.deals.searchApi.doSearch({ limit: 1 })));
    expect(results).toHaveLength(6);
    const stats = await h.control<{ searchRateLimited: number }>('GET', `/_sandbox/portals/${p.portalId}/stats`);
    expect(stats.body.searchRateLimited).toBeGreaterThanOrEqual(1);
  });
});
