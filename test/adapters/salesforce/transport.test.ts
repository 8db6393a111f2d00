// How every adapter call behaves at the HTTP boundary: what it sends, the one refresh after a 401,
// REQUEST_LIMIT_EXCEEDED (daily 403, concurrency 429), 5xx and broken connections retried by us (not by
// jsforce), timeouts, and Sforce-Limit-Info reaching the budget and the gate.
import http from 'node:http';
import net from 'node:net';
import nock from 'nock';
import { CrmError } from '../../../src/crm/crm-adapter';
import type { ApiBudget } from '../../../src/crm/salesforce/salesforce-budget';
import { crmError } from '../crm-test-doubles';
import { adapterWith, API, limitHeaders, opportunityRow, queryBody, salesforce, sfError, sfId } from './helpers';

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

const USERS = `${API}/query`;
const usersPage = queryBody([{ attributes: { type: 'User' }, Id: sfId('005', 1), Name: 'Rita Rep', Email: 'rita@vendor.test', UserRoleId: null, UserType: 'Standard' }]);
const UPDATE = `${API}/composite/sobjects`;
const update = (id: string) => ({ registrationId: 'reg-1', externalId: id, fields: { Dealreg_Status__c: 'won' } });
const saved = (id: string) => [{ id, success: true, errors: [] }];

/** A budget that records what it was told and refuses when asked to. */
function recordingBudget(refuse?: CrmError): ApiBudget & { calls: number; observed: Array<[number, number]> } {
  const b = {
    calls: 0,
    observed: [] as Array<[number, number]>,
    beforeCall: async () => {
      b.calls++;
      if (refuse) throw refuse;
    },
    observe: (used: number, max: number) => {
      b.observed.push([used, max]);
    },
  };
  return b;
}

describe('what goes out', () => {
  it('names the pinned API version, sends the bearer token and marks every call as dealreg’s (Sforce-Call-Options)', async () => {
    const { adapter, gate } = adapterWith();
    const { scope } = salesforce();
    scope
      .get(USERS)
      .query(true)
      .matchHeader('authorization', 'Bearer token-1')
      .matchHeader('sforce-call-options', 'client=dealreg')
      .reply(200, usersPage, limitHeaders());
    expect(await adapter.listOwners()).toHaveLength(1);
    expect(scope.isDone()).toBe(true);
    expect(gate.acquired).toEqual(['api']);
  });

  it('does not call Salesforce when the gate refuses (the shared limiter says wait)', async () => {
    const { adapter, gate } = adapterWith();
    gate.acquire = async () => {
      throw new CrmError('salesforce', 'RATE_LIMITED', 'local api limit reached', { retryAfterMs: 250, crmCode: 'LOCAL_LIMIT' });
    };
    const { requests } = salesforce();
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 250 });
    expect(requests()).toBe(0);
  });

  it('does not call Salesforce (nor take a gate slot) when the daily budget refuses', async () => {
    const budget = recordingBudget(new CrmError('salesforce', 'RATE_LIMITED', 'spent', { retryAfterMs: 900_000, crmCode: 'DAILY_BUDGET' }));
    const { adapter, gate } = adapterWith({ budget });
    const { requests } = salesforce();
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'RATE_LIMITED', crmCode: 'DAILY_BUDGET' });
    expect(requests()).toBe(0);
    expect(gate.acquired).toEqual([]);
  });
});

describe('Sforce-Limit-Info', () => {
  it('every answer’s daily usage reaches the budget and the gate, failures included', async () => {
    const budget = recordingBudget();
    const { adapter, gate } = adapterWith({ budget });
    const { scope } = salesforce();
    scope.get(USERS).query(true).reply(200, usersPage, limitHeaders(4321, 15_000));
    await adapter.listOwners();
    scope.get(USERS).query(true).reply(400, sfError('MALFORMED_QUERY', 'unexpected token'), limitHeaders(4322, 15_000));
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'INVALID', crmCode: 'MALFORMED_QUERY' });
    expect(budget.observed).toEqual([
      [4321, 15_000],
      [4322, 15_000],
    ]);
    expect(gate.observed).toEqual([
      { dailyUsed: 4321, dailyMax: 15_000 },
      { dailyUsed: 4322, dailyMax: 15_000 },
    ]);
    expect(budget.calls).toBe(2);
  });

  it('a budget that cannot record (Redis down) does not fail a call that succeeded', async () => {
    const budget = recordingBudget();
    budget.observe = () => Promise.reject(new Error('Connection is closed.'));
    const { adapter } = adapterWith({ budget });
    salesforce().scope.get(USERS).query(true).reply(200, usersPage, limitHeaders());
    expect(await adapter.listOwners()).toHaveLength(1);
  });
});

