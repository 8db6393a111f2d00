// Inbound HubSpot webhooks against a real PostgreSQL: signed batches land once per event and connection
// in the inbox, anything unsigned, stale, spoofed or malformed lands nowhere, our own echoes are dropped,
// and the HubSpot sandbox's real deliveries (signed, batched, duplicated, shuffled) are accepted end to end.
// Also the inbox repository itself (claim, mark, sweep, cleanup).
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { REDIS_URL } from '../helpers/harness';
import { createPrisma, sqlPool, type PrismaClient } from '../../src/data/prisma';
import { createApp } from '../../src/http/app';
import { createMetrics, type Metrics } from '../../src/lib/metrics';
import { createLogger, silentLogger } from '../../src/lib/logger';
import { createWorkspace } from '../../src/use-cases/workspaces';
import type { UseCaseContext } from '../../src/use-cases/context';
import { hubspotWebhookRouter, type HubspotWebhookDeps } from '../../src/http/webhooks/hubspot-webhooks';
import {
  claimPendingInbox,
  connectionsWithPendingInbox,
  deleteProcessedInboxBefore,
  insertInboxEvents,
  markInboxProcessed,
} from '../../src/data/repositories/inbox';
import type { CrmChangeEvent } from '../../src/crm/crm-adapter';
import { createHubspotSandbox, type HubspotSandbox, type PortalCreated } from '../../src/sandbox/hubspot';

const SECRET = `cs-${randomBytes(12).toString('hex')}`;
const APP_ID = '3000777';
const PORTAL = '40000001';
const PATH = '/webhooks/hubspot';

let db: TestDatabase;
let prisma: PrismaClient;
let redis: Redis;
let ctx: UseCaseContext;
let workspaceId: string;
let connectionId: string;
let main: TestServer;
const logLines: Record<string, unknown>[] = [];
let storedCalls: string[][] = [];
let onStoredImpl: (ids: string[]) => void | Promise<void> = () => undefined;

interface TestServer {
  baseUrl: string;
  metrics: Metrics;
  close(): Promise<void>;
}

/** createApp with the webhook router mounted through extraRoutes, on port 0; publicBaseUrl = where it listens. */
async function startServer(overrides: Partial<HubspotWebhookDeps> = {}): Promise<TestServer> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const metrics = createMetrics();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const deps: HubspotWebhookDeps = {
    prisma,
    log,
    metrics,
    clock: () => new Date(),
    publicBaseUrl: baseUrl,
    appSecret: SECRET,
    appId: APP_ID,
    onStored: async (ids) => {
      storedCalls.push(ids);
      await onStoredImpl(ids);
    },
    ...overrides,
  };
  const app = createApp({ ...ctx, log, metrics, redis, extraRoutes: (a) => a.use(hubspotWebhookRouter(deps)) });
  server.on('request', app);
  return {
    baseUrl,
    metrics,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** HubSpot's recipe, computed here independently of src/crm/hubspot/webhook-signature.ts. */
function sign(uri: string, body: string, timestamp: number, secret = SECRET): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`POST${uri}${body}${timestamp}`, 'utf8').digest('base64');
  return { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) };
}

interface Res {
  status: number;
  body: any;
}

