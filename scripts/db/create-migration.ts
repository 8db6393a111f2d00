// Creates a new Prisma migration (prisma/migrations/<timestamp>_<name>/migration.sql) by diffing the
// existing migrations against prisma/schema.prisma with Prisma's WebAssembly schema engine — the same
// engine `prisma migrate dev` uses, without its native binary (which cannot be downloaded here).
// A temporary shadow database on the DATABASE_URL server replays the existing migrations.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx scripts/db/create-migration.ts add_things
//
// Custom SQL Prisma cannot express (triggers, partial indexes) goes into
// prisma/sql/<name>.sql and is appended to the migration created with that name.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const root = path.resolve(__dirname, '..', '..');

/** The engine package is ESM that imports its .wasm directly; instantiate it by hand so Node 20 can load it. */
async function loadSchemaEngine(): Promise<any> {
  const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bg: any = await import(bgPath);
  const bytes = readFileSync(path.join(path.dirname(bgPath), 'schema_engine_bg.wasm'));
  const { instance } = await (globalThis as any).WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports as any).__wbindgen_start?.();
  return bg.SchemaEngine;
}
const schemaPath = path.join(root, 'prisma', 'schema.prisma');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const filters = { externalTables: [], externalEnums: [] };

function migrationsList() {
  mkdirSync(migrationsDir, { recursive: true });
  const dirs = readdirSync(migrationsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const lock = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lock) ? readFileSync(lock, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: withoutCustomSql(readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8')) } },
    })),
  };
}

/**
 * The engine replays migrations into the shadow database by splitting them on ';', which breaks on
 * function bodies ($$ … ; … $$). The custom tail of a migration (prisma/sql: triggers, partial indexes,
 * storage settings) is invisible to schema.prisma, so the diff is the same without it: leave it out.
 */
const CUSTOM_SQL_MARKER = '\n-- Custom SQL (prisma/sql/';
function withoutCustomSql(sql: string): string {
  const i = sql.indexOf(CUSTOM_SQL_MARKER);
  return i === -1 ? sql : `${sql.slice(0, i)}\n`;
}

/**
 * Introspection reads catalog columns of PostgreSQL's one-byte "char" type (oid 18), which
 * @prisma/adapter-pg 7.10 does not map ("Column type 'char' could not be deserialized"). pg already hands
 * such values over as strings: report them as text (oid 25).
 */
function charAsText<T>(conn: T): T {
  const c = conn as unknown as { performIO: (q: unknown) => Promise<{ fields: { dataTypeID: number }[] }> };
  const io = c.performIO.bind(c);
  c.performIO = async (q) => {
    const r = await io(q);
    for (const f of r.fields) if (f.dataTypeID === 18) f.dataTypeID = 25;
    return r;
  };
  return conn;
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error('usage: create-migration.ts <snake_case_name>');
  const baseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const shadowName = `dealreg_shadow_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${shadowName}`);
  try {
    const shadowUrl = new URL(baseUrl);
    shadowUrl.pathname = `/${shadowName}`;
    const shadow = new PrismaPg({ connectionString: shadowUrl.toString() });
    const factory = bindMigrationAwareSqlAdapterFactory({
      provider: shadow.provider,
      adapterName: shadow.adapterName,
      connect: () => shadow.connect().then(charAsText),
      connectToShadowDb: () => shadow.connect().then(charAsText),
    } as never);
    const SchemaEngine = await loadSchemaEngine();
    const engine = await SchemaEngine.new({ datamodels: undefined }, () => undefined, factory);
    const list = migrationsList();
    const from = list.migrationDirectories.length > 0 ? { tag: 'migrations' as const, ...list } : { tag: 'empty' as const };
    const res = await engine.diff({
      from: from as never,
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }] } as never,
      script: true,
      exitCode: null,
      filters,
    } as never);
    let sql = ((res as { stdout?: string }).stdout ?? '').trim();
    const custom = path.join(root, 'prisma', 'sql', `${name}.sql`);
    if (existsSync(custom)) sql += `\n${CUSTOM_SQL_MARKER}${name}.sql)\n${readFileSync(custom, 'utf8').trim()}`;
    if (!sql || sql === '-- This is an empty migration.') {
      console.log('schema.prisma matches the migrations: nothing to create.');
      return;
    }
    const dir = path.join(migrationsDir, `${stamp()}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'migration.sql'), `${sql}\n`);
    const lock = path.join(migrationsDir, 'migration_lock.toml');
    if (!existsSync(lock)) {
      writeFileSync(lock, '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n');
    }
    console.log(`created ${path.relative(root, dir)}/migration.sql (${sql.split('\n').length} lines)`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${shadowName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
