// Composition root: config → logger → database, Redis → HTTP and/or workers. SIGTERM drains and closes.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config';
import { createPrisma, type PrismaClient } from './data/prisma';
import { createLogger, type Logger } from './lib/logger';
import { createMetrics, type Metrics } from './lib/metrics';
import { createApp } from './http/app';
import { startJobRuntime, type JobRuntime } from './jobs/runtime';
import type { UseCaseContext } from './use-cases/context';
import { pendingMigrations } from './data/migrate';
import { decodeKey } from './config';
import type { CrmServices, CrmSettings } from './crm/crm-services';
import { hubspotConnector } from './crm/hubspot/hubspot-connector';
import { salesforceConnector } from './crm/salesforce/salesforce-connector';
import { crmRefsFor } from './data/repositories/crm-links';
import type { CrmLinkLookup } from './http/routes/registrations';

export type Role = 'all' | 'api' | 'worker';

export interface Service {
  ctx: UseCaseContext;
  redis: Redis;
  jobs: JobRuntime;
  server: http.Server | null;
  port: number | null;
  close(): Promise<void>;
}

export class StartupError extends Error {}

/** A Redis connection suitable for BullMQ, with a fast, clear failure when Redis is not there. */
export async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 3000, retryStrategy: (n) => Math.min(n * 200, 2000) });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection problem'));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new StartupError(
      `Redis is not reachable at ${redactUrl(url)} (${err instanceof Error ? err.message : String(err)}).\n` +
        `Start one (e.g. \`redis-server --daemonize yes\`) or point REDIS_URL at yours.`,
    );
  }
  return redis;
}

export async function checkDatabase(prisma: PrismaClient, url: string): Promise<void> {
  try {
    await prisma.$queryRaw`SELECT 1`;
  } catch (err) {
    throw new StartupError(`PostgreSQL is not reachable at ${redactUrl(url)} (${err instanceof Error ? err.message : String(err)}). Check DATABASE_URL.`);
  }
  const pending = await pendingMigrations(url);
  if (pending.length > 0) {
    throw new StartupError(`The database is missing ${pending.length} migration(s) (${pending.join(', ')}). Run \`npx dealreg migrate\` first.`);
  }
}

export function crmSettings(config: Config): CrmSettings {
  return {
    publicBaseUrl: config.PUBLIC_BASE_URL,
    hubspot: {
      apiBaseUrl: config.HUBSPOT_API_BASE_URL,
      appBaseUrl: config.HUBSPOT_APP_BASE_URL,
      appId: config.HUBSPOT_APP_ID,
      clientId: config.HUBSPOT_CLIENT_ID,
      clientSecret: config.HUBSPOT_CLIENT_SECRET,
      requestsPerSecond: config.HUBSPOT_REQUESTS_PER_SECOND,
      searchesPerSecond: config.HUBSPOT_SEARCHES_PER_SECOND,
    },
    salesforce: {
      loginUrl: config.SALESFORCE_LOGIN_URL,
      apiVersion: config.SALESFORCE_API_VERSION,
      clientId: config.SALESFORCE_CLIENT_ID,
      clientSecret: config.SALESFORCE_CLIENT_SECRET,
      jwtPrivateKey: config.SALESFORCE_JWT_PRIVATE_KEY_FILE ? readPrivateKey(config.SALESFORCE_JWT_PRIVATE_KEY_FILE) : undefined,
      requestsPerSecond: config.SALESFORCE_REQUESTS_PER_SECOND,
      apiBudgetPercent: config.SALESFORCE_API_BUDGET_PERCENT,
      feedWaitMs: config.SALESFORCE_FEED_WAIT_MS,
    },
    reconcileMs: config.CRM_RECONCILE_MS,
    describeCacheMs: 10 * 60_000,
  };
}

function readPrivateKey(path: string): string {
  try {
    const pem = readFileSync(path, 'utf8');
    if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) throw new Error('no PEM private key in it');
    return pem;
  } catch (err) {
    throw new StartupError(`SALESFORCE_JWT_PRIVATE_KEY_FILE (${path}) cannot be used: ${(err as Error).message}`);
  }
}

/** The registration JSON's `crm` field: { hubspot: { dealId }, salesforce: { opportunityId } }. */
export function crmLinkLookup(prisma: PrismaClient): CrmLinkLookup {
  return async (ids) => {
    const refs = await crmRefsFor(prisma, ids);
    const out = new Map<string, Record<string, unknown>>();
    for (const [id, r] of refs) {
      out.set(id, { ...(r.hubspot ? { hubspot: { dealId: r.hubspot } } : {}), ...(r.salesforce ? { salesforce: { opportunityId: r.salesforce } } : {}) });
    }
    return out;
  };
}

