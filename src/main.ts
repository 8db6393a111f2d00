// Composition root: config → logger → database, Redis → HTTP and/or workers. SIGTERM drains and closes.
import http from 'node:http';
import { Redis } from 'ioredis';
import type { Config } from './config';
import { createPrisma, type PrismaClient } from './data/prisma';
import { createLogger, type Logger } from './lib/logger';
import { createMetrics, type Metrics } from './lib/metrics';
import { createApp } from './http/app';
import { startJobRuntime, type JobRuntime } from './jobs/runtime';
import type { UseCaseContext } from './use-cases/context';
import { pendingMigrations } from './data/migrate';

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
  const jobs = await startJobRuntime(ctx, {
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    outboxPollMs: config.OUTBOX_POLL_MS,
    protectionSweepMs: config.PROTECTION_SWEEP_MS,
    work: opts.role !== 'api',
  });
  // API-only processes leave dispatching to the workers (they poll); in-process, nudge after each commit.
  if (opts.role !== 'api') nudge = () => jobs.dispatcher.nudge();

  let server: http.Server | null = null;
  let port: number | null = null;
  if (opts.role !== 'worker' && opts.listen !== false) {
    const app = createApp({ ...ctx, redis, bodyLimit: config.BODY_LIMIT });
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
