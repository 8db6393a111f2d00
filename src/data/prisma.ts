// Prisma client over the pg driver adapter (Prisma 7: no native query engine). The pg Pool is ours, so
// the few hot-path queries that need a cached plan can run as named prepared statements on it.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export { PrismaClient };
export type { Prisma } from '../generated/prisma/client';

const pools = new WeakMap<object, pg.Pool>();

export function createPrisma(databaseUrl: string, poolSize = 10): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  pool.on('error', () => undefined); // idle-client errors (server restart): the next query reconnects
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(prisma, pool);
  return prisma;
}

/** The pg Pool under a client made by createPrisma (for named prepared statements). */
export function sqlPool(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('this PrismaClient was not made by createPrisma()');
  return pool;
}

/** The pg Pool under a client made by createPrisma, or undefined (e.g. for a transaction client). */
export function poolOf(db: object): pg.Pool | undefined {
  return pools.get(db);
}

/** A Prisma transaction client (what `$transaction(async (tx) => ...)` hands you). */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
export type Db = PrismaClient | Tx;
