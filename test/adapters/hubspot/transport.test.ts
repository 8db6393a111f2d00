// How every adapter call behaves at the HTTP boundary: the shared limiter, 429s, 5xx, timeouts,
// connection failures, the one refresh after a 401, and what reaches the logs.
import nock from 'nock';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CrmError } from '../../../src/crm/crm-adapter';
import { createHubspotAdapter } from '../../../src/crm/hubspot';
import { crmError } from '../crm-test-doubles';
import { adapterWith, APP_ID, BASE, countingGate, errorBody, hubspot, LIMIT_HEADERS, PORTAL_ID, RATE_LIMIT_BODY, recordingTokens } from './helpers';

const OWNERS = '/crm/v3/owners/';
const ownersPage = { results: [{ id: '70000001', email: 'rep@example.com', firstName: 'Rita', lastName: 'Rep', userId: 901, teams: [], archived: false }] };
const PROPERTIES = '/crm/v3/properties/deals';
const PIPELINES = '/crm/v3/pipelines/deals';

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('rate limits', () => {
  it('turns a 429 with Retry-After into RATE_LIMITED and pauses the gate for that many seconds', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = hubspot();
    scope.get(OWNERS).query(true).reply(429, RATE_LIMIT_BODY, { ...LIMIT_HEADERS, 'X-HubSpot-RateLimit-Remaining': '0', 'Retry-After': '3' });
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 3000, crmCode: 'RATE_LIMIT' });
    expect(gate.paused).toEqual([3000]);
    expect(gate.observed).toEqual([{ remaining: 0, max: 110, intervalMs: 10_000 }]);
    expect(scope.isDone()).toBe(true);
  });

  it('without Retry-After waits for the rate window named in X-HubSpot-RateLimit-Interval-Milliseconds', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = hubspot();
    scope.get(OWNERS).query(true).reply(429, RATE_LIMIT_BODY, { 'X-HubSpot-RateLimit-Interval-Milliseconds': '10000', 'X-HubSpot-RateLimit-Remaining': '0' });
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 10_000 });
    expect(gate.paused).toEqual([10_000]);
  });

  it('a search 429 with neither header (the secondly limit) pauses for one second', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = hubspot();
    scope.post('/crm/v3/objects/companies/search').reply(429, { ...RATE_LIMIT_BODY, message: 'You have reached your secondly limit.', policyName: 'SECONDLY' });
    const e = await crmError(adapter.accountsChangedSince('2026-11-01T00:00:00.000Z', 10));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    expect(gate.paused).toEqual([1000]);
    expect(gate.acquired).toEqual(['search']);
  });

  it('a 429 with no hint at all still pauses, for the default rate window', async () => {
    const { adapter, gate } = adapterWith();
    hubspot().scope.get(OWNERS).query(true).reply(429, 'Too Many Requests');
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 10_000 });
    expect(gate.paused).toEqual([10_000]);
  });

  it('does not call HubSpot when the gate refuses (the shared limiter says wait)', async () => {
    const gate = countingGate();
    gate.acquire = async () => {
      throw new CrmError('hubspot', 'RATE_LIMITED', 'local api limit reached', { retryAfterMs: 250, crmCode: 'LOCAL_LIMIT' });
    };
    const adapter = createHubspotAdapter({ portalId: PORTAL_ID, baseUrl: BASE, tokens: recordingTokens(), gate });
    const { requests } = hubspot();
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 250 });
    expect(requests()).toBe(0);
  });

  it('feeds the gate the quota headers of successful answers', async () => {
    const { adapter, gate } = adapterWith();
    hubspot().scope.get(OWNERS).query(true).reply(200, ownersPage, LIMIT_HEADERS);
    await adapter.listOwners();
    expect(gate.observed).toEqual([{ remaining: 97, max: 110, intervalMs: 10_000 }]);
  });
});

describe('server errors, timeouts and broken connections are TEMPORARY', () => {
  it.each([
    [500, errorBody('INTERNAL_ERROR', 'internal error'), {}],
    [502, '<html><body><h1>502 Gateway error</h1></body></html>', { 'Content-Type': 'text/html' }],
    [503, errorBody('SERVICE_UNAVAILABLE', 'Service Unavailable. The service is temporarily unable to handle the request.'), {}],
    [504, '<html><body><h1>504 Gateway error</h1></body></html>', { 'Content-Type': 'text/html' }],
  ])('%d → TEMPORARY, without retrying inside the adapter', async (status, body, headers) => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope.get(OWNERS).query(true).reply(status, body, headers);
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'TEMPORARY', status });
    if (typeof body === 'string') expect(e.message).not.toContain('<html>');
    expect(requests()).toBe(1);
    expect(gate.acquired).toEqual(['api']);
  });

  it('a call that does not answer within timeoutMs fails TEMPORARY at once instead of hanging the job', async () => {
    const { adapter } = adapterWith({ timeoutMs: 100 });
    hubspot().scope.get(OWNERS).query(true).delay(10_000).reply(200, ownersPage);
    const started = Date.now();
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'TEMPORARY', crmCode: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a connection reset → TEMPORARY', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.get(OWNERS).query(true).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    await expect(adapter.listOwners()).rejects.toMatchObject({ name: 'CrmError', code: 'TEMPORARY' });
  });

  it('a refused connection (nothing listening) → TEMPORARY', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const adapter = createHubspotAdapter({ portalId: PORTAL_ID, baseUrl: `http://127.0.0.1:${port}`, tokens: recordingTokens(), gate: countingGate(), timeoutMs: 5000 });
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'TEMPORARY', crmCode: 'ECONNREFUSED' });
  });
});

