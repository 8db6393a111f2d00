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
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
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
      await db.query('ANALYZE');

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
      const checkLatency = await load(agent, port, '/v1/registrations/check', batch(checkBody), args['latency-concurrency']);
      const checkPeak = await load(agent, port, '/v1/registrations/check', batch(checkBody), args.concurrency);
      const createLatency = await load(agent, port, '/v1/registrations', batch(createBody), args['latency-concurrency']);
      const createPeak = await load(agent, port, '/v1/registrations', batch(createBody), args.concurrency);
      const check = figures(checkLatency, checkPeak);
      const create = { ...figures(createLatency, createPeak), outcomes: merge(createLatency.outcomes, createPeak.outcomes) };
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM registrations');
      results.push({ accounts: target, registrations: Number(rows[0]!.n), check, create });
      const r = results[results.length - 1]!;
      progress(
        `${target.toLocaleString()} accounts: check p50 ${r.check.p50.toFixed(1)} ms p99 ${r.check.p99.toFixed(1)} ms, peak ${r.check.perSecond.toFixed(0)}/s; ` +
          `create p50 ${r.create.p50.toFixed(1)} ms p99 ${r.create.p99.toFixed(1)} ms, peak ${r.create.perSecond.toFixed(0)}/s`,
      );
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
