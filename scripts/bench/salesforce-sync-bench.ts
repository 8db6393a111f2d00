// Salesforce sync under Salesforce's real limits (a daily API allowance, not a per-second window),
// measured through the sandbox:
//  1. outbound throughput: 10,000 approved registrations → Opportunities (half on an Account matched by
//     Website), in seconds and opportunities per second, with the API calls it cost: per registration
//     (the ideal is 1 / 200 = 0.005, one sObject Collections upsert per 200) and as a share of a
//     realistic daily allowance, and the REQUEST_LIMIT_EXCEEDED answers met;
//  2. end-to-end latency: approval → Opportunity in the org, and a rep's edit to Closed Won → the
//     registration reads `won` (change-event feed, long-polled → inbox → read-back → apply);
//  3. inbound intake: a burst of rep edits (Amount) and the time until every registration has it.
//
//   npx tsx scripts/bench/salesforce-sync-bench.ts [--registrations 10000] [--samples 30] [--edits 1000]
//
// Three processes, as deployed: the sandbox (`dealreg sandbox`), dealreg (`dealreg serve`, API + workers),
// and this load generator. Results: stdout (one JSON block) and bench-results/salesforce-sync.json.
// BENCH_LOG=<file>: dealreg's logs (at BENCH_LOG_LEVEL, default debug) go there, for finding where time goes.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { createPrisma } from '../../src/data/prisma';
import { freePort } from '../../src/data/embedded-postgres';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { cliProcess, freshBenchDatabase, insertApprovedRegistrations, json, linkAndWaitForPush, parseArgs, percentile, progress, runAsScript, stopProcess, waitHttp } from './bench-support';

const ROOT = path.resolve(__dirname, '..', '..');
const DB_NAME = 'dealreg_bench_sf_sync';
const API = '/services/data/v66.0';
const APP = { clientId: 'dealreg-bench-connected-app', clientSecret: 'dealreg-bench-connected-app-secret-0123456789' };
/** A realistic allowance for a mid-sized org (Enterprise Edition: 100,000 + 1,000 per licence). */
const DAILY_API_LIMIT = 100_000;
/** Records per sObject Collections call. */
const COLLECTION_SIZE = 200;




interface OrgStats {
  apiUsage: { used: number; max: number };
  apiRequests: number;
  limitExceeded: number;
  byStatus: Record<string, number>;
  records: Record<string, number>;
}