describe('authentication', () => {
  it('sends the current token; after a 401 refreshes exactly once and retries with the new token', async () => {
    const { adapter, tokens, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope
      .get(OWNERS)
      .query(true)
      .matchHeader('authorization', 'Bearer token-1')
      .reply(401, errorBody('EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 3 second(s) ago.'))
      .get(OWNERS)
      .query(true)
      .matchHeader('authorization', 'Bearer token-2')
      .reply(200, ownersPage);
    const owners = await adapter.listOwners();
    expect(owners).toEqual([{ id: '70000001', name: 'Rita Rep', email: 'rep@example.com', teamIds: [], userId: '901' }]);
    expect(tokens.refreshed).toEqual(['token-1']);
    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(scope.isDone()).toBe(true);
  });

  it('a second 401 after the refresh → AUTH, and no third attempt', async () => {
    const { adapter, tokens } = adapterWith();
    const { scope, requests } = hubspot();
    scope.get(OWNERS).query(true).times(2).reply(401, errorBody('INVALID_AUTHENTICATION', 'Authentication credentials not found.'));
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'AUTH', status: 401, crmCode: 'INVALID_AUTHENTICATION' });
    expect(tokens.refreshed).toEqual(['token-1']);
    expect(requests()).toBe(2);
  });

  it('a refresh that cannot work surfaces as the token source says (AUTH), without another call', async () => {
    const gate = countingGate();
    const tokens = recordingTokens();
    tokens.refresh = async () => {
      throw new CrmError('hubspot', 'AUTH', 'token refresh refused: BAD_REFRESH_TOKEN');
    };
    const adapter = createHubspotAdapter({ portalId: PORTAL_ID, baseUrl: BASE, tokens, gate });
    const { scope, requests } = hubspot();
    scope.get(OWNERS).query(true).reply(401, errorBody('EXPIRED_AUTHENTICATION', 'expired'));
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'AUTH', message: expect.stringContaining('BAD_REFRESH_TOKEN') });
    expect(requests()).toBe(1);
  });

  it('a 403 (missing scopes) → AUTH', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.get(OWNERS).query(true).reply(403, errorBody('MISSING_SCOPES', 'This app hasn\'t been granted all required scopes to make this call.'));
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'AUTH', status: 403, crmCode: 'MISSING_SCOPES' });
  });

  it('never writes a token into the logs, not even around a refresh', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const tokens = recordingTokens('pat-na1-secret-one', 'pat-na1-secret-two');
    const adapter = createHubspotAdapter({ portalId: PORTAL_ID, baseUrl: BASE, tokens, gate: countingGate(), appId: APP_ID, log });
    const { scope } = hubspot();
    scope.get(OWNERS).query(true).reply(401, errorBody('EXPIRED_AUTHENTICATION', 'expired')).get(OWNERS).query(true).reply(429, RATE_LIMIT_BODY, { 'Retry-After': '1' });
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await new Promise((r) => setImmediate(r));
    expect(lines.length).toBeGreaterThanOrEqual(3); // two calls and the refresh
    expect(lines.join('')).not.toMatch(/secret-one|secret-two/);
  });
});

describe('other answers', () => {
  it('404 → NOT_FOUND', async () => {
    const { adapter } = adapterWith();
    const { scope } = hubspot();
    scope.get(PROPERTIES).query(true).reply(404, errorBody('OBJECT_NOT_FOUND', 'Unable to infer object type from: deals'));
    scope.get(PIPELINES).reply(200, { results: [] });
    await expect(adapter.describe()).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('a 2xx answer that is not the documented shape → INVALID with the offending path, not a crash', async () => {
    const { adapter } = adapterWith();
    hubspot().scope.get(OWNERS).query(true).reply(200, { results: [{ email: 'no-id@example.com' }] });
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
    expect(e.message).toContain('results.0.id');
  });

  it('calls the gate exactly once per HTTP call, with "search" for search endpoints', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = hubspot();
    scope.get(OWNERS).query((q) => q.after === undefined).reply(200, { ...ownersPage, paging: { next: { after: '70000001' } } });
    scope.get(OWNERS).query((q) => q.after === '70000001').reply(200, { results: [] });
    scope.post('/crm/v3/objects/deals/search').reply(200, { total: 0, results: [] });
    await adapter.listOwners();
    await adapter.opportunitiesChangedSince('2026-11-01T00:00:00.000Z', 50, []);
    expect(requests()).toBe(3);
    expect(gate.acquired).toEqual(['api', 'api', 'search']);
    expect(scope.isDone()).toBe(true);
  });
});
