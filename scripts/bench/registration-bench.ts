// Registration hot path under load: POST /v1/registrations/check and POST /v1/registrations against an
// account mirror of 10k → 100k → 1M accounts and 100,000 existing registrations.
//
//   npx tsx scripts/bench/registration-bench.ts [--max-accounts 1000000] [--requests 3000] [--concurrency 32] [--latency-concurrency 4]
//
// Latency (p50, p99) is measured under light load (4 requests in flight), throughput at saturation
// (32 in flight): a closed-loop test at saturation only measures queueing, not the service.
//
// The API runs as its own process (`dealreg serve`, API + workers, as deployed), the load comes from
// this process over keep-alive HTTP. Results: stdout and bench-results/registration.json.
//
// Fair conditions (so that the figures describe the service, not the bench's own set-up):
// - After each bulk seed the tables are VACUUMed (ANALYZE alone leaves a million never-vacuumed rows:
//   no visibility map, no hint bits; a live database is autovacuumed, and some servers, like this
//   project's CI machine, run with autovacuum off) and a CHECKPOINT flushes the seed's dirty pages:
//   otherwise the checkpoints that the seed's WAL triggers run during the measurement, and every page
//   first touched after them costs a full-page image in the WAL of the registrations being measured.
// - Before the first phase the server is warmed up (JIT, pool connections) with 1,000 checks and 300
//   registrations that are not counted (a live server is not measured in its first second).
// - Each phase records `diagnostics`: CPU used by the server, the load generator, PostgreSQL and other
//   processes (the load generator shares the machine's cores with the service), WAL bytes and full-page
//   images per request, pages read and dirty pages written by backends (shared_buffers too small for the
//   working set shows here), checkpoints during the measurement, and registrations per transaction.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { migrate } from '../../src/data/migrate';
import { createPrisma } from '../../src/data/prisma';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { generateSecret, hashSecret } from '../../src/lib/crypto';
import { freePort } from '../../src/data/embedded-postgres';
import { percentile, parseArgs, progress, runAsScript } from './bench-support';

const ROOT = path.resolve(__dirname, '..', '..');

interface Figures {
  /** Latency under light load (`--latency-concurrency` requests in flight). */
  p50: number;
  p99: number;
  /** Throughput at saturation (`--concurrency` requests in flight). */
  perSecond: number;
  n: number;
  errors: number;
}

interface PhaseResult {
  accounts: number;
  registrations: number;
  check: Figures;
  create: Figures & { outcomes: Record<string, number> };
  diagnostics: { check: Diagnostics; create: Diagnostics };
}

/** What the machine and the database did during one kind of load (latency and peak runs together). */
interface Diagnostics {
  /** CPU in % of one core, averaged over the runs (Linux /proc; null elsewhere). */
  /** `steal`: time the hypervisor ran something else on this machine's virtual CPUs. */
  cpu: { server: number; loadGenerator: number; postgres: number; redis: number; others: number; idle: number; steal: number } | null;
  walBytesPerRequest: number;
  fullPageImagesPerRequest: number;
  /** Checkpoints (timed or requested) that ran during the measurement. */
  checkpoints: number;
  /** Pages read into shared buffers (not found there), and dirty pages a backend had to write out itself to make room. */
  buffersReadPerRequest: number;
  buffersWrittenByBackendsPerRequest: number;
  /** Registrations per writing transaction (group commit; creates only). */
  registrationsPerTransaction?: number;
}