/** node:http rather than fetch, so that the Host header can be set to anything. */
function post(baseUrl: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<Res> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed delivery of `events` (as HubSpot would send them) to the main server. */
function deliver(events: unknown[] | string, opts: { server?: TestServer; path?: string; timestamp?: number; secret?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const server = opts.server ?? main;
  const path = opts.path ?? PATH;
  const body = typeof events === 'string' ? events : JSON.stringify(events);
  return post(server.baseUrl, path, body, { ...sign(`${server.baseUrl}${path}`, body, opts.timestamp ?? Date.now(), opts.secret), ...(opts.headers ?? {}) });
}

let eventSeq = 5_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
function hsEvent(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const eventId = eventSeq++;
  return {
    eventId,
    subscriptionId: 2000001,
    portalId: Number(PORTAL),
    appId: Number(APP_ID),
    occurredAt: Date.now(),
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 30000000000 + (eventId % 1000),
    propertyName: 'dealstage',
    propertyValue: 'closedwon',
    changeSource: 'CRM_UI',
    sourceId: 'userId:7',
    ...extra,
  };
}

interface Row {
  id: string;
  connection_id: string;
  event_key: string;
  object_type: string;
  object_id: string;
  change: string;
  payload: CrmChangeEvent;
}
async function inboxRows(): Promise<Row[]> {
  return prisma.$queryRawUnsafe<Row[]>('SELECT id::text, connection_id::text, event_key, object_type, object_id, change, payload FROM inbox_events ORDER BY id');
}

async function newConnection(externalAccountId: string, extra: { status?: 'active' | 'parked' | 'disconnected'; settings?: Record<string, unknown>; workspaceId?: string } = {}): Promise<string> {
  const c = await prisma.crmConnection.create({
    data: {
      workspaceId: extra.workspaceId ?? workspaceId,
      crm: 'hubspot',
      externalAccountId,
      status: extra.status ?? 'active',
      authType: 'private_app',
      createdBy: 'test',
      settings: (extra.settings ?? {}) as object,
    },
    select: { id: true },
  });
  return c.id;
}

async function metricValue(m: Metrics, result: string): Promise<number> {
  const v = (await m.webhookEvents.get()).values.find((x) => x.labels.result === result && x.labels.crm === 'hubspot');
  return v?.value ?? 0;
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 10);
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null });
  ctx = { prisma, clock: () => new Date(), log: silentLogger(), metrics: createMetrics() };
  ({ workspaceId } = await createWorkspace(ctx, { name: `webhooks-${randomBytes(3).toString('hex')}` }));
  connectionId = await newConnection(PORTAL);
  main = await startServer();
});

afterAll(async () => {
  await main?.close();
  redis?.disconnect();
  await prisma?.$disconnect();
  await db?.drop();
});

beforeEach(async () => {
  await prisma.$executeRawUnsafe('DELETE FROM inbox_events');
  storedCalls = [];
  onStoredImpl = () => undefined;
  logLines.length = 0;
});

