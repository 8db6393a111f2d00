// The CRM cards' data endpoints under load: GET /cards/hubspot/view (signed with signature v3, as
// `hubspot.fetch` sends it) and GET /cards/salesforce/view (the Named Credential's card secret and the
// user headers the Apex controller sends), with 100,000 registrations linked to deals / Opportunities.
// Goal: p99 under 100 ms.
//
//   npx tsx scripts/bench/cards-bench.ts [--registrations 100000] [--requests 2000] [--concurrency 4]
//
// `dealreg serve` runs as its own process (API + workers, as deployed); this process seeds the database
// directly (registrations, two CRM connections and their links: the card reads no CRM) and sends the
// requests over keep-alive HTTP, a random linked record each time. Results: stdout and
// bench-results/cards.json.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createPrisma } from '../../src/data/prisma';
import { freePort } from '../../src/data/embedded-postgres';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { encrypt } from '../../src/lib/crypto';
import { toId18 } from '../../src/crm/salesforce/salesforce-ids';
import { cliProcess, freshBenchDatabase, insertApprovedRegistrations, json, parseArgs, percentile, progress, runAsScript, stopProcess, waitHttp } from './bench-support';

const ROOT = path.resolve(__dirname, '..', '..');
const APP = { appId: 3_000_999, clientSecret: 'bench-cards-secret-0123456789abcdef' };
const PORTAL_ID = '880001';
const ORG_ID = '00D8d00000BenchAAA';

interface Figures {
  requests: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perSecond: number;
  errors: number;
  kinds: Record<string, number>;
}

