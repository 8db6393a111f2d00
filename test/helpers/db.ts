// Each test file gets its own PostgreSQL database, cloned from a migrated template (fast, isolated).
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { migrate, findMigrationsDir } from '../../src/data/migrate';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export function templateName(): string {
  const dir = findMigrationsDir(path.resolve(__dirname, '..', '..', 'src', 'data'));
  const h = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.toml')) continue;
    h.update(name).update(readFileSync(path.join(dir, name, 'migration.sql')));
  }
  return `dealreg_tpl_${h.digest('hex').slice(0, 12)}`;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates the migrated template once per migrations content (idempotent, safe across parallel projects). */
export async function ensureTemplate(): Promise<string> {
  const name = templateName();
  await admin(async (c) => {
    await c.query('SELECT pg_advisory_lock(4242001)');
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) return;
      const building = `${name}_building`;
      await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${building}`);
      await migrate(urlFor(building));
      await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      // Templates of older migration sets are no longer needed.
      const old = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'dealreg_tpl_%' AND datname <> $1 AND datname NOT LIKE '%_building'`, [name]);
      for (const r of old.rows) await c.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`).catch(() => undefined);
    } finally {
      await c.query('SELECT pg_advisory_unlock(4242001)');
    }
  });
  return name;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `dealreg_t_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: urlFor(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
