// Daily API allowance (Sforce-Limit-Info, /limits, REQUEST_LIMIT_EXCEEDED) and injected faults, seen
// through jsforce — including which failures jsforce retries by itself (GET) and which it does not (POST).
import { Connection } from 'jsforce';
import { failure, useSalesforceSandbox } from './sf-test-kit';

const kit = useSalesforceSandbox();

describe('daily API allowance', () => {
  test('every API response carries Sforce-Limit-Info: api-usage=N/M, which jsforce reads into limitInfo', async () => {
    const org = await kit.createOrg({ dailyApiLimit: 500 });
    const conn = kit.connect(org);
    await conn.query('SELECT Id FROM User');
    expect(conn.limitInfo).toEqual({ apiUsage: { used: 1, limit: 500 } });
    await conn.sobject('Account').create({ Name: 'A' });
    expect(conn.limitInfo).toEqual({ apiUsage: { used: 2, limit: 500 } });
    const res = await fetch(`${kit.baseUrl}/services/data/v66.0/sobjects/Account/001000000000000AAA`, { headers: { authorization: `Bearer ${org.accessToken}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('sforce-limit-info')).toBe('api-usage=3/500');
  });

  test('GET /limits reports DailyApiRequests Max and Remaining', async () => {
    const org = await kit.createOrg({ dailyApiLimit: 1000 });
    const conn = kit.connect(org);
    await conn.query('SELECT Id FROM User');
    const limits = (await conn.limits()) as unknown as { DailyApiRequests: { Max: number; Remaining: number } };
    expect(limits.DailyApiRequests).toEqual({ Max: 1000, Remaining: 998 });
  });

  test('when the allowance is spent, calls answer 403 REQUEST_LIMIT_EXCEEDED and the stats count them', async () => {
    const org = await kit.createOrg({ dailyApiLimit: 3 });
    const conn = kit.connect(org);
    await conn.query('SELECT Id FROM User');
    await conn.query('SELECT Id FROM User');
    await conn.query('SELECT Id FROM User');
    const err = await failure(conn.query('SELECT Id FROM User'));
    expect(err.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(err.message).toBe('TotalRequests Limit exceeded.');
    const raw = await fetch(`${kit.baseUrl}/services/data/v66.0/limits`, { headers: { authorization: `Bearer ${org.accessToken}` } });
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    const stats = await kit.control('GET', `/_sandbox/orgs/${org.orgId}/stats`);
    expect(stats.body).toMatchObject({ apiUsage: { used: 3, max: 3 }, limitExceeded: 2, apiRequests: 3 });
  });

  test('the usage can be set through the control API to test a nearly spent allowance', async () => {
    const org = await kit.createOrg({ dailyApiLimit: 15000 });
    const set = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/api-usage`, { used: 14999 });
    expect(set.body).toEqual({ used: 14999, max: 15000 });
    const conn = kit.connect(org);
    await conn.query('SELECT Id FROM User');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 15000, limit: 15000 });
    expect((await failure(conn.query('SELECT Id FROM User'))).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
  });

  test('a sandbox with limits off counts usage but never refuses', async () => {
    const { createSalesforceSandbox } = await import('../../../src/sandbox/salesforce');
    const open = createSalesforceSandbox({ limitsEnabled: false });
    await open.listen(0);
    try {
      const org = open.createOrg({ dailyApiLimit: 1 });
      const conn = new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: '66.0' });
      await conn.query('SELECT Id FROM User');
      await conn.query('SELECT Id FROM User');
      expect(conn.limitInfo.apiUsage).toEqual({ used: 2, limit: 1 });
    } finally {
      await open.close();
    }
  });
});

describe('injected faults', () => {
  test('GET answered 503 twice is retried by jsforce and then succeeds', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 503, count: 2 });
    const r = await conn.query('SELECT Id FROM User');
    expect(r.totalSize).toBe(1);
    const stats = await kit.control('GET', `/_sandbox/orgs/${org.orgId}/stats`);
    expect(stats.body.faultsServed).toBe(2);
    expect(stats.body.byStatus['503']).toBe(2);
  });

  test('POST answered 500 is not retried by jsforce: the caller sees UNKNOWN_EXCEPTION and nothing is created', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 500, count: 1 });
    const err = await failure(conn.sobject('Account').create({ Name: 'A' }));
    expect(err.errorCode).toBe('UNKNOWN_EXCEPTION');
    expect((await conn.query('SELECT COUNT() FROM Account')).totalSize).toBe(0);
  });

  test('429 and 503 have Salesforce-shaped bodies', async () => {
    const org = await kit.createOrg();
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 429, count: 1 });
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 503, count: 1 });
    const conn = kit.connect(org);
    const tooMany = await failure(conn.sobject('Account').create({ Name: 'A' }));
    expect(tooMany.data).toEqual({ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    const unavailable = await failure(conn.sobject('Account').create({ Name: 'A' }));
    expect(unavailable.errorCode).toBe('SERVER_UNAVAILABLE');
  });

  test('a 401 fault makes jsforce refresh the session and retry', async () => {
    const org = await kit.createOrg();
    const conn = new Connection({
      instanceUrl: org.instanceUrl,
      accessToken: org.accessToken,
      refreshToken: org.refreshToken,
      oauth2: { loginUrl: kit.baseUrl, clientId: org.clientId, clientSecret: org.clientSecret },
      version: '66.0',
    });
    let refreshes = 0;
    conn.on('refresh', () => refreshes++);
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, status: 401, count: 1 });
    expect((await conn.sobject('Account').create({ Name: 'A' })) as { success: boolean }).toMatchObject({ success: true });
    expect(refreshes).toBe(1);
  });

  test('a latency fault delays the call and then answers normally', async () => {
    const org = await kit.createOrg();
    const conn = kit.connect(org);
    await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, latencyMs: 50, count: 1 });
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
    const stats = await kit.control('GET', `/_sandbox/orgs/${org.orgId}/stats`);
    expect(stats.body.byStatus['200']).toBe(1);
  });

  test('faults are per org: another org is not affected', async () => {
    const a = await kit.createOrg();
    const b = await kit.createOrg();
    await kit.control('POST', '/_sandbox/faults', { orgId: a.orgId, status: 500, count: 1 });
    expect((await kit.connect(b).sobject('Account').create({ Name: 'B' })) as { success: boolean }).toMatchObject({ success: true });
    expect((await failure(kit.connect(a).sobject('Account').create({ Name: 'A' }))).errorCode).toBe('UNKNOWN_EXCEPTION');
  });

  test('control API validation: unknown org is 404, a fault without status or latency is 400', async () => {
    expect((await kit.control('POST', '/_sandbox/faults', { orgId: '00D000000000000AAA', status: 500, count: 1 })).status).toBe(404);
    const org = await kit.createOrg();
    expect((await kit.control('POST', '/_sandbox/faults', { orgId: org.orgId, count: 1 })).status).toBe(400);
  });
});
