// Applies prisma/migrations/<name>/migration.sql folders in order and records them in
// `_prisma_migrations` exactly as Prisma does, so `prisma migrate deploy` / `status` keep working
// wherever Prisma's native engine is available. Safe to run from several processes at once
// (advisory lock) and idempotent. Refuses to continue past a failed or edited migration.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';

const LOCK_ID = 72707369; // arbitrary, constant: "dealreg migrations"

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export function findMigrationsDir(start = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate) && existsSync(path.join(dir, 'package.json'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`prisma/migrations not found above ${start}`);
}

export async function migrate(
  databaseUrl: string,
  opts: { migrationsDir?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const dir = opts.migrationsDir ?? findMigrationsDir();
  const log = opts.log ?? (() => undefined);
  const names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed.length > 0) {
      throw new Error(
        `migration ${failed.map((f) => f.migration_name).join(', ')} failed earlier and was not resolved; fix the database, then mark it rolled back (prisma migrate resolve --rolled-back <name>) or delete its row from _prisma_migrations`,
      );
    }
    const applied = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r.checksum]));
    const done: string[] = [];
    for (const name of names) {
      const bytes = readFileSync(path.join(dir, name, 'migration.sql'));
      const checksum = createHash('sha256').update(bytes).digest('hex');
      const previous = applied.get(name);
      if (previous !== undefined) {
        if (previous !== checksum) throw new Error(`migration ${name} was edited after it was applied (checksum differs); add a new migration instead`);
        continue;
      }
      const id = randomUUID();
      log(`applying ${name}`);
      await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [id, checksum, name]);
      try {
        await client.query('BEGIN');
        await client.query(bytes.toString('utf8'));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
        throw new Error(`migration ${name} failed: ${message}`);
      }
      await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
      done.push(name);
    }
    return { applied: done, alreadyApplied: applied.size };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    await client.end();
  }
}

/** Migration folders not yet applied to this database (empty when up to date). */
export async function pendingMigrations(databaseUrl: string, migrationsDir = findMigrationsDir()): Promise<string[]> {
  const names = readdirSync(migrationsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('_prisma_migrations')::text AS t`);
    if (!exists.rows[0]?.t) return names;
    const { rows } = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return names.filter((n) => !applied.has(n));
  } finally {
    await client.end();
  }
}
