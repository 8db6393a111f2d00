// An in-process dealreg for component tests: its own database, its own Redis key prefix, the API on
// port 0, optional workers. Every test talks to real PostgreSQL and Redis.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createPrisma, type PrismaClient } from '../../src/data/prisma';
import { createApp } from '../../src/http/app';
import { createMetrics } from '../../src/lib/metrics';
import { silentLogger } from '../../src/lib/logger';
import { startJobRuntime, type JobRuntime } from '../../src/jobs/runtime';
import type { UseCaseContext } from '../../src/use-cases/context';
import { createWorkspace } from '../../src/use-cases/workspaces';
import type { CrmServices, CrmSettings } from '../../src/crm/crm-services';
import { hubspotConnector } from '../../src/crm/hubspot/hubspot-connector';
import { salesforceConnector } from '../../src/crm/salesforce/salesforce-connector';
import { crmLinkLookup, crmReadiness } from '../../src/main';
import { createTestDatabase, type TestDatabase } from './db';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Harness {
  db: TestDatabase;
  prisma: PrismaClient;
  redis: Redis;
  ctx: UseCaseContext;
  prefix: string;
  baseUrl: string;
  jobs: JobRuntime | null;
  /** The CRM services (when started with `crm`). */
  crm: CrmServices | null;
  /** A fake clock (`now`), or with `realClock` the wall clock plus `offsetMs` (advanceDays moves both). */
  clock: { now: Date; offsetMs: number; set(d: Date | string): void; advanceDays(n: number): void };
  api: ApiClient;
  close(): Promise<void>;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiClient {
  request<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  get<T = any>(path: string, token?: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  put<T = any>(path: string, token: string | undefined, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, token: string | undefined, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string, token: string | undefined): Promise<ApiResponse<T>>;
}

export function apiClient(baseUrl: string): ApiClient {
  const request = async (method: string, path: string, opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: body as any, headers: res.headers };
  };
  return {
    request,
    get: (p, token) => request('GET', p, { token }),
    post: (p, token, body, headers) => request('POST', p, { token, body, headers }),
    put: (p, token, body) => request('PUT', p, { token, body }),
    patch: (p, token, body) => request('PATCH', p, { token, body }),
    delete: (p, token) => request('DELETE', p, { token }),
  };
}

/** A fixed test encryption key (tests only). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7);

export interface HarnessCrmOptions {
  hubspot?: Partial<CrmSettings['hubspot']>;
  salesforce?: Partial<CrmSettings['salesforce']>;
  /** Defaults to the harness's own base URL (so that webhook signatures match). */
  publicBaseUrl?: string;
  reconcileMs?: number;
  sweepMs?: number;
  /** Leave the encryption key unset (to test the refusal). */
  noKey?: boolean;
}

export async function startHarness(opts: { withJobs?: boolean; start?: string; outboxPollMs?: number; realClock?: boolean; crm?: HarnessCrmOptions } = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const prisma = createPrisma(db.url, 20);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const clock = {
    now: new Date(opts.start ?? '2026-06-01T12:00:00.000Z'),
    offsetMs: 0,
    set(d: Date | string) {
      this.now = new Date(d);
    },
    advanceDays(n: number) {
      this.now = new Date(this.now.getTime() + n * 86_400_000);
      this.offsetMs += n * 86_400_000;
    },
  };
  let nudge: (() => void) | undefined;
  const ctx: UseCaseContext = { prisma, clock: opts.realClock ? () => new Date(Date.now() + clock.offsetMs) : () => clock.now, log: silentLogger(), metrics: createMetrics(), outboxWritten: () => nudge?.() };
  let jobs: JobRuntime | null = null;
  // The port is needed before the CRM services exist (webhook signatures are computed over the public URL).
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const crmOpts = opts.crm;
  if (opts.withJobs || crmOpts) {
    jobs = await startJobRuntime(ctx, {
      connection: redis,
      prefix,
      outboxPollMs: opts.outboxPollMs ?? 50,
      protectionSweepMs: 3_600_000,
      work: opts.withJobs ?? false,
      ...(crmOpts
        ? {
            crm: {
              build: (crmJobs): CrmServices => ({
                ctx,
                redis,
                prefix,
                key: crmOpts.noKey ? null : TEST_ENCRYPTION_KEY,
                settings: {
                  publicBaseUrl: crmOpts.publicBaseUrl ?? baseUrl,
                  hubspot: { apiBaseUrl: 'https://api.hubapi.com', appBaseUrl: 'https://app.hubspot.com', requestsPerSecond: 10, searchesPerSecond: 4, ...crmOpts.hubspot },
                  salesforce: { loginUrl: 'https://login.salesforce.com', apiVersion: '66.0', requestsPerSecond: 50, apiBudgetPercent: 100, feedWaitMs: 0, ...crmOpts.salesforce },
                  reconcileMs: crmOpts.reconcileMs ?? 3_600_000,
                  describeCacheMs: 60_000,
                },
                connectors: { hubspot: hubspotConnector(), salesforce: salesforceConnector() },
                jobs: crmJobs,
              }),
              sweepMs: crmOpts.sweepMs ?? 500,
            },
          }
        : {}),
    });
    if (opts.withJobs) nudge = () => jobs!.dispatcher.nudge();
  }
  const app = createApp({ ...ctx, redis, crm: jobs?.crm ?? null, crmLinks: crmLinkLookup(prisma), readiness: jobs?.crm ? [crmReadiness(jobs.crm)] : [] });
  server.on('request', app);
  return {
    db,
    prisma,
    redis,
    ctx,
    prefix,
    baseUrl,
    jobs,
    crm: jobs?.crm ?? null,
    clock,
    api: apiClient(baseUrl),
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await jobs?.close();
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A workspace with an admin, a partner manager, a revops token and partners, created through the API. */
export async function seedWorkspace(h: Harness, partners: { name: string; type?: string; tier?: string }[] = [{ name: 'Northwind Resellers' }]) {
  const { workspaceId, adminToken } = await createWorkspace(h.ctx, { name: `ws-${randomBytes(3).toString('hex')}` });
  const pm = await h.api.post('/v1/staff-tokens', adminToken, { role: 'partner_manager', name: 'Pat Manager' });
  const revops = await h.api.post('/v1/staff-tokens', adminToken, { role: 'revops', name: 'Rey Ops' });
  const made: { id: string; apiKey: string; name: string }[] = [];
  for (const p of partners) {
    const res = await h.api.post('/v1/partners', adminToken, { name: p.name, type: p.type ?? 'reseller', tier: p.tier ?? 'silver' });
    if (res.status !== 201) throw new Error(`partner create failed: ${res.status} ${JSON.stringify(res.body)}`);
    made.push({ id: res.body.partner.id, apiKey: res.body.apiKey, name: p.name });
  }
  return { workspaceId, adminToken, pmToken: pm.body.token as string, revopsToken: revops.body.token as string, partners: made };
}

export const registrationBody = (domain: string, name = 'Acme Inc.', extra: Record<string, unknown> = {}) => ({
  company: { name, domain },
  contact: { name: 'Jane Buyer', email: `jane@${domain.replace(/^https?:\/\//, '').split('/')[0]}` },
  ...extra,
});