describe('POST /webhooks/hubspot', () => {
  it('stores a correctly signed batch, one inbox row per event, and tells onStored which connection got rows', async () => {
    const events = [
      hsEvent({ subscriptionType: 'deal.creation', objectId: 30000000101, changeFlag: 'CREATED', propertyName: undefined, propertyValue: undefined }),
      hsEvent({ objectId: 30000000101, propertyName: 'dealname', propertyValue: 'Acme expansion' }),
      hsEvent({ subscriptionType: 'company.propertyChange', objectId: 20000000001, propertyName: 'domain', propertyValue: 'acme.com' }),
    ];
    const res = await deliver(events);
    expect(res).toEqual({ status: 200, body: { received: 3, stored: 3, duplicates: 0, echoes: 0, ignored: 0 } });
    const rows = await inboxRows();
    expect(rows.map((r) => [r.connection_id, r.event_key, r.object_type, r.object_id, r.change])).toEqual([
      [connectionId, String(events[0]!.eventId), 'opportunity', '30000000101', 'created'],
      [connectionId, String(events[1]!.eventId), 'opportunity', '30000000101', 'updated'],
      [connectionId, String(events[2]!.eventId), 'account', '20000000001', 'updated'],
    ]);
    expect(rows[1]!.payload).toEqual({
      eventKey: String(events[1]!.eventId),
      object: 'opportunity',
      externalId: '30000000101',
      change: 'updated',
      changedFields: ['dealname'],
      origin: { kind: 'user', userId: '7' },
      occurredAt: new Date(events[1]!.occurredAt as number).toISOString(),
    });
    await waitFor(() => storedCalls.length === 1);
    expect(storedCalls).toEqual([[connectionId]]);
    expect(await metricValue(main.metrics, 'stored')).toBeGreaterThanOrEqual(3);
  });

  it('stores each event exactly once when the same batch arrives three times, concurrently and shuffled', async () => {
    const events = Array.from({ length: 60 }, (_, i) => hsEvent({ objectId: 30000000200 + (i % 7), propertyName: `prop_${i}` }));
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    const reversed = [...events].reverse();
    const results = await Promise.all([deliver(events), deliver(shuffled), deliver(reversed)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.reduce((n, r) => n + (r.body.stored as number), 0)).toBe(60);
    expect(results.reduce((n, r) => n + (r.body.duplicates as number), 0)).toBe(120);
    // And once more, split in out-of-order halves.
    const late = [await deliver(shuffled.slice(30)), await deliver(shuffled.slice(0, 30))];
    expect(late.map((r) => r.body)).toEqual([
      { received: 30, stored: 0, duplicates: 30, echoes: 0, ignored: 0 },
      { received: 30, stored: 0, duplicates: 30, echoes: 0, ignored: 0 },
    ]);
    const rows = await inboxRows();
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(new Set(events.map((e) => String(e.eventId))));
    // Only deliveries that stored something nudge the consumer.
    await waitFor(() => storedCalls.length >= 1);
    expect(storedCalls.length).toBeLessThanOrEqual(3);
  });

  it('a duplicated event inside one batch is stored once', async () => {
    const e = hsEvent();
    const res = await deliver([e, e, { ...e, attemptNumber: 1 }]);
    expect(res.body).toEqual({ received: 3, stored: 1, duplicates: 2, echoes: 0, ignored: 0 });
    expect(await inboxRows()).toHaveLength(1);
  });

  it('refuses a forged signature with 401 INVALID_SIGNATURE, stores nothing, and logs why without the secret or the signature', async () => {
    const events = [hsEvent()];
    const body = JSON.stringify(events);
    const forged = sign(`${main.baseUrl}${PATH}`, body, Date.now(), 'not-the-secret');
    const res = await post(main.baseUrl, PATH, body, forged);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'INVALID_SIGNATURE', message: expect.any(String) } });
    // A tampered body under a genuine signature is refused the same way.
    const genuine = sign(`${main.baseUrl}${PATH}`, body, Date.now());
    const tampered = await post(main.baseUrl, PATH, body.replace('closedwon', 'closedlost'), genuine);
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await inboxRows()).toEqual([]);
    expect(storedCalls).toEqual([]);
    const refusals = logLines.filter((l) => l.msg === 'webhook refused');
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ code: 'INVALID_SIGNATURE', reason: 'mismatch', uri: `${main.baseUrl}${PATH}` });
    const logged = JSON.stringify(logLines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(forged['x-hubspot-signature-v3']);
    expect(logged).not.toContain(genuine['x-hubspot-signature-v3']);
    expect(await metricValue(main.metrics, 'rejected')).toBeGreaterThanOrEqual(2);
  });

  it('refuses a request without signature headers with 401 INVALID_SIGNATURE', async () => {
    const body = JSON.stringify([hsEvent()]);
    const none = await post(main.baseUrl, PATH, body, {});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('INVALID_SIGNATURE');
    const noTimestamp = await post(main.baseUrl, PATH, body, { 'x-hubspot-signature-v3': sign(`${main.baseUrl}${PATH}`, body, Date.now())['x-hubspot-signature-v3']! });
    expect(noTimestamp.status).toBe(401);
    expect(logLines.filter((l) => l.msg === 'webhook refused').map((l) => l.reason)).toEqual(['missing', 'missing']);
    expect(await inboxRows()).toEqual([]);
  });

  it('refuses a stale (or far-future) timestamp with 401 STALE_SIGNATURE and stores nothing, even when the signature is genuine', async () => {
    const events = [hsEvent()];
    const old = await deliver(events, { timestamp: Date.now() - 6 * 60_000 });
    expect(old.status).toBe(401);
    expect(old.body).toEqual({ error: { code: 'STALE_SIGNATURE', message: expect.any(String) } });
    const future = await deliver(events, { timestamp: Date.now() + 6 * 60_000 });
    expect(future.status).toBe(401);
    expect(future.body.error.code).toBe('STALE_SIGNATURE');
    expect(await inboxRows()).toEqual([]);
    expect(logLines.filter((l) => l.msg === 'webhook refused')).toEqual([
      expect.objectContaining({ code: 'STALE_SIGNATURE', reason: 'stale', timestampSkewMs: expect.any(Number) }),
      expect.objectContaining({ code: 'STALE_SIGNATURE', reason: 'stale' }),
    ]);
    // The same events, freshly signed (HubSpot's retry), are accepted.
    expect((await deliver(events)).body.stored).toBe(1);
  });

  it('drops our own echoes (INTEGRATION or API with our app id) without storing them, and counts them', async () => {
    const before = await metricValue(main.metrics, 'echo');
    const events = [
      hsEvent({ changeSource: 'INTEGRATION', sourceId: APP_ID }),
      hsEvent({ changeSource: 'API', sourceId: APP_ID }),
      hsEvent({ changeSource: 'INTEGRATION', sourceId: '999999' }),
      hsEvent({ changeSource: 'CRM_UI', sourceId: 'userId:7' }),
    ];
    const res = await deliver(events);
    expect(res.body).toEqual({ received: 4, stored: 2, duplicates: 0, echoes: 2, ignored: 0 });
    const rows = await inboxRows();
    expect(rows.map((r) => r.payload.origin)).toEqual([{ kind: 'other', source: 'INTEGRATION' }, { kind: 'user', userId: '7' }]);
    expect((await metricValue(main.metrics, 'echo')) - before).toBe(2);
  });

  it('treats a private app’s writes as echoes for its own connection only (settings.appId)', async () => {
    const privatePortal = '40000077';
    const privateConn = await newConnection(privatePortal, { settings: { appId: 555001 } });
    const res = await deliver([
      hsEvent({ portalId: Number(privatePortal), changeSource: 'INTEGRATION', sourceId: '555001' }),
      hsEvent({ portalId: Number(privatePortal), changeSource: 'INTEGRATION', sourceId: APP_ID }),
      hsEvent({ portalId: Number(PORTAL), changeSource: 'INTEGRATION', sourceId: '555001' }),
    ]);
    expect(res.body).toEqual({ received: 3, stored: 1, duplicates: 0, echoes: 2, ignored: 0 });
    const rows = await inboxRows();
    expect(rows.map((r) => [r.connection_id, r.payload.origin])).toEqual([[connectionId, { kind: 'other', source: 'INTEGRATION' }]]);
    await prisma.crmConnection.delete({ where: { id: privateConn } });
  });

  it('answers 200 for portals without an active connection and stores nothing for them', async () => {
    const parkedPortal = '40000088';
    const parked = await newConnection(parkedPortal, { status: 'parked' });
    const res = await deliver([hsEvent({ portalId: 49999999 }), hsEvent({ portalId: Number(parkedPortal) }), hsEvent({ subscriptionType: 'contact.creation', objectId: 1 })]);
    expect(res).toEqual({ status: 200, body: { received: 3, stored: 0, duplicates: 0, echoes: 0, ignored: 3 } });
    expect(await inboxRows()).toEqual([]);
    expect(storedCalls).toEqual([]);
    expect(logLines).toContainEqual(expect.objectContaining({ portalIds: expect.arrayContaining(['49999999', parkedPortal]) }));
    await prisma.crmConnection.delete({ where: { id: parked } });
  });

  it('stores one row per connection when a portal is connected to several workspaces', async () => {
    const other = await createWorkspace(ctx, { name: `second-${randomBytes(3).toString('hex')}` });
    const second = await newConnection(PORTAL, { workspaceId: other.workspaceId });
    const events = [hsEvent(), hsEvent()];
    const res = await deliver(events);
    expect(res.body).toEqual({ received: 2, stored: 4, duplicates: 0, echoes: 0, ignored: 0 });
    const rows = await inboxRows();
    expect(new Set(rows.map((r) => r.connection_id))).toEqual(new Set([connectionId, second]));
    await waitFor(() => storedCalls.length === 1);
    expect(new Set(storedCalls[0])).toEqual(new Set([connectionId, second]));
    expect((await deliver(events)).body).toEqual({ received: 2, stored: 0, duplicates: 4, echoes: 0, ignored: 0 });
    await prisma.crmConnection.delete({ where: { id: second } });
  });

  it('answers 400 INVALID_WEBHOOK_BODY for a correctly signed but malformed body, storing nothing', async () => {
    const notJson = await deliver('[{"eventId": 1,');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ error: { code: 'INVALID_WEBHOOK_BODY', message: 'The body is not valid JSON.' } });
    const notArray = await deliver(JSON.stringify({ events: [hsEvent()] }));
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.code).toBe('INVALID_WEBHOOK_BODY');
    const wrongTypes = await deliver([hsEvent(), { ...hsEvent(), eventId: 'abc', occurredAt: 'yesterday' }]);
    expect(wrongTypes.status).toBe(400);
    expect(wrongTypes.body.error).toMatchObject({ code: 'INVALID_WEBHOOK_BODY', details: { issues: expect.arrayContaining([expect.objectContaining({ path: '1.eventId' })]) } });
    expect(await inboxRows()).toEqual([]);
  });

  it('verifies against publicBaseUrl, never the Host header: a signature over a spoofed host is refused', async () => {
    const body = JSON.stringify([hsEvent()]);
    const spoofedUri = `http://evil.example${PATH}`;
    const res = await post(main.baseUrl, PATH, body, { ...sign(spoofedUri, body, Date.now()), host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await inboxRows()).toEqual([]);
    // A genuine signature over the public URL is accepted whatever the Host header says.
    const ok = await post(main.baseUrl, PATH, body, { ...sign(`${main.baseUrl}${PATH}`, body, Date.now()), host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    expect(ok.status).toBe(200);
    expect(ok.body.stored).toBe(1);
  });

  it('accepts a target URL whose query carries escapes HubSpot decodes before signing', async () => {
    const path = `${PATH}?tenant=a%3Ab%2Fc&x=%28y%29`;
    const body = JSON.stringify([hsEvent()]);
    const decoded = `${main.baseUrl}${PATH}?tenant=a:b/c&x=(y)`;
    const res = await post(main.baseUrl, path, body, sign(decoded, body, Date.now()));
    expect(res.status).toBe(200);
    expect(res.body.stored).toBe(1);
  });

  it('answers 503 WEBHOOKS_NOT_CONFIGURED when no client secret is configured, storing nothing', async () => {
    const unconfigured = await startServer({ appSecret: undefined });
    try {
      const res = await deliver([hsEvent()], { server: unconfigured });
      expect(res).toEqual({ status: 503, body: { error: { code: 'WEBHOOKS_NOT_CONFIGURED', message: 'set HUBSPOT_CLIENT_SECRET' } } });
      expect(await inboxRows()).toEqual([]);
    } finally {
      await unconfigured.close();
    }
  });

  it('still answers 200 when onStored fails, and logs it', async () => {
    onStoredImpl = () => {
      throw new Error('redis is down');
    };
    const res = await deliver([hsEvent()]);
    expect(res.status).toBe(200);
    expect(res.body.stored).toBe(1);
    await waitFor(() => logLines.some((l) => l.msg === 'inbox nudge failed; the pending-inbox sweep will pick the rows up'));
    expect(await inboxRows()).toHaveLength(1);
  });

  it('refuses a body over 1 MB with 413', async () => {
    const big = JSON.stringify([{ ...hsEvent(), propertyValue: 'x'.repeat(1_100_000) }]);
    const res = await deliver(big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await inboxRows()).toEqual([]);
  });

  it('acknowledges a 100-event batch with one SELECT and one INSERT', async () => {
    const pool = sqlPool(prisma);
    const spy = jest.spyOn(pool, 'query');
    try {
      const events = Array.from({ length: 100 }, (_, j) => hsEvent({ objectId: 30000000900 + j, propertyName: `p${j}` }));
      const res = await deliver(events);
      expect(res.body.stored).toBe(100);
      const sql = spy.mock.calls.map((c) => {
        const q = c[0] as unknown as string | { text: string };
        return (typeof q === 'string' ? q : q.text).trim().replace(/\s+/g, ' ');
      });
      expect(sql).toEqual([expect.stringMatching(/^SELECT .* FROM crm_connections /), expect.stringMatching(/^INSERT INTO inbox_events /)]);
    } finally {
      spy.mockRestore();
    }
  });

  it('acknowledges 100-event batches fast (measured; the bound is loose so a busy machine does not flake)', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 60; i++) {
      const events = Array.from({ length: 100 }, (_, j) => hsEvent({ objectId: 30000001000 + j, propertyName: `p${j}` }));
      const body = JSON.stringify(events);
      const headers = sign(`${main.baseUrl}${PATH}`, body, Date.now());
      const t0 = process.hrtime.bigint();
      const res = await post(main.baseUrl, PATH, body, headers);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      expect(res.body.stored).toBe(100);
    }
    const sorted = samples.slice(10).sort((a, b) => a - b); // the first requests warm up plans and JIT
    const p50 = sorted[Math.floor(sorted.length * 0.5)]!;
    // Target: p99 < 50 ms on a quiet machine (measured p50 11 ms, p99 35 ms on 2 busy cores).
    expect(p50).toBeLessThan(200);
  });
});