describe('401: one refresh, through jsforce’s refreshFn', () => {
  it('refreshes with the rejected token and resends with the new one; the resend passes the gate again', async () => {
    const { adapter, gate, tokens } = adapterWith();
    const { scope } = salesforce();
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-1').reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-2').reply(200, usersPage);
    expect(await adapter.listOwners()).toHaveLength(1);
    expect(tokens.refreshed).toEqual(['token-1']);
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(scope.isDone()).toBe(true);
  });

  it('the refreshed token is kept for the rest of the call (the next page uses it without another refresh)', async () => {
    const { adapter, tokens } = adapterWith();
    const { scope } = salesforce();
    scope.get(USERS).query(true).reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-2').reply(200, queryBody([], `${API}/query/01g8d000000001-2000`, 2));
    scope.get(`${API}/query/01g8d000000001-2000`).matchHeader('authorization', 'Bearer token-2').reply(200, usersPage);
    await adapter.listOwners();
    expect(tokens.refreshed).toEqual(['token-1']);
    expect(scope.isDone()).toBe(true);
  });

  it('when the resend after a refresh times out, the next attempt still uses the refreshed token', async () => {
    const { adapter, tokens } = adapterWith({ timeoutMs: 200 });
    const { scope } = salesforce();
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-1').reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-2').delay(5000).reply(200, usersPage);
    scope.get(USERS).query(true).matchHeader('authorization', 'Bearer token-2').reply(200, usersPage);
    expect(await adapter.listOwners()).toHaveLength(1);
    expect(tokens.refreshed).toEqual(['token-1']);
  });

  it('a refreshed token rejected too is AUTH, after exactly one refresh (jsforce alone would refresh forever)', async () => {
    const { adapter, tokens } = adapterWith();
    const { scope, requests } = salesforce();
    scope.get(USERS).query(true).times(2).reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'AUTH', status: 401, crmCode: 'INVALID_SESSION_ID' });
    expect(tokens.refreshed).toEqual(['token-1']);
    expect(requests()).toBe(2);
  });

  it('a refresh that is refused (the connection gets parked) surfaces as that AUTH error', async () => {
    const { adapter, tokens } = adapterWith();
    tokens.refresh = async () => {
      throw new CrmError('salesforce', 'AUTH', 'token refresh refused: expired access/refresh token', { crmCode: 'invalid_grant' });
    };
    salesforce().scope.get(USERS).query(true).reply(401, sfError('INVALID_SESSION_ID', 'Session expired or invalid'));
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'AUTH', crmCode: 'invalid_grant' });
  });
});

describe('REQUEST_LIMIT_EXCEEDED', () => {
  it('403 (the daily allowance is spent) → RATE_LIMITED and the connection pauses for 15 minutes, nothing resent', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = salesforce();
    scope.get(USERS).query(true).reply(403, sfError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), limitHeaders(100_000, 100_000));
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'RATE_LIMITED', status: 403, crmCode: 'REQUEST_LIMIT_EXCEEDED', retryAfterMs: 15 * 60_000 });
    expect(gate.paused).toEqual([15 * 60_000]);
    expect(gate.observed).toEqual([{ dailyUsed: 100_000, dailyMax: 100_000 }]);
    expect(requests()).toBe(1);
  });

  it('429 (too many long-running requests at once) → RATE_LIMITED with a pause of a few seconds', async () => {
    const { adapter, gate } = adapterWith();
    const { scope, requests } = salesforce();
    scope.patch(UPDATE).reply(429, sfError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'));
    const e = await crmError(adapter.writeOpportunities([update(sfId('006', 1))]));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 3500 }); // 2 s + 0.5 × 3 s of spread
    expect(gate.paused).toEqual([3500]);
    expect(requests()).toBe(1);
  });

  it('another 403 (the API is not enabled for the user) is AUTH and pauses nothing', async () => {
    const { adapter, gate } = adapterWith();
    salesforce().scope.get(USERS).query(true).reply(403, sfError('API_DISABLED_FOR_ORG', 'The REST API is not enabled for this Organization.'));
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'AUTH', crmCode: 'API_DISABLED_FOR_ORG' });
    expect(gate.paused).toEqual([]);
  });
});