export async function runSalesforceSyncBench(argv: string[] = process.argv.slice(2)) {
  const args = parseArgs(argv, { registrations: 10_000, samples: 30, edits: 1000 });
  const dbUrl = await freshBenchDatabase(DB_NAME);

  const [hsPort, sfPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const sfUrl = `http://127.0.0.1:${sfPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  // Real limits: the org's daily allowance answers REQUEST_LIMIT_EXCEEDED when spent.
  const sandbox = cliProcess(['sandbox', '--hubspot-port', String(hsPort), '--salesforce-port', String(sfPort)], {});
  const apiEnv: Record<string, string> = {
    DATABASE_URL: dbUrl,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: apiUrl,
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `benchsf${apiPort}`,
    DATABASE_POOL_SIZE: '20',
    NODE_ENV: 'production',
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SALESFORCE_LOGIN_URL: sfUrl,
    SALESFORCE_CLIENT_ID: APP.clientId,
    SALESFORCE_CLIENT_SECRET: APP.clientSecret,
    CRM_SWEEP_MS: '250',
    // SALESFORCE_FEED_WAIT_MS, SALESFORCE_REQUESTS_PER_SECOND, SALESFORCE_API_BUDGET_PERCENT: dealreg's
    // defaults (or whatever this shell exports), reported below as dealreg parses them.
  };
  const dealregConfig = loadConfig({ ...process.env, ...apiEnv });
  const api = cliProcess(['serve'], apiEnv);
  const prisma = createPrisma(dbUrl, 4);
  const db = new Client({ connectionString: dbUrl });
  try {
    await waitHttp(`${sfUrl}/_sandbox/orgs`);
    await waitHttp(`${apiUrl}/healthz`);
    await db.connect();

    // ── The org: dealreg's connected app, a realistic allowance, a rep, accounts to match ─────────────
    const created = await json('POST', `${sfUrl}/_sandbox/orgs`, { ...APP, name: 'Bench Org', dailyApiLimit: DAILY_API_LIMIT });
    if (created.status !== 201) throw new Error(`sandbox org: ${created.status} ${JSON.stringify(created.body)}`);
    const org = created.body as { orgId: string; instanceUrl: string; accessToken: string; refreshToken: string; integrationUserId: string };
    const statsOf = async (): Promise<OrgStats> => (await json('GET', `${sfUrl}/_sandbox/orgs/${org.orgId}/stats`)).body;
    // The bench's own session, used only with X-Sandbox-Actor: a person in Lightning, no API usage.
    const viewer = await json('POST', `${sfUrl}/_sandbox/orgs/${org.orgId}/tokens`, { userId: org.integrationUserId });
    if (viewer.status !== 201) throw new Error(`sandbox token: ${viewer.status} ${JSON.stringify(viewer.body)}`);
    const asUser = (userId: string, method: string, p: string, body?: unknown) =>
      json(method, `${sfUrl}${API}${p}`, body, { authorization: `Bearer ${viewer.body.accessToken}`, 'x-sandbox-actor': `user:${userId}` });
    const count = async (soql: string): Promise<number> => {
      const r = await asUser(org.integrationUserId, 'GET', `/query?q=${encodeURIComponent(soql)}`);
      if (r.status !== 200) throw new Error(`SOQL answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body.totalSize as number;
    };
    const seededRep = await json('POST', `${sfUrl}/_sandbox/orgs/${org.orgId}/seed`, {
      users: [{ _ref: 'rep', Username: `riley.rep@${org.orgId.toLowerCase()}.bench`, FirstName: 'Riley', LastName: 'Rep', Email: 'riley.rep@corp.test', Alias: 'rrep', UserType: 'Standard' }],
    });
    if (seededRep.status !== 201) throw new Error(`seed rep: ${seededRep.status} ${JSON.stringify(seededRep.body)}`);
    const repId = seededRep.body.refs.rep as string;
    // Half the registrations match an Account by Website (the upsert carries AccountId), half do not.
    const accounts = Array.from({ length: Math.ceil(args.registrations / 2) }, (_, i) => ({ Name: `Bench Company ${i}`, Website: `https://www.bench-${i}.com` }));
    for (let i = 0; i < accounts.length; i += 1000) {
      const r = await json('POST', `${sfUrl}/_sandbox/orgs/${org.orgId}/seed`, { accounts: accounts.slice(i, i + 1000) });
      if (r.status !== 201) throw new Error(`seed accounts: ${r.status} ${JSON.stringify(r.body)}`);
    }

    // ── dealreg: a workspace, a partner, the connection (its backfill mirrors the accounts) ───────────
    const { workspaceId, adminToken } = await createWorkspace({ prisma, clock: () => new Date(), log: createLogger({ level: 'silent' }), metrics: createMetrics() }, { name: 'bench' });
    const auth = { authorization: `Bearer ${adminToken}` };
    const partner = await json('POST', `${apiUrl}/v1/partners`, { name: 'Bench Partner', type: 'reseller', tier: 'gold' }, auth);
    if (partner.status !== 201) throw new Error(`partner: ${partner.status} ${JSON.stringify(partner.body)}`);
    const partnerKey = partner.body.apiKey as string;
    const partnerId = partner.body.partner.id as string;
    const statsAtStart = await statsOf();
    const tConnect = Date.now();
    const connected = await json('POST', `${apiUrl}/v1/connections/salesforce`, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken }, auth);
    if (connected.status !== 201) throw new Error(`connect: ${connected.status} ${JSON.stringify(connected.body)}`);
    const connectionId = connected.body.connection.id as string;
    for (;;) {
      const c = await json('GET', `${apiUrl}/v1/connections`, undefined, auth);
      const mine = (c.body.data as any[]).find((x) => x.id === connectionId);
      if (mine?.backfill?.state === 'done') break;
      if (mine?.backfill?.state === 'failed' || mine?.status === 'parked') throw new Error(`connection: ${JSON.stringify(mine)}`);
      if (Date.now() - tConnect > 120_000) throw new Error(`backfill not done after 2 minutes: ${JSON.stringify(mine)}`);
      await sleep(200);
    }
    const backfillSeconds = (Date.now() - tConnect) / 1000;
    // The reconcile sweep that follows a backfill spends a few calls: let it finish, so the outbound
    // window counts only what pushing costs (these calls are reported with the connect figures).
    const statsAfterConnect = await quiet(statsOf);
    const connect = {
      accountsInOrg: accounts.length,
      backfillSeconds: round(backfillSeconds),
      apiCalls: statsAfterConnect.apiRequests - statsAtStart.apiRequests,
    };
    progress(`connect + backfill of ${accounts.length.toLocaleString()} accounts: ${connect.backfillSeconds} s; ${connect.apiCalls} API calls with the sweep after it`);

    // ── 1. Outbound throughput ─────────────────────────────────────────────────────────────────────
    progress(`inserting ${args.registrations.toLocaleString()} approved registrations`);
    await insertApprovedRegistrations(db, workspaceId, partnerId, args.registrations);
    const before = await quiet(statsOf);
    const seconds = await linkAndWaitForPush(db, { connectionId, workspaceId, crm: 'salesforce', n: args.registrations, what: 'opportunities' });
    const after = await statsOf();
    const opportunitiesInOrg = await count(`SELECT COUNT() FROM Opportunity WHERE Dealreg_Registration_Id__c != null`);
    const withAccount = await count(`SELECT COUNT() FROM Opportunity WHERE Dealreg_Registration_Id__c != null AND AccountId != null`);
    const calls = after.apiRequests - before.apiRequests;
    const outbound = {
      registrations: args.registrations,
      opportunitiesInOrg,
      opportunitiesWithAccount: withAccount,
      seconds: round(seconds),
      opportunitiesPerSecond: Math.round(args.registrations / seconds),
      apiCallsBefore: before.apiRequests,
      apiCallsAfter: after.apiRequests,
      apiCalls: calls,
      apiCallsPerRegistration: Math.round((calls / args.registrations) * 10_000) / 10_000,
      idealApiCallsPerRegistration: 1 / COLLECTION_SIZE,
      requestLimitExceeded: after.limitExceeded - before.limitExceeded,
      dailyApiLimit: after.apiUsage.max,
      shareOfDailyLimitPercent: Math.round((calls / after.apiUsage.max) * 100_000) / 1000,
    };
    progress(
      `outbound: ${outbound.opportunitiesPerSecond} opportunities/s, ${outbound.apiCalls} API calls = ${outbound.apiCallsPerRegistration} per registration ` +
        `(ideal ${outbound.idealApiCallsPerRegistration}), ${outbound.shareOfDailyLimitPercent}% of the daily ${outbound.dailyApiLimit.toLocaleString()}, ${outbound.requestLimitExceeded} REQUEST_LIMIT_EXCEEDED`,
    );
    if (opportunitiesInOrg !== args.registrations) progress(`  WARNING: ${opportunitiesInOrg} opportunities in the org for ${args.registrations} registrations`);
    // Let the feed pass over dealreg's own CREATE events (echoes) before measuring latency.
    await sleep(2000);

    // ── 2. End-to-end latency ──────────────────────────────────────────────────────────────────────
    const toOpp: number[] = [];
    const toWon: number[] = [];
    const beforeLatency = await statsOf();
    for (let i = 0; i < args.samples; i++) {
      const t = performance.now();
      const reg = await json('POST', `${apiUrl}/v1/registrations`, { company: { name: `Latency ${i}`, domain: `latency-${i}-${randomBytes(3).toString('hex')}.com` }, contact: { name: 'B', email: 'b@latency.test' } }, { authorization: `Bearer ${partnerKey}` });
      if (reg.body?.status !== 'approved') throw new Error(`registration ${reg.status} ${JSON.stringify(reg.body)}`);
      let oppId: string | undefined;
      while (!oppId) {
        const r = await asUser(repId, 'GET', `/sobjects/Opportunity/Dealreg_Registration_Id__c/${reg.body.id}?fields=Id,StageName`);
        if (r.status === 200) oppId = r.body.Id;
        else if (performance.now() - t > 60_000) throw new Error(`no opportunity for ${reg.body.id} after 60 s (last answer ${r.status})`);
        else await sleep(5);
      }
      toOpp.push(performance.now() - t);
      // The link (registration ↔ opportunity id) is recorded right after the upsert answers.
      for (;;) {
        const { rows } = await db.query(`SELECT 1 FROM crm_links WHERE registration_id = $1 AND external_id IS NOT NULL AND pushed_version >= wanted_version`, [reg.body.id]);
        if (rows.length > 0) break;
        await sleep(5);
      }
      const t2 = performance.now();
      const edit = await asUser(repId, 'PATCH', `/sobjects/Opportunity/${oppId}`, { StageName: 'Closed Won' });
      if (edit.status !== 204) throw new Error(`rep's edit answered ${edit.status} ${JSON.stringify(edit.body)}`);
      for (;;) {
        const r = await json('GET', `${apiUrl}/v1/registrations/${reg.body.id}`, undefined, auth);
        if (r.body?.status === 'won') break;
        if (performance.now() - t2 > 60_000) throw new Error(`registration ${reg.body.id} not won 60 s after Closed Won (status ${r.body?.status})`);
        await sleep(5);
      }
      toWon.push(performance.now() - t2);
      if ((i + 1) % 10 === 0 && i + 1 < args.samples) progress(`  ${i + 1} / ${args.samples} latency samples`);
      await sleep(200);
    }
    const afterLatency = await statsOf();
    toOpp.sort((a, b) => a - b);
    toWon.sort((a, b) => a - b);
    const latency = {
      samples: args.samples,
      feedWaitMs: dealregConfig.SALESFORCE_FEED_WAIT_MS,
      approvalToOpportunityP50Ms: round(percentile(toOpp, 50)),
      approvalToOpportunityP99Ms: round(percentile(toOpp, 99)),
      closedWonToWonP50Ms: round(percentile(toWon, 50)),
      closedWonToWonP99Ms: round(percentile(toWon, 99)),
      apiCallsPerSample: round((afterLatency.apiRequests - beforeLatency.apiRequests) / args.samples),
      requestLimitExceeded: afterLatency.limitExceeded - beforeLatency.limitExceeded,
    };
    progress(
      `latency (feed wait ${latency.feedWaitMs} ms): approval → opportunity p50 ${latency.approvalToOpportunityP50Ms} ms (p99 ${latency.approvalToOpportunityP99Ms}); ` +
        `Closed Won → won p50 ${latency.closedWonToWonP50Ms} ms (p99 ${latency.closedWonToWonP99Ms}); ${latency.apiCallsPerSample} API calls per sample`,
    );

    // ── 3. Inbound intake: a burst of rep edits ───────────────────────────────────────────────────
    let inbound: Record<string, number> | null = null;
    if (args.edits > 0) {
      const { rows: links } = await db.query<{ registration_id: string; external_id: string }>(
        `SELECT l.registration_id, l.external_id FROM crm_links l JOIN registrations r ON r.id = l.registration_id
         WHERE l.connection_id = $1 AND r.status = 'approved' AND l.external_id IS NOT NULL ORDER BY l.external_id LIMIT $2`,
        [connectionId, args.edits],
      );
      const edits = links.map((l, i) => ({ ...l, amount: 500_000 + i }));
      const beforeIntake = await statsOf();
      const tBurst = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (;;) {
            const e = edits[next++];
            if (!e) return;
            const r = await asUser(repId, 'PATCH', `/sobjects/Opportunity/${e.external_id}`, { Amount: e.amount });
            if (r.status !== 204) throw new Error(`rep's edit answered ${r.status} ${JSON.stringify(r.body)}`);
          }
        }),
      );
      const burstSeconds = (performance.now() - tBurst) / 1000;
      const ids = edits.map((e) => e.registration_id);
      let lastApplied = -1;
      for (;;) {
        const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM registrations WHERE id = ANY($1::uuid[]) AND amount_value >= 500000`, [ids]);
        const n = Number(rows[0]!.n);
        if (n >= ids.length) break;
        if (n !== lastApplied && (n - lastApplied >= 200 || lastApplied < 0)) {
          progress(`  ${n.toLocaleString()} / ${ids.length.toLocaleString()} edits applied after ${((performance.now() - tBurst) / 1000).toFixed(1)} s`);
          lastApplied = n;
        }
        if (performance.now() - tBurst > 5 * 60_000) throw new Error(`only ${n} of ${ids.length} edits applied after 5 minutes`);
        await sleep(50);
      }
      const appliedSeconds = (performance.now() - tBurst) / 1000;
      const afterIntake = await statsOf();
      inbound = {
        edits: edits.length,
        editConcurrency: 8,
        burstSeconds: round(burstSeconds),
        allAppliedSeconds: round(appliedSeconds),
        editsAppliedPerSecond: Math.round(edits.length / appliedSeconds),
        apiCalls: afterIntake.apiRequests - beforeIntake.apiRequests,
        apiCallsPerEdit: Math.round(((afterIntake.apiRequests - beforeIntake.apiRequests) / edits.length) * 10_000) / 10_000,
        requestLimitExceeded: afterIntake.limitExceeded - beforeIntake.limitExceeded,
      };
      progress(`inbound: ${inbound.edits} rep edits sent in ${inbound.burstSeconds} s, all applied after ${inbound.allAppliedSeconds} s (${inbound.editsAppliedPerSecond}/s), ${inbound.apiCalls} API calls`);
    }

    const end = await statsOf();
    const run = {
      apiCalls: end.apiRequests - statsAtStart.apiRequests,
      apiUsage: end.apiUsage,
      shareOfDailyLimitPercent: Math.round(((end.apiRequests - statsAtStart.apiRequests) / end.apiUsage.max) * 100_000) / 1000,
      requestLimitExceeded: end.limitExceeded - statsAtStart.limitExceeded,
    };
    const dealreg = {
      requestsPerSecond: dealregConfig.SALESFORCE_REQUESTS_PER_SECOND,
      apiBudgetPercent: dealregConfig.SALESFORCE_API_BUDGET_PERCENT,
      feedWaitMs: dealregConfig.SALESFORCE_FEED_WAIT_MS,
      sweepMs: dealregConfig.CRM_SWEEP_MS,
    };
    const result = { bench: 'salesforce-sync', dealreg, connect, outbound, latency, inbound, run };
    mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench-results', 'salesforce-sync.json'), JSON.stringify({ at: new Date().toISOString(), args, ...result }, null, 2));
    return result;
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all([stopProcess(api), stopProcess(sandbox)]);
    await prisma.$disconnect();
  }
}


/** The org's stats once its API usage has not moved for 2 s (at most 20 s). */
async function quiet(statsOf: () => Promise<OrgStats>): Promise<OrgStats> {
  let last = await statsOf();
  let since = Date.now();
  const start = Date.now();
  while (Date.now() - since < 2000 && Date.now() - start < 20_000) {
    await sleep(250);
    const now = await statsOf();
    if (now.apiRequests !== last.apiRequests) since = Date.now();
    last = now;
  }
  return last;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 10) / 10;

if (require.main === module) runAsScript(() => runSalesforceSyncBench());