describe('the HubSpot sandbox delivering for real', () => {
  let sandbox: HubspotSandbox;
  let server: TestServer;
  let portal: PortalCreated;

  beforeAll(async () => {
    sandbox = createHubspotSandbox({ webhookDispatchIntervalMs: 20 });
    await sandbox.listen(0);
    server = await startServer();
    const res = await fetch(`${sandbox.baseUrl}/_sandbox/portals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        portalId: Number(PORTAL),
        appId: Number(APP_ID),
        clientSecret: SECRET,
        webhookTargetUrl: `${server.baseUrl}${PATH}`,
        webhookRetry: { initialDelayMs: 20, maxDelayMs: 100 },
        // At least once and out of order: every delivered batch comes once more, batches are shuffled.
        webhookChaos: { duplicateProbability: 1, shuffle: true, seed: 7 },
      }),
    });
    expect(res.status).toBe(201);
    portal = (await res.json()) as PortalCreated;
  });

  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  const flush = async () => {
    const r = await fetch(`${sandbox.baseUrl}/_sandbox/portals/${PORTAL}/webhooks/flush`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs: 10_000 }) });
    expect(((await r.json()) as { drained: boolean }).drained).toBe(true);
  };

  it('accepts the sandbox’s signed deliveries: a deal created by user 7 lands once per event, our own update does not land', async () => {
    const created = await fetch(`${sandbox.baseUrl}/crm/v3/objects/deals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sandbox-actor': 'user:7', 'x-sandbox-portal-id': PORTAL },
      body: JSON.stringify({ properties: { dealname: 'Made in the UI', amount: '1200' } }),
    });
    expect(created.status).toBe(201);
    const deal = (await created.json()) as { id: string };
    // dealreg's own write (the integration's token): comes back as an echo.
    const ours = await fetch(`${sandbox.baseUrl}/crm/v3/objects/deals/${deal.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${portal.accessToken}` },
      body: JSON.stringify({ properties: { amount: '1300' } }),
    });
    expect(ours.status).toBe(200);
    await flush();

    const deliveries = (await (await fetch(`${sandbox.baseUrl}/_sandbox/portals/${PORTAL}/webhook-deliveries`)).json()) as {
      results: { status: number; duplicate: boolean; eventIds: number[]; events: { changeSource: string; eventId: number }[] }[];
    };
    expect(deliveries.results.length).toBeGreaterThan(0);
    expect(deliveries.results.every((d) => d.status === 200)).toBe(true);
    expect(deliveries.results.some((d) => d.duplicate)).toBe(true);
    const sent = deliveries.results.flatMap((d) => d.events);
    const uiEventIds = new Set(sent.filter((e) => e.changeSource === 'CRM_UI').map((e) => String(e.eventId)));
    expect(sent.some((e) => e.changeSource === 'INTEGRATION')).toBe(true);

    const rows = await inboxRows();
    expect(rows.length).toBe(uiEventIds.size);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(uiEventIds);
    expect(rows.every((r) => r.connection_id === connectionId && r.object_id === deal.id && r.object_type === 'opportunity')).toBe(true);
    expect(rows.every((r) => r.payload.origin.kind === 'user' && r.payload.origin.userId === '7')).toBe(true);
    expect(rows.map((r) => r.change)).toContain('created');
    expect(rows.flatMap((r) => r.payload.changedFields)).toEqual(expect.arrayContaining(['dealname', 'amount']));
    expect(await metricValue(server.metrics, 'echo')).toBeGreaterThan(0);
    expect(await metricValue(server.metrics, 'duplicate')).toBeGreaterThan(0);
    expect(await metricValue(server.metrics, 'rejected')).toBe(0);
  });
});