describe('5xx and broken connections: a couple of in-call retries, by us', () => {
  it('a PATCH answered 503 is resent after a jittered backoff and succeeds', async () => {
    const { adapter, gate, sleeps } = adapterWith();
    const { scope, requests } = salesforce();
    const id = sfId('006', 1);
    scope.patch(UPDATE).reply(503, sfError('SERVER_UNAVAILABLE', 'Server temporarily unavailable'));
    scope.patch(UPDATE).reply(200, saved(id));
    expect(await adapter.writeOpportunities([update(id)])).toEqual([{ registrationId: 'reg-1', ok: true, externalId: id, created: false }]);
    expect(requests()).toBe(2);
    expect(gate.acquired).toEqual(['api', 'api']);
    expect(sleeps).toEqual([375]); // 500 ms step × (0.5 + 0.5 × 0.5)
  });

  it('three 5xx in a row → TEMPORARY (an HTML error page does not leak into the message)', async () => {
    const { adapter, sleeps } = adapterWith();
    const { scope, requests } = salesforce();
    scope.patch(UPDATE).times(3).reply(502, '<html><body>Bad Gateway</body></html>', { 'Content-Type': 'text/html' });
    const e = await crmError(adapter.writeOpportunities([update(sfId('006', 1))]));
    expect(e).toMatchObject({ code: 'TEMPORARY', status: 502 });
    expect(e.message).not.toContain('<html>');
    expect(requests()).toBe(3);
    expect(sleeps).toEqual([375, 750]);
  });

  it('a GET answered 500 is resent once by us, not five times by jsforce', async () => {
    const { adapter } = adapterWith();
    const { scope, requests } = salesforce();
    scope.get(USERS).query(true).reply(500, sfError('UNKNOWN_EXCEPTION', 'An unexpected error occurred.'));
    scope.get(USERS).query(true).reply(200, usersPage);
    await adapter.listOwners();
    expect(requests()).toBe(2);
  });

  it('a create (POST) answered 503 is not resent: Salesforce may have saved it', async () => {
    const { adapter, sleeps } = adapterWith();
    const { scope, requests } = salesforce();
    scope.post(UPDATE).reply(503, sfError('SERVER_UNAVAILABLE', 'Server temporarily unavailable'));
    await expect(adapter.createAccounts([{ key: 'acme.com', name: 'Acme', domain: 'acme.com' }])).rejects.toMatchObject({ code: 'TEMPORARY', status: 503 });
    expect(requests()).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('a connection reset on a PATCH is resent and succeeds', async () => {
    const id = sfId('006', 1);
    let n = 0;
    const server = http.createServer((req, res) => {
      n++;
      if (n === 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(saved(id))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as net.AddressInfo;
      const { adapter, sleeps } = adapterWith({ instanceUrl: `http://127.0.0.1:${port}` });
      expect(await adapter.writeOpportunities([update(id)])).toMatchObject([{ ok: true, externalId: id }]);
      expect(n).toBe(2);
      expect(sleeps).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a refused connection is resent even for a create (it never reached Salesforce), then TEMPORARY', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((r) => server.close(r));
    const { adapter, sleeps } = adapterWith({ instanceUrl: `http://127.0.0.1:${port}` });
    const e = await crmError(adapter.createAccounts([{ key: 'acme.com', name: 'Acme', domain: 'acme.com' }]));
    expect(e).toMatchObject({ code: 'TEMPORARY', crmCode: 'ECONNREFUSED' });
    expect(sleeps).toHaveLength(2);
  });

  it('a call that does not answer within timeoutMs ends TEMPORARY instead of hanging the job', async () => {
    const { adapter } = adapterWith({ timeoutMs: 100 });
    salesforce().scope.get(USERS).query(true).times(3).delay(10_000).reply(200, usersPage);
    const started = Date.now();
    const e = await crmError(adapter.listOwners());
    expect(e).toMatchObject({ code: 'TEMPORARY', crmCode: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a body that stalls after the headers came ends TEMPORARY too (the time budget covers the whole exchange)', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"totalSize":1,'); // …and never the rest
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as net.AddressInfo;
      const { adapter } = adapterWith({ instanceUrl: `http://127.0.0.1:${port}`, timeoutMs: 150 });
      const started = Date.now();
      await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'TEMPORARY', crmCode: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(n).toBe(3); // a read may be resent: three attempts, each cut at 150 ms
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('answers that are not what Salesforce documents', () => {
  it('a 200 with a body of the wrong shape is INVALID, naming the problem', async () => {
    const { adapter } = adapterWith();
    salesforce().scope.get(USERS).query(true).reply(200, { records: 'nope' });
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
  });

  it('a 200 with an HTML body (a proxy page) is TEMPORARY', async () => {
    const { adapter } = adapterWith();
    salesforce().scope.get(USERS).query(true).reply(200, '<html>maintenance</html>', { 'Content-Type': 'text/html' });
    await expect(adapter.listOwners()).rejects.toMatchObject({ code: 'TEMPORARY', crmCode: 'UNEXPECTED_RESPONSE' });
  });

  it('an opportunity row without its Id is refused at the edge', async () => {
    const { adapter } = adapterWith();
    const { scope } = salesforce();
    scope.get(`${API}/sobjects/Opportunity/describe`).reply(200, { name: 'Opportunity', fields: [], recordTypeInfos: [] });
    const { Id: _dropped, ...row } = opportunityRow(sfId('006', 1));
    scope.get(`${API}/query`).query(true).reply(200, queryBody([row]));
    await expect(adapter.readOpportunities([sfId('006', 1)], [])).rejects.toMatchObject({ code: 'INVALID', crmCode: 'UNEXPECTED_RESPONSE' });
  });
});
