// HubSpot sync under HubSpot's real limits, measured through the sandbox:
//  1. outbound throughput: 10,000 approved registrations → deals, at 110 requests / 10 s per portal, as a
//     ratio of the rate-limit bound (110 requests / 10 s × 100 deals per request = 1,100 deals / s), with
//     the number of 429s met;
//  2. inbound webhook intake: signed batches of 100 events POSTed to /webhooks/hubspot (events per second,
//     ack p50 / p99);
//  3. end-to-end latency: approval → deal in HubSpot, and a rep's stage change → registration `won`.
//
//   npx tsx scripts/bench/hubspot-sync-bench.ts [--registrations 10000] [--webhook-batches 300] [--samples 30]
//
// Three processes, as deployed: the sandbox (`dealreg sandbox`), dealreg (`dealreg serve`, API + workers),
// and this load generator. Results: stdout (one JSON block) and bench-results/hubspot-sync.json.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createPrisma } from '../../src/data/prisma';
import { freePort } from '../../src/data/embedded-postgres';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { cliProcess, freshBenchDatabase, insertApprovedRegistrations, json, linkAndWaitForPush, parseArgs, percentile, progress, runAsScript, stopProcess, waitHttp } from './bench-support';

const ROOT = path.resolve(__dirname, '..', '..');
const APP = { appId: 3_000_555, clientId: 'bench-app', clientSecret: 'bench-secret-0123456789abcdef' };