describe('inbox repository', () => {
  const change = (eventKey: string, extra: Partial<CrmChangeEvent> = {}): CrmChangeEvent => ({
    eventKey,
    object: 'opportunity',
    externalId: '301',
    change: 'updated',
    changedFields: ['amount'],
    origin: { kind: 'user', userId: '7' },
    occurredAt: '2026-11-23T10:00:00.000Z',
    ...extra,
  });

  it('inserts in one statement, counting duplicates (also within the batch) and naming the connections with new rows', async () => {
    const other = await newConnection('40000123');
    const first = await insertInboxEvents(prisma, [
      { connectionId, event: change('a') },
      { connectionId, event: change('b') },
      { connectionId: other, event: change('a') },
      { connectionId, event: change('a') },
    ]);
    expect(first.stored).toBe(3);
    expect(first.duplicates).toBe(1);
    expect(new Set(first.connectionIds)).toEqual(new Set([connectionId, other]));
    const again = await insertInboxEvents(prisma, [{ connectionId, event: change('b') }, { connectionId, event: change('c') }]);
    expect(again).toEqual({ stored: 1, duplicates: 1, connectionIds: [connectionId] });
    expect(await insertInboxEvents(prisma, [])).toEqual({ stored: 0, duplicates: 0, connectionIds: [] });
    await prisma.crmConnection.delete({ where: { id: other } });
  });

  it('concurrent inserts of the same rows in different orders neither deadlock nor store anything twice', async () => {
    for (let round = 0; round < 25; round++) {
      const keys = Array.from({ length: 100 }, (_, i) => `r${round}-${i}`);
      const orders = [keys, [...keys].reverse(), [...keys].sort(() => Math.random() - 0.5), [...keys].sort(() => Math.random() - 0.5)];
      const results = await Promise.all(orders.map((o) => insertInboxEvents(prisma, o.map((k) => ({ connectionId, event: change(k) })))));
      expect(results.reduce((n, r) => n + r.stored, 0)).toBe(100);
      expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(300);
    }
    expect(await inboxRows()).toHaveLength(2500);
  });

  it('claims the oldest pending rows of one connection with their payload, marks them, and forgets processed ones', async () => {
    const other = await newConnection('40000124');
    const merged = change('m', { change: 'merged', merge: { survivorId: '301', mergedIds: ['302'] } });
    await insertInboxEvents(prisma, [{ connectionId, event: change('1') }, { connectionId, event: change('2') }, { connectionId: other, event: change('x') }]);
    await insertInboxEvents(prisma, [{ connectionId, event: merged }]);

    const firstTwo = await claimPendingInbox(prisma, connectionId, 2);
    expect(firstTwo.map((r) => r.eventKey)).toEqual(['1', '2']);
    expect(firstTwo[0]).toEqual({ id: expect.any(BigInt), connectionId, eventKey: '1', receivedAt: expect.any(Date), attempts: 1, event: change('1') });
    expect(firstTwo[0]!.id < firstTwo[1]!.id).toBe(true);
    expect(new Set(await connectionsWithPendingInbox(prisma))).toEqual(new Set([connectionId, other]));

    expect(await markInboxProcessed(prisma, firstTwo.map((r) => r.id), 'applied')).toBe(2);
    const rest = await claimPendingInbox(prisma, connectionId, 10);
    expect(rest.map((r) => r.event)).toEqual([merged]);
    expect(await markInboxProcessed(prisma, rest.map((r) => r.id), 'echo')).toBe(1);
    expect(await claimPendingInbox(prisma, connectionId, 10)).toEqual([]);
    expect(await connectionsWithPendingInbox(prisma)).toEqual([other]);

    // An unprocessed row claimed again counts its attempts.
    expect((await claimPendingInbox(prisma, other, 10))[0]!.attempts).toBe(1);
    expect((await claimPendingInbox(prisma, other, 10))[0]!.attempts).toBe(2);

    const outcomes = await prisma.$queryRawUnsafe<{ event_key: string; outcome: string | null; processed: boolean }[]>(
      'SELECT event_key, outcome, processed_at IS NOT NULL AS processed FROM inbox_events ORDER BY id',
    );
    expect(outcomes).toEqual([
      { event_key: '1', outcome: 'applied', processed: true },
      { event_key: '2', outcome: 'applied', processed: true },
      { event_key: 'x', outcome: null, processed: false },
      { event_key: 'm', outcome: 'echo', processed: true },
    ]);
    await expect(markInboxProcessed(prisma, [1n], 'bogus' as never)).rejects.toThrow(/unknown inbox outcome/);
    expect(await markInboxProcessed(prisma, [], 'failed')).toBe(0);
    await prisma.crmConnection.delete({ where: { id: other } });
  });

  it('cleanup deletes processed rows received before the date, keeps pending ones, and dedupe holds for what is kept', async () => {
    const old = new Date('2026-01-01T00:00:00.000Z');
    await insertInboxEvents(prisma, [{ connectionId, event: change('old-done') }, { connectionId, event: change('old-pending') }], { receivedAt: old });
    await insertInboxEvents(prisma, [{ connectionId, event: change('new-done') }], { receivedAt: new Date('2026-03-01T00:00:00.000Z') });
    const claimed = await claimPendingInbox(prisma, connectionId, 10);
    await markInboxProcessed(prisma, claimed.filter((r) => r.eventKey !== 'old-pending').map((r) => r.id), 'applied');

    expect(await deleteProcessedInboxBefore(prisma, new Date('2026-02-01T00:00:00.000Z'), { chunk: 1 })).toBe(1);
    const left = (await inboxRows()).map((r) => r.event_key);
    expect(left).toEqual(['old-pending', 'new-done']);
    expect(await insertInboxEvents(prisma, [{ connectionId, event: change('new-done') }, { connectionId, event: change('old-pending') }])).toMatchObject({ stored: 0, duplicates: 2 });
  });
});
