// The Salesforce change-feed job, driven directly (no workers): it starts at the feed's tip, stores what
// others changed in the inbox and drops dealreg's own writes, saves its replay id after storing, and an org
// that serves no feed at all is asked again every 15 minutes instead of every second (each call would
// count against the org's daily allowance).
import nock from 'nock';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce';
import { FEED_UNAVAILABLE_RETRY_MS, pullFeed } from '../../src/use-cases/crm/pull-crm-changes';
import { seedWorkspace, startHarness, type Harness } from '../helpers/harness';

let sandbox: SalesforceSandbox;
let h: Harness;
let org: { orgId: string; instanceUrl: string; accessToken: string; refreshToken: string; integrationUserId: string; clientId: string; clientSecret: string };
let connectionId: string;

async function control(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sandbox.baseUrl}${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  sandbox = createSalesforceSandbox();
  await sandbox.listen(0);
  h = await startHarness({ crm: { salesforce: { loginUrl: sandbox.baseUrl, feedWaitMs: 0 } } });
  org = (await control('POST', '/_sandbox/orgs', {})).body;
  const ws = await seedWorkspace(h);
  const c = await h.api.post('/v1/connections/salesforce', ws.adminToken, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken, clientId: org.clientId, clientSecret: org.clientSecret });
  expect(c.status).toBe(201);
  connectionId = c.body.connection.id;
});

afterAll(async () => {
  nock.cleanAll();
  await h?.close();
  await sandbox?.close();
});

const api = '/services/data/v66.0';

test('the first pull records the tip; later pulls store others’ changes, drop dealreg’s own, and save the replay id', async () => {
  const first = await pullFeed(h.crm!, connectionId);
  expect(first).toMatchObject({ outcome: 'wait', stored: 0 });
  const start = await h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
  expect(start.feedCursor).toMatch(/^\d+$/);

  // A person's edit in Lightning, and a write marked as dealreg's own (Sforce-Call-Options client=dealreg).
  const person = await control('POST', `${api}/sobjects/Account`, { Name: 'Edited By A Person', Website: 'person.example.org' }, { authorization: `Bearer ${org.accessToken}`, 'x-sandbox-actor': `user:${org.integrationUserId}` });
  expect(person.status).toBe(201);
  const own = await control('POST', `${api}/sobjects/Account`, { Name: 'Written By Dealreg' }, { authorization: `Bearer ${org.accessToken}`, 'sforce-call-options': 'client=dealreg' });
  expect(own.status).toBe(201);

  const r = await pullFeed(h.crm!, connectionId);
  expect(r).toMatchObject({ outcome: 'wait', stored: 1, echoes: 1 });
  const rows = await h.prisma.inboxEvent.findMany({ where: { connectionId } });
  expect(rows.map((x) => x.objectId)).toEqual([person.body.id]);
  const after = await h.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId } });
  expect(Number(after.feedCursor)).toBeGreaterThan(Number(start.feedCursor));

  // Pulling again from the saved replay id finds nothing new and stores nothing twice.
  expect(await pullFeed(h.crm!, connectionId)).toMatchObject({ stored: 0, echoes: 0 });
  expect(await h.prisma.inboxEvent.count({ where: { connectionId } })).toBe(1);
});

test('an org that serves no change feed is asked again in 15 minutes, not every second', async () => {
  nock(sandbox.baseUrl, { allowUnmocked: true })
    .get(/\/sandbox\/change-events/)
    .reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  const r = await pullFeed(h.crm!, connectionId);
  expect(r).toMatchObject({ outcome: 'wait', afterMs: FEED_UNAVAILABLE_RETRY_MS, reason: 'no change feed' });
  expect(nock.isDone()).toBe(true);
});