export async function runCardsBench(argv: string[] = process.argv.slice(2)) {
  const args = parseArgs(argv, { registrations: 100_000, requests: 2000, concurrency: 4 });
  const dbUrl = await freshBenchDatabase('dealreg_bench_cards');

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const key = randomBytes(32);
  const api = cliProcess(['serve'], {
    DATABASE_URL: dbUrl,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: apiUrl,
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `benchcards${apiPort}`,
    NODE_ENV: 'production',
    ENCRYPTION_KEY: key.toString('hex'),
    HUBSPOT_APP_ID: String(APP.appId),
    HUBSPOT_CLIENT_SECRET: APP.clientSecret,
    // No CRM is reachable: nothing here calls one, and the sweep must not try.
    HUBSPOT_API_BASE_URL: 'http://127.0.0.1:9',
    SALESFORCE_LOGIN_URL: 'http://127.0.0.1:9',
    CRM_SWEEP_MS: '600000',
    CRM_RECONCILE_MS: '86400000',
  });
  const prisma = createPrisma(dbUrl, 4);
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  try {
    await waitHttp(`${apiUrl}/healthz`);
    const { workspaceId, adminToken } = await createWorkspace({ prisma, clock: () => new Date(), log: createLogger({ level: 'silent' }), metrics: createMetrics() }, { name: 'bench-cards' });
    const auth = { authorization: `Bearer ${adminToken}` };
    const partner = await json('POST', `${apiUrl}/v1/partners`, { name: 'Bench Partner', type: 'reseller', tier: 'gold', contact: { name: 'Pat Partner', email: 'pat@bench-partner.test' } }, auth);
    const partnerId = partner.body.partner.id as string;
    progress(`seeding ${args.registrations.toLocaleString()} registrations, two connections and their links`);
    await insertApprovedRegistrations(db, workspaceId, partnerId, args.registrations);
    const connections: Record<'hubspot' | 'salesforce', string> = { hubspot: '', salesforce: '' };
    for (const [crm, account] of [['hubspot', PORTAL_ID], ['salesforce', ORG_ID]] as const) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO crm_connections (id, workspace_id, crm, external_account_id, auth_type, access_token_enc, settings, status, backfill, created_by, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, 'private_app', $4, $5, 'active', '{"state":"done"}', 'bench', now()) RETURNING id`,
        [workspaceId, crm, account, encrypt('not-a-real-token', key), JSON.stringify(crm === 'salesforce' ? { instanceUrl: 'http://127.0.0.1:9', userId: '0058d00000BenchAAA' } : { appId: String(APP.appId) })],
      );
      connections[crm] = rows[0]!.id;
      await db.query(
        `INSERT INTO crm_links (connection_id, registration_id, workspace_id, crm, external_id, state, wanted_version, pushed_version, updated_at)
         SELECT $1, r.id, r.workspace_id, $2, x.external_id, 'synced', r.version, r.version, now()
         FROM (SELECT id, workspace_id, version, row_number() OVER (ORDER BY id) AS n FROM registrations WHERE workspace_id = $3) r
         JOIN unnest($4::text[]) WITH ORDINALITY AS x(external_id, n) ON x.n = r.n`,
        [connections[crm], crm, workspaceId, Array.from({ length: args.registrations }, (_, i) => recordId(crm, i + 1))],
      );
    }
    await db.query('VACUUM ANALYZE');
    await db.query('CHECKPOINT');
    const cardSecret = await json('POST', `${apiUrl}/v1/connections/${connections.salesforce}/card-secret`, {}, auth);
    if (cardSecret.status !== 201) throw new Error(`card secret: ${cardSecret.status} ${JSON.stringify(cardSecret.body)}`);
    const secret = cardSecret.body.cardSecret as string;
    // Approvers in both CRMs (the view lists their actions: the full path of the card).
    for (const body of [{ crm: 'hubspot', crmUserId: '701', role: 'partner_manager', name: 'Pat Manager' }, { crm: 'salesforce', crmUserId: '0058d00000BenchAAA', role: 'partner_manager' }]) {
      const r = await json('PUT', `${apiUrl}/v1/crm-users`, body, auth);
      if (r.status >= 300) throw new Error(`crm user: ${r.status} ${JSON.stringify(r.body)}`);
    }

    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const get = (url: string, headers: Record<string, string>) =>
      new Promise<{ status: number; kind: string }>((resolve, reject) => {
        const req = http.request(url, { method: 'GET', agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let kind = 'unparsed';
            try {
              kind = (JSON.parse(text) as { kind?: string; error?: { code: string } }).kind ?? (JSON.parse(text) as { error?: { code: string } }).error?.code ?? 'unknown';
            } catch {
              /* counted as unparsed */
            }
            resolve({ status: res.statusCode ?? 0, kind });
          });
        });
        req.on('error', reject);
        req.end();
      });
    const n = args.registrations;
    const pick = (crm: 'hubspot' | 'salesforce') => recordId(crm, 1 + Math.floor(Math.random() * n));
    const hubspotRequest = () => {
      const query = new URLSearchParams({ dealId: pick('hubspot'), userId: '701', userEmail: 'pat.manager@bench.test', portalId: PORTAL_ID, appId: String(APP.appId) });
      const url = `${apiUrl}/cards/hubspot/view?${query.toString()}`;
      const ts = String(Date.now());
      // HubSpot signs the URI with some escapes decoded (%40 among them), as the verifier expects.
      const signature = createHmac('sha256', APP.clientSecret).update(`GET${url.replace(/%40/g, '@')}${ts}`).digest('base64');
      return get(url, { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': ts });
    };
    const salesforceRequest = () =>
      get(`${apiUrl}/cards/salesforce/view?opportunityId=${pick('salesforce')}`, {
        authorization: `Bearer ${secret}`,
        'x-dealreg-user-id': '0058d00000BenchAAA',
        'x-dealreg-user-email': 'pat.manager@bench.test',
        'x-dealreg-user-name': 'Pat Manager',
        'x-dealreg-can-approve': 'true',
      });

    const measure = async (what: string, send: () => Promise<{ status: number; kind: string }>): Promise<Figures> => {
      for (let i = 0; i < 200; i++) await send(); // warm-up: JIT, pool connections, plan caches
      const times: number[] = [];
      const kinds: Record<string, number> = {};
      let errors = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: args.concurrency }, async () => {
          for (;;) {
            if (next++ >= args.requests) return;
            const t = performance.now();
            const r = await send();
            times.push(performance.now() - t);
            kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
            if (r.status !== 200) errors++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      times.sort((a, b) => a - b);
      const f = { requests: times.length, concurrency: args.concurrency, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), maxMs: round(times[times.length - 1] ?? 0), perSecond: Math.round(times.length / seconds), errors, kinds };
      progress(`${what}: p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, ${f.perSecond}/s, ${errors} errors (${JSON.stringify(kinds)})`);
      return f;
    };
    const hubspot = await measure('GET /cards/hubspot/view', hubspotRequest);
    const salesforce = await measure('GET /cards/salesforce/view', salesforceRequest);
    agent.destroy();
    const result = { bench: 'cards', registrations: n, goalP99Ms: 100, hubspot, salesforce };
    mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench-results', 'cards.json'), JSON.stringify({ at: new Date().toISOString(), args, ...result }, null, 2));
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await stopProcess(api);
    await prisma.$disconnect();
  }
}

/** The n-th linked record: a numeric HubSpot deal id, or an 18-character Salesforce Opportunity id (as the card sends it). */
function recordId(crm: 'hubspot' | 'salesforce', n: number): string {
  return crm === 'hubspot' ? `1${String(n).padStart(9, '0')}` : toId18(`0068d0${String(n).padStart(9, '0')}`)!;
}

const round = (x: number) => Math.round(x * 10) / 10;

if (require.main === module) runAsScript(() => runCardsBench());