export async function runHubspotSyncBench(argv: string[] = process.argv.slice(2)) {
  const args = parseArgs(argv, { registrations: 10_000, 'webhook-batches': 300, samples: 30 });
  const dbUrl = await freshBenchDatabase('dealreg_bench_sync');

  const [hsPort, sfPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const hsUrl = `http://127.0.0.1:${hsPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const sandbox = cliProcess(['sandbox', '--hubspot-port', String(hsPort), '--salesforce-port', String(sfPort)], {});
  const api = cliProcess(['serve'], {
    DATABASE_URL: dbUrl,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: apiUrl,
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `benchsync${apiPort}`,
    DATABASE_POOL_SIZE: '20',
    NODE_ENV: 'production',
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    HUBSPOT_API_BASE_URL: hsUrl,
    HUBSPOT_APP_BASE_URL: hsUrl,
    HUBSPOT_APP_ID: String(APP.appId),
    HUBSPOT_CLIENT_ID: APP.clientId,
    HUBSPOT_CLIENT_SECRET: APP.clientSecret,
    CRM_SWEEP_MS: '250',
  });
  const prisma = createPrisma(dbUrl, 4);
  try {
    await waitHttp(`${hsUrl}/_sandbox`);
    await waitHttp(`${apiUrl}/healthz`);
    const portal = (await json('POST', `${hsUrl}/_sandbox/portals`, { ...APP, webhookTargetUrl: `${apiUrl}/webhooks/hubspot` })).body as { portalId: number; accessToken: string };
    const ui = { 'x-sandbox-actor': 'user:9001', 'x-sandbox-portal-id': String(portal.portalId) };
    const { workspaceId, adminToken } = await createWorkspace({ prisma, clock: () => new Date(), log: createLogger({ level: 'silent' }), metrics: createMetrics() }, { name: 'bench' });
    const auth = { authorization: `Bearer ${adminToken}` };
    const partner = await json('POST', `${apiUrl}/v1/partners`, { name: 'Bench Partner', type: 'reseller', tier: 'gold' }, auth);
    const partnerKey = partner.body.apiKey as string;
    const partnerId = partner.body.partner.id as string;
    // Half the registrations match a company in HubSpot (association inline), half do not.
    const companies = Array.from({ length: Math.min(5000, Math.ceil(args.registrations / 2)) }, (_, i) => ({ properties: { name: `Bench Company ${i}`, domain: `bench-${i}.com` } }));
    for (let i = 0; i < companies.length; i += 1000) await json('POST', `${hsUrl}/_sandbox/portals/${portal.portalId}/seed`, { companies: companies.slice(i, i + 1000) });
    const connected = await json('POST', `${apiUrl}/v1/connections/hubspot`, { portalId: portal.portalId, accessToken: portal.accessToken }, auth);
    if (connected.status !== 201) throw new Error(`connect: ${connected.status} ${JSON.stringify(connected.body)}`);
    const connectionId = connected.body.connection.id as string;
    const t0 = Date.now();
    for (;;) {
      const c = await json('GET', `${apiUrl}/v1/connections`, undefined, auth);
      if (c.body.data[0].backfill.state === 'done') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    progress(`backfill of ${companies.length} companies took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 11_000)); // let the backfill's calls leave the 10-s window

    // ── 1. Outbound throughput ─────────────────────────────────────────────────────────────────────
    progress(`inserting ${args.registrations.toLocaleString()} approved registrations`);
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    await insertApprovedRegistrations(db, workspaceId, partnerId, args.registrations);
    const before = (await json('GET', `${hsUrl}/_sandbox/portals/${portal.portalId}/stats`)).body;
    const seconds = await linkAndWaitForPush(db, { connectionId, workspaceId, crm: 'hubspot', n: args.registrations, what: 'deals' });
    const after = (await json('GET', `${hsUrl}/_sandbox/portals/${portal.portalId}/stats`)).body;
    const deals = (await json('POST', `${hsUrl}/crm/v3/objects/deals/search`, { filterGroups: [{ filters: [{ propertyName: 'dealreg_registration_id', operator: 'HAS_PROPERTY' }] }], limit: 1 }, ui)).body.total as number;
    const boundPerSecond = (110 / 10) * 100;
    const outbound = {
      registrations: args.registrations,
      dealsInHubspot: deals,
      seconds: Math.round(seconds * 10) / 10,
      dealsPerSecond: Math.round(args.registrations / seconds),
      boundDealsPerSecond: boundPerSecond,
      ratioOfBound: Math.round((args.registrations / seconds / boundPerSecond) * 1000) / 1000,
      apiRequests: after.requests - before.requests,
      requestsPerDeal: Math.round(((after.requests - before.requests) / args.registrations) * 1000) / 1000,
      rateLimited429: after.rateLimited - before.rateLimited,
    };
    progress(`outbound: ${outbound.dealsPerSecond} deals/s = ${(outbound.ratioOfBound * 100).toFixed(1)}% of the bound, ${outbound.rateLimited429} 429s, ${outbound.apiRequests} requests`);

    // ── 2. Inbound webhook intake ──────────────────────────────────────────────────────────────────
    await json('PATCH', `${hsUrl}/_sandbox/portals/${portal.portalId}`, { webhookTargetUrl: null }); // only our load from here
    await new Promise((r) => setTimeout(r, 2000));
    const { rows: dealRows } = await db.query<{ external_id: string }>(`SELECT external_id FROM crm_links WHERE connection_id = $1 LIMIT 5000`, [connectionId]);
    const uri = `${apiUrl}/webhooks/hubspot`;
    let eventId = 5_000_000_000;
    const batches = Array.from({ length: args['webhook-batches'] }, () =>
      JSON.stringify(
        Array.from({ length: 100 }, () => ({
          eventId: eventId++,
          subscriptionId: 2000001,
          portalId: portal.portalId,
          appId: APP.appId,
          occurredAt: Date.now(),
          subscriptionType: 'deal.propertyChange',
          attemptNumber: 0,
          objectId: Number(dealRows[eventId % dealRows.length]!.external_id),
          propertyName: 'description',
          propertyValue: 'bench',
          changeSource: 'CRM_UI',
          sourceId: 'userId:9001',
        })),
      ),
    );
    // Throughput at saturation (8 requests in flight); ack latency under light load (one at a time), as
    // HubSpot delivers: a closed loop at saturation measures queueing, not the endpoint.
    const send = async (body: string): Promise<number> => {
      const ts = String(Date.now());
      const sig = createHmac('sha256', APP.clientSecret).update(`POST${uri}${body}${ts}`).digest('base64');
      const t = performance.now();
      const res = await fetch(uri, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }, body });
      await res.text();
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      return performance.now() - t;
    };
    const half = Math.floor(batches.length / 2);
    let next = 0;
    const wStart = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= half) return;
          await send(batches[i]!);
        }
      }),
    );
    const wSeconds = (performance.now() - wStart) / 1000;
    const acks: number[] = [];
    for (let i = half; i < batches.length; i++) acks.push(await send(batches[i]!));
    acks.sort((a, b) => a - b);
    const inbound = {
      batchesOf100: batches.length,
      throughputConcurrency: 8,
      eventsPerSecond: Math.round((half * 100) / wSeconds),
      ackSamples: acks.length,
      ackP50Ms: round(percentile(acks, 50)),
      ackP99Ms: round(percentile(acks, 99)),
    };
    progress(`inbound: ${inbound.eventsPerSecond} events/s, ack p50 ${inbound.ackP50Ms} ms, p99 ${inbound.ackP99Ms} ms`);
    // Let the inbox drain (it reads each deal back from HubSpot, at the limit) before measuring latency.
    for (;;) {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM inbox_events WHERE processed_at IS NULL`);
      if (Number(rows[0]!.n) === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await json('PATCH', `${hsUrl}/_sandbox/portals/${portal.portalId}`, { webhookTargetUrl: uri });
    await new Promise((r) => setTimeout(r, 11_000));

    // ── 3. End-to-end latency ──────────────────────────────────────────────────────────────────────
    const toDeal: number[] = [];
    const toWon: number[] = [];
    for (let i = 0; i < args.samples; i++) {
      const t = performance.now();
      const reg = await json('POST', `${apiUrl}/v1/registrations`, { company: { name: `Latency ${i}`, domain: `latency-${i}-${randomBytes(3).toString('hex')}.com` }, contact: { name: 'B', email: 'b@latency.test' } }, { authorization: `Bearer ${partnerKey}` });
      if (reg.body.status !== 'approved') throw new Error(`registration ${reg.status} ${JSON.stringify(reg.body)}`);
      let dealId: string | undefined;
      while (!dealId) {
        const r = await json('GET', `${hsUrl}/crm/v3/objects/deals/${reg.body.id}?idProperty=dealreg_registration_id&properties=dealstage`, undefined, ui);
        if (r.status === 200) dealId = r.body.id;
        else await new Promise((res) => setTimeout(res, 5));
      }
      toDeal.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 300)); // the link is recorded right after the deal exists
      const t2 = performance.now();
      await json('PATCH', `${hsUrl}/crm/v3/objects/deals/${dealId}`, { properties: { dealstage: 'closedwon' } }, ui);
      for (;;) {
        const r = await json('GET', `${apiUrl}/v1/registrations/${reg.body.id}`, undefined, auth);
        if (r.body.status === 'won') break;
        await new Promise((res) => setTimeout(res, 5));
      }
      toWon.push(performance.now() - t2);
      await new Promise((r) => setTimeout(r, 700)); // stay well under the portal's limit between samples
    }
    toDeal.sort((a, b) => a - b);
    toWon.sort((a, b) => a - b);
    const latency = {
      samples: args.samples,
      approvalToDealP50Ms: round(percentile(toDeal, 50)),
      approvalToDealP99Ms: round(percentile(toDeal, 99)),
      stageChangeToWonP50Ms: round(percentile(toWon, 50)),
      stageChangeToWonP99Ms: round(percentile(toWon, 99)),
    };
    progress(`latency: approval → deal p50 ${latency.approvalToDealP50Ms} ms (p99 ${latency.approvalToDealP99Ms}); stage change → won p50 ${latency.stageChangeToWonP50Ms} ms (p99 ${latency.stageChangeToWonP99Ms})`);
    await db.end();
    const result = { bench: 'hubspot-sync', outbound, inbound, latency };
    mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench-results', 'hubspot-sync.json'), JSON.stringify({ at: new Date().toISOString(), args, ...result }, null, 2));
    return result;
  } finally {
    await Promise.all([stopProcess(api), stopProcess(sandbox)]);
    await prisma.$disconnect();
  }
}


const round = (n: number) => Math.round(n * 10) / 10;

if (require.main === module) runAsScript(() => runHubspotSyncBench());