/**
 * CRM connections on /readyz. A parked connection (its credentials died) is reported with its reason but
 * does not make the process unready: one tenant's revoked token must not take the API down for all.
 */
export function crmReadiness(s: CrmServices) {
  return {
    name: 'crm-connections',
    check: async () => {
      const rows = await s.ctx.prisma.crmConnection.findMany({ where: { status: { in: ['active', 'parked'] } }, select: { id: true, crm: true, externalAccountId: true, status: true, statusReason: true, workspaceId: true } });
      const parked = rows.filter((r) => r.status === 'parked');
      return { ok: true, detail: { active: rows.length - parked.length, parked: parked.map((p) => ({ connectionId: p.id, workspaceId: p.workspaceId, crm: p.crm, externalAccountId: p.externalAccountId, reason: p.statusReason })) } };
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export interface StartOptions {
  role: Role;
  log?: Logger;
  metrics?: Metrics;
  clock?: () => Date;
  /** Listen on config.PORT (default true for api/all). Port 0 picks a free port. */
  listen?: boolean;
}

export async function startService(config: Config, opts: StartOptions): Promise<Service> {
  const log = opts.log ?? createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  if (!config.DATABASE_URL) throw new StartupError('DATABASE_URL is not set. `npx dealreg demo` runs without one; `serve` needs a PostgreSQL.');
  const prisma = createPrisma(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  await checkDatabase(prisma, config.DATABASE_URL).catch(async (err: unknown) => {
    await prisma.$disconnect();
    throw err;
  });
  const redis = await connectRedis(config.REDIS_URL, log).catch(async (err: unknown) => {
    await prisma.$disconnect();
    throw err;
  });
  const metrics = opts.metrics ?? createMetrics({ defaultMetrics: true });
  let nudge: (() => void) | undefined;
  const ctx: UseCaseContext = {
    prisma,
    clock: opts.clock ?? (() => new Date()),
    log,
    metrics,
    outboxWritten: () => nudge?.(),
  };
  const key = config.ENCRYPTION_KEY ? decodeKey(config.ENCRYPTION_KEY) : null;
  if (!key) log.warn('ENCRYPTION_KEY is not set: CRM connections cannot be made (their tokens are encrypted at rest)');
  const jobs = await startJobRuntime(ctx, {
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    outboxPollMs: config.OUTBOX_POLL_MS,
    protectionSweepMs: config.PROTECTION_SWEEP_MS,
    work: opts.role !== 'api',
    crm: {
      build: (crmJobs): CrmServices => ({ ctx, redis, prefix: config.QUEUE_PREFIX, key, settings: crmSettings(config), connectors: { hubspot: hubspotConnector(), salesforce: salesforceConnector() }, jobs: crmJobs }),
      sweepMs: config.CRM_SWEEP_MS,
    },
  });
  // API-only processes leave dispatching to the workers (they poll); in-process, nudge after each commit.
  if (opts.role !== 'api') nudge = () => jobs.dispatcher.nudge();

  let server: http.Server | null = null;
  let port: number | null = null;
  if (opts.role !== 'worker' && opts.listen !== false) {
    const app = createApp({
      ...ctx,
      redis,
      bodyLimit: config.BODY_LIMIT,
      crm: jobs.crm,
      crmLinks: crmLinkLookup(prisma),
      readiness: jobs.crm ? [crmReadiness(jobs.crm)] : [],
    });
    server = http.createServer(app);
    server.keepAliveTimeout = 65_000;
    port = await new Promise<number>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, config.HOST, () => {
        const a = server!.address();
        resolve(typeof a === 'object' && a ? a.port : config.PORT);
      });
    });
    log.info({ port, role: opts.role }, 'dealreg API listening');
  }
  if (opts.role !== 'api') log.info({ role: opts.role, prefix: config.QUEUE_PREFIX }, 'dealreg workers running');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      if (server) {
        await new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeIdleConnections();
        });
      }
      await jobs.close();
      await redis.quit().catch(() => redis.disconnect());
      await prisma.$disconnect();
    })();
    return closing;
  };
  return { ctx, redis, jobs, server, port, close };
}

/** SIGTERM / SIGINT: stop taking work, finish what is in flight (up to the grace period), exit. */
export function installShutdown(service: Service, log: Logger, graceSeconds: number): void {
  let shuttingDown = false;
  const onSignal = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal, graceSeconds }, 'shutting down: draining requests and jobs');
    const force = setTimeout(() => {
      log.error({ graceSeconds }, 'grace period over; exiting with work in flight (jobs will be retried)');
      process.exit(1);
    }, graceSeconds * 1000);
    force.unref();
    service.close().then(
      () => {
        log.info('shut down cleanly');
        log.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}
