// Small helpers shared by the benchmarks: figures, flags, progress lines, and the processes they run
// (`dealreg sandbox`, `dealreg serve`) with plain JSON calls to them.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../src/data/migrate';

const ROOT = path.resolve(__dirname, '..', '..');

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** `--name value` flags with numeric defaults. */
export function parseArgs<T extends Record<string, number>>(argv: string[], defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const name = a.slice(2);
    if (!(name in defaults)) throw new Error(`unknown option ${a} (known: ${Object.keys(defaults).map((k) => `--${k}`).join(', ')})`);
    const v = Number(argv[++i]);
    if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
    out[name] = v;
  }
  return out as T;
}

export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Runs a benchmark when its file is executed directly: prints the JSON result, exit code 0 / 1. */
export function runAsScript<T>(fn: () => Promise<T>): void {
  fn().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/**
 * Runs the dealreg CLI from source as a child process. BENCH_LOG=<file>: `serve`'s logs (at
 * BENCH_LOG_LEVEL, default debug) go there, for finding where time goes.
 */
export function cliProcess(args: string[], env: Record<string, string>): ChildProcess {
  // `--import tsx` (not only the CommonJS hook): the CLI loads some commands with a dynamic import().
  const argv = ['--import', 'tsx', path.join(ROOT, 'src', 'cli.ts'), ...args];
  if (process.env.BENCH_LOG && args[0] === 'serve') {
    const fd = openSync(process.env.BENCH_LOG, 'w');
    return spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'debug' }, stdio: ['ignore', fd, 'inherit'] });
  }
  return spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function stopProcess(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    c.once('exit', () => r());
    c.kill('SIGTERM');
  });
}

/** Waits (up to 30 s) until `url` answers below 500. */
export async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

export async function json(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Inserts `n` approved registrations straight into the database ('Bench Company <g>', domain
 * bench-<g>.com, amount 1000 + g): the outbound benchmarks measure the sync, not the API.
 */
export async function insertApprovedRegistrations(db: Client, workspaceId: string, partnerId: string, n: number): Promise<void> {
  await db.query(
    `INSERT INTO registrations (id, workspace_id, partner_id, status, source, company_name, company_name_key, company_domain,
       contact_name, contact_email, amount_value, amount_currency, verdict, evidence, policy_version, protection_starts_at, protection_ends_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, $2, 'approved', 'api', 'Bench Company ' || g, 'bench company ' || g, 'bench-' || g || '.com', 'Buyer', 'buyer@bench-' || g || '.com',
       1000 + g, 'USD', '{"outcome":"approve","reasons":[],"policyVersion":1}', '{}', 1, now(), now() + interval '90 days', now(), now()
     FROM generate_series(0, $3 - 1) g`,
    [workspaceId, partnerId, n],
  );
}

/**
 * Links every registration of the workspace to the connection (as a connect would) and waits, with a
 * progress line per 1,000, until all of them are in the CRM. Answers the seconds it took.
 */
export async function linkAndWaitForPush(db: Client, o: { connectionId: string; workspaceId: string; crm: string; n: number; what: string; onStart?: () => void }): Promise<number> {
  const start = Date.now();
  o.onStart?.();
  await db.query(
    `INSERT INTO crm_links (connection_id, registration_id, workspace_id, crm, wanted_version, updated_at)
     SELECT $1, id, workspace_id, $3, version, now() FROM registrations WHERE workspace_id = $2 ON CONFLICT DO NOTHING`,
    [o.connectionId, o.workspaceId, o.crm],
  );
  let last = 0;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM crm_links WHERE connection_id = $1 AND pushed_version >= wanted_version AND external_id IS NOT NULL`, [o.connectionId]);
    const done = Number(rows[0]!.n);
    if (done - last >= 1000 || done === o.n) {
      progress(`  ${done.toLocaleString()} / ${o.n.toLocaleString()} ${o.what} after ${((Date.now() - start) / 1000).toFixed(1)} s`);
      last = done;
    }
    if (done >= o.n) return (Date.now() - start) / 1000;
    if (Date.now() - start > 10 * 60_000) throw new Error(`only ${done} ${o.what} after 10 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Drops and recreates the benchmark's own database on BENCH_DATABASE_URL's server, migrated; answers its URL. */
export async function freshBenchDatabase(name: string): Promise<string> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  await migrate(u.toString());
  return u.toString();
}