export async function runRegistrationBench(argv: string[] = process.argv.slice(2)): Promise<PhaseResult[]> {
  const args = parseArgs(argv, { 'max-accounts': 1_000_000, requests: 3000, concurrency: 32, 'latency-concurrency': 4, registrations: 100_000 });
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const dbName = 'dealreg_bench';
  const dbUrl = (() => {
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  await migrate(dbUrl);

  const prisma = createPrisma(dbUrl, 4);
  const ctx = { prisma, clock: () => new Date(), log: createLogger({ level: 'silent' }), metrics: createMetrics() };
  const { workspaceId } = await createWorkspace(ctx, { name: 'bench' });
  const db = new Client({ connectionString: dbUrl });
  await db.connect();

  // Partners (gold: no cap) with API keys.
  const keys: string[] = [];
  const partnerIds: string[] = [];
  for (let i = 0; i < 50; i++) {
    const p = await prisma.partner.create({ data: { workspaceId, name: `Bench Partner ${i}`, type: 'reseller', tier: 'gold' } });
    const key = generateSecret('drp');
    await prisma.partnerApiKey.create({ data: { workspaceId, partnerId: p.id, keyHash: hashSecret(key), keyPrefix: key.slice(0, 8) } });
    keys.push(key);
    partnerIds.push(p.id);
  }

  // 100,000 existing registrations (70% approved with a hold, the rest rejected / expired).
  progress(`seeding ${args.registrations.toLocaleString()} registrations`);
  await db.query(
    `INSERT INTO registrations (id, workspace_id, partner_id, status, source, company_name, company_name_key, company_domain,
       contact_name, contact_email, verdict, evidence, policy_version, protection_starts_at, protection_ends_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + g % 50],
       (CASE WHEN g % 10 < 7 THEN 'approved' WHEN g % 10 < 9 THEN 'rejected' ELSE 'expired' END)::"RegistrationStatus",
       'api', 'Registered Co ' || g, 'registered co ' || g, 'registered-' || g || '.com', 'Buyer', 'buyer@registered-' || g || '.com',
       '{"outcome":"approve","reasons":[],"policyVersion":1}', '{}', 1, now(), now() + interval '90 days', now(), now()
     FROM generate_series(1, $3) g`,
    [workspaceId, partnerIds, args.registrations],
  );
  await db.query(
    `INSERT INTO account_holds (workspace_id, domain, registration_id, partner_id, created_at)
     SELECT workspace_id, company_domain, id, partner_id, now() FROM registrations WHERE workspace_id = $1 AND status = 'approved'`,
    [workspaceId],
  );

  const port = await freePort();
  const server = startServer(dbUrl, port);
  const results: PhaseResult[] = [];
  try {
    await waitForHealth(port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency });
    let seeded = 0;
    let seq = 0;
    for (const target of [10_000, 100_000, 1_000_000].filter((n) => n <= args['max-accounts'])) {
      progress(`growing the account mirror to ${target.toLocaleString()} accounts`);
      await seedAccounts(db, workspaceId, seeded + 1, target);
      seeded = target;
      await settleAfterSeeding(db);
      if (target === 10_000) await warmUp(agent, port, keys, args.concurrency);

      // Checks: a mix of mirrored accounts (some direct-owned, some with open opportunities), registered domains and new ones.
      const checkBody = (i: number) => {
        const kind = i % 4;
        const n = 1 + ((i * 7919) % target);
        const domain = kind === 0 ? `company-${n}.com` : kind === 1 ? `registered-${1 + (i % args.registrations)}.com` : `fresh-${target}-${i}.com`;
        return { key: keys[i % keys.length]!, body: { company: { name: `Company ${n}`, domain } } };
      };
      // Creates: mostly new domains (approved), some colliding with mirrored accounts or existing registrations.
      const createBody = (i: number) => {
        seq++;
        const n = 1 + ((i * 104_729) % target);
        const domain = i % 10 === 0 ? `company-${n}.com` : i % 10 === 1 ? `registered-${1 + (i % args.registrations)}.com` : `new-${seq}.com`;
        return {
          key: keys[i % keys.length]!,
          body: { company: { name: `New Co ${seq}`, domain }, contact: { name: 'Buyer', email: `buyer@new-${seq}.com` }, amount: { value: 10_000, currency: 'USD' } },
        };
      };
      const batch = <T>(make: (i: number) => T) => Array.from({ length: args.requests }, (_, i) => make(i));
      const c0 = await snapshot(db, server.pid);
      const checkLatency = await load(agent, port, '/v1/registrations/check', batch(checkBody), args['latency-concurrency']);
      const checkPeak = await load(agent, port, '/v1/registrations/check', batch(checkBody), args.concurrency);
      const c1 = await snapshot(db, server.pid);
      const createLatency = await load(agent, port, '/v1/registrations', batch(createBody), args['latency-concurrency']);
      const createPeak = await load(agent, port, '/v1/registrations', batch(createBody), args.concurrency);
      const c2 = await snapshot(db, server.pid);
      const check = figures(checkLatency, checkPeak);
      const create = { ...figures(createLatency, createPeak), outcomes: merge(createLatency.outcomes, createPeak.outcomes) };
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM registrations');
      const diagnostics = { check: diagnose(c0, c1, 2 * args.requests), create: diagnose(c1, c2, 2 * args.requests) };
      const { rows: txRows } = await db.query<{ n: string; tx: string }>(
        'SELECT count(*) AS n, count(DISTINCT xmin::text) AS tx FROM registrations WHERE created_at >= $1',
        [c1.at],
      );
      const perTransaction = Number(txRows[0]!.n) / Math.max(1, Number(txRows[0]!.tx));
      results.push({ accounts: target, registrations: Number(rows[0]!.n), check, create, diagnostics: { ...diagnostics, create: { ...diagnostics.create, registrationsPerTransaction: perTransaction } } });
      const r = results[results.length - 1]!;
      progress(
        `${target.toLocaleString()} accounts: check p50 ${r.check.p50.toFixed(1)} ms p99 ${r.check.p99.toFixed(1)} ms, peak ${r.check.perSecond.toFixed(0)}/s; ` +
          `create p50 ${r.create.p50.toFixed(1)} ms p99 ${r.create.p99.toFixed(1)} ms, peak ${r.create.perSecond.toFixed(0)}/s`,
      );
      progress(`  ${describe('check', diagnostics.check)}`);
      progress(`  ${describe('create', r.diagnostics.create)}, ${perTransaction.toFixed(1)} registrations per transaction`);
    }
    agent.destroy();
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await db.end();
    await prisma.$disconnect();
  }
  mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench-results', 'registration.json'), JSON.stringify({ at: new Date().toISOString(), args, results }, null, 2));
  return results;
}

function startServer(dbUrl: string, port: number): ChildProcess {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src', 'cli.ts'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', QUEUE_PREFIX: `bench${port}`, DATABASE_POOL_SIZE: '20', NODE_ENV: 'production', ENCRYPTION_KEY: '0'.repeat(64) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitForHealth(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the API did not become ready');
}

async function seedAccounts(db: Client, ws: string, from: number, to: number): Promise<void> {
  const chunk = 100_000;
  for (let a = from; a <= to; a += chunk) {
    const b = Math.min(to, a + chunk - 1);
    await db.query(
      `WITH acc AS (
         INSERT INTO mirror_accounts (id, workspace_id, crm, external_id, name, name_key, country, owner_external_id, owner_name, owner_role, is_customer, synced_at)
         SELECT gen_random_uuid(), $1, 'hubspot', g::text, 'Company ' || g, 'company ' || g, 'US', 'owner-' || (g % 40), 'Rep ' || (g % 40),
                CASE WHEN g % 10 = 0 THEN 'direct' ELSE 'unknown' END, g % 25 = 0, now()
         FROM generate_series($2::int, $3::int) g
         RETURNING id, external_id)
       INSERT INTO mirror_account_domains (workspace_id, domain, account_id) SELECT $1, 'company-' || external_id || '.com', id FROM acc`,
      [ws, a, b],
    );
    await db.query(
      `INSERT INTO mirror_opportunities (id, workspace_id, crm, external_id, account_external_id, name, stage, is_closed, amount, synced_at)
       SELECT gen_random_uuid(), $1, 'hubspot', 'opp-' || g, g::text, 'Deal ' || g, 'qualifiedtobuy', false, 25000, now()
       FROM generate_series($2::int, $3::int) g WHERE g % 7 = 0`,
      [ws, a, b],
    );
    progress(`  accounts ${b.toLocaleString()} / ${to.toLocaleString()}`);
  }
}

/** VACUUM (ANALYZE) and CHECKPOINT after a bulk seed: see the top of this file. */
async function settleAfterSeeding(db: Client): Promise<void> {
  progress('  VACUUM (ANALYZE), CHECKPOINT');
  await db.query('VACUUM (ANALYZE)');
  await db.query('CHECKPOINT').catch((err: unknown) => progress(`  CHECKPOINT refused (${err instanceof Error ? err.message : String(err)}); measuring without it`));
}

/** The first requests of a fresh server pay for JIT compilation and for opening pool connections: not measured. */
async function warmUp(agent: http.Agent, port: number, keys: string[], concurrency: number): Promise<void> {
  progress('  warming the server up (1,000 checks and 300 registrations, not measured)');
  const checks = Array.from({ length: 1000 }, (_, i) => ({ key: keys[i % keys.length]!, body: { company: { name: `Warm Up ${i}`, domain: `warm-up-${i}.com` } } }));
  await load(agent, port, '/v1/registrations/check', checks, concurrency);
  const creates = Array.from({ length: 300 }, (_, i) => ({
    key: keys[i % keys.length]!,
    body: { company: { name: `Warm Up Co ${i}`, domain: `warm-up-co-${i}.com` }, contact: { name: 'Buyer', email: `buyer@warm-up-co-${i}.com` } },
  }));
  await load(agent, port, '/v1/registrations', creates, concurrency);
}

interface Snapshot {
  at: Date;
  /** CPU ticks (1/100 s) by process id, with the process's role; and the machine's idle and total ticks. */
  cpu: { procs: Map<number, { role: 'server' | 'loadGenerator' | 'postgres' | 'redis' | 'other'; ticks: number }>; idle: number; steal: number; total: number } | null;
  walBytes: number;
  fpi: number;
  checkpoints: number;
  buffersRead: number;
  buffersWrittenByBackends: number;
}

/** CPU ticks by process (Linux /proc) and PostgreSQL's WAL and checkpoint counters. */
async function snapshot(db: Client, serverPid: number | undefined): Promise<Snapshot> {
  const { rows } = await db.query<{ at: Date; wal_bytes: string; wal_fpi: string; checkpoints: string; blks_read: string; buffers_backend: string }>(
    `SELECT now() AS at, w.wal_bytes::text, w.wal_fpi::text, (b.checkpoints_timed + b.checkpoints_req)::text AS checkpoints,
            b.buffers_backend::text, (SELECT blks_read::text FROM pg_stat_database WHERE datname = current_database()) AS blks_read
     FROM pg_stat_wal w, pg_stat_bgwriter b`,
  );
  const r = rows[0]!;
  let cpu: Snapshot['cpu'] = null;
  try {
    const all = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const procs: NonNullable<Snapshot['cpu']>['procs'] = new Map();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const pid = Number(d);
        const role = pid === serverPid ? 'server' : pid === process.pid ? 'loadGenerator' : comm.startsWith('postgres') ? 'postgres' : comm.startsWith('redis') ? 'redis' : 'other';
        procs.set(pid, { role, ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        /* the process ended */
      }
    }
    cpu = { procs, idle: all[3]! + all[4]!, steal: all[7]!, total: all.reduce((x, y) => x + y, 0) };
  } catch {
    /* not Linux */
  }
  return {
    at: r.at,
    cpu,
    walBytes: Number(r.wal_bytes),
    fpi: Number(r.wal_fpi),
    checkpoints: Number(r.checkpoints),
    buffersRead: Number(r.blks_read),
    buffersWrittenByBackends: Number(r.buffers_backend),
  };
}

function diagnose(a: Snapshot, b: Snapshot, requests: number): Diagnostics {
  let cpu: Diagnostics['cpu'] = null;
  if (a.cpu && b.cpu) {
    const seconds = (b.at.getTime() - a.at.getTime()) / 1000;
    const used = { server: 0, loadGenerator: 0, postgres: 0, redis: 0, other: 0 };
    for (const [pid, p] of b.cpu.procs) used[p.role] += p.ticks - (a.cpu.procs.get(pid)?.ticks ?? 0);
    const pct = (ticks: number) => Math.round(ticks / seconds); // ticks are 1/100 s: per second = % of a core
    const steal = pct(b.cpu.steal - a.cpu.steal);
    const busy = pct(b.cpu.total - a.cpu.total - (b.cpu.idle - a.cpu.idle) - (b.cpu.steal - a.cpu.steal));
    const known = { server: pct(used.server), loadGenerator: pct(used.loadGenerator), postgres: pct(used.postgres), redis: pct(used.redis) };
    // Busy time not accounted to those four: other processes, kernel threads, processes that came and went.
    const others = Math.max(0, busy - known.server - known.loadGenerator - known.postgres - known.redis);
    cpu = { ...known, others, idle: pct(b.cpu.idle - a.cpu.idle), steal };
  }
  return {
    cpu,
    walBytesPerRequest: Math.round((b.walBytes - a.walBytes) / requests),
    fullPageImagesPerRequest: Math.round(((b.fpi - a.fpi) / requests) * 100) / 100,
    checkpoints: b.checkpoints - a.checkpoints,
    buffersReadPerRequest: Math.round(((b.buffersRead - a.buffersRead) / requests) * 100) / 100,
    buffersWrittenByBackendsPerRequest: Math.round(((b.buffersWrittenByBackends - a.buffersWrittenByBackends) / requests) * 100) / 100,
  };
}

function describe(what: string, d: Diagnostics): string {
  const cpu = d.cpu
    ? `cpu % of a core: server ${d.cpu.server}, load generator ${d.cpu.loadGenerator}, postgres ${d.cpu.postgres}, redis ${d.cpu.redis}, others ${d.cpu.others}, idle ${d.cpu.idle}, stolen by the host ${d.cpu.steal}`
    : 'cpu n/a';
  return `${what}: ${cpu}; WAL ${(d.walBytesPerRequest / 1024).toFixed(1)} kB and ${d.fullPageImagesPerRequest} full-page images per request; ${d.buffersReadPerRequest} pages read and ${d.buffersWrittenByBackendsPerRequest} written by backends per request; ${d.checkpoints} checkpoints`;
}

interface LoadResult {
  latencies: number[];
  errors: number;
  elapsedMs: number;
  outcomes: Record<string, number>;
}

async function load(agent: http.Agent, port: number, path: string, items: { key: string; body: unknown }[], concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      const payload = JSON.stringify(item.body);
      const t0 = performance.now();
      const { status, body } = await post(agent, port, path, item.key, payload);
      latencies.push(performance.now() - t0);
      if (status >= 400 && status !== 422) {
        errors++;
        if (errors <= 3) console.error(`  ${status} ${body.slice(0, 200)}`);
      } else if (path.endsWith('/registrations')) {
        const parsed = JSON.parse(body) as { status?: string };
        outcomes[parsed.status ?? String(status)] = (outcomes[parsed.status ?? String(status)] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, elapsedMs: performance.now() - started, outcomes };
}

function post(agent: http.Agent, port: number, path: string, key: string, payload: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function figures(light: LoadResult, peak: LoadResult): Figures {
  const sorted = [...light.latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    perSecond: (peak.latencies.length / peak.elapsedMs) * 1000,
    n: light.latencies.length + peak.latencies.length,
    errors: light.errors + peak.errors,
  };
}

function merge(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

if (require.main === module) runAsScript(() => runRegistrationBench());
