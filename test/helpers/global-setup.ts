// Runs once per jest project that needs PostgreSQL: checks the services and builds the migrated template.
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { ADMIN_URL, ensureTemplate } from './db';

export default async function globalSetup(): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`Tests need PostgreSQL at ${ADMIN_URL} (${(err as Error).message}). .ci/run starts it; or set TEST_DATABASE_URL.`);
  } finally {
    await c.end().catch(() => undefined);
  }
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`Tests need Redis at ${redisUrl} (${(err as Error).message}). .ci/run starts it; or set TEST_REDIS_URL.`);
  } finally {
    r.disconnect();
  }
  await ensureTemplate();
}
