// Load generator for the HubSpot sandbox: how many simple requests per second it answers with rate
// limits off. Starts the sandbox in this process (in a worker thread by default, so the load generator
// and the sandbox each get a core, as they would with dealreg in front; `--same-thread` to share one),
// seeds companies and deals, then drives GET-deal-by-id and search at a fixed concurrency over
// keep-alive connections. Prints one JSON line of figures.
//
//   npx tsx scripts/bench/sandbox-hubspot.ts [--seconds 5] [--concurrency 64] [--records 2000] [--same-thread]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createHubspotSandbox } from '../../src/sandbox/hubspot';

interface Args {
  seconds: number;
  concurrency: number;
  records: number;
  sameThread: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  return { seconds: get('seconds', 5), concurrency: get('concurrency', 64), records: get('records', 2000), sameThread: argv.includes('--same-thread') };
}

interface Elu {
  idle: number;
  active: number;
}

interface Running {
  baseUrl: string;
  /** The sandbox thread's event-loop utilisation so far (busy vs idle ms). */
  elu: () => Promise<Elu>;
  stop: () => Promise<void>;
}

async function startSandbox(): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
  const sandbox = createHubspotSandbox({ rateLimitsEnabled: false });
  await sandbox.listen(0);
  return { baseUrl: sandbox.baseUrl, stop: () => sandbox.close() };
}

async function startSandboxHere(): Promise<Running> {
  const s = await startSandbox();
  return { ...s, elu: async () => performance.eventLoopUtilization() };
}

/** Runs the sandbox on its own thread; resolves with its URL. */
function startSandboxInWorker(): Promise<Running> {
  return new Promise((resolve, reject) => {
    // Plain `.js` when compiled; under tsx the worker registers tsx's require hook first.
    const code = __filename.endsWith('.ts') ? `require('tsx/cjs'); require(${JSON.stringify(__filename)});` : `require(${JSON.stringify(__filename)});`;
    const worker = new Worker(code, { eval: true, workerData: { role: 'sandbox' } });
    worker.once('error', reject);
    worker.once('message', (m: { baseUrl: string }) =>
      resolve({
        baseUrl: m.baseUrl,
        elu: () => new Promise<Elu>((r) => {
          worker.once('message', (e: Elu) => r(e));
          worker.postMessage('elu');
        }),
        stop: async () => { await worker.terminate(); },
      }));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(base: URL, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, agent, headers: body ? { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Figures {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of the run the sandbox's thread was busy, and the rate that implies at 100 % busy. */
  sandboxBusyPct?: number;
  sandboxCapacityRps?: number;
}

/** Runs `drive` and adds the sandbox thread's busy share over the run. */
async function measured(sandbox: Running, run: () => Promise<Figures>): Promise<Figures> {
  const before = await sandbox.elu();
  const f = await run();
  const after = await sandbox.elu();
  const active = after.active - before.active;
  const total = active + (after.idle - before.idle);
  const busy = total > 0 ? active / total : 0;
  return { ...f, sandboxBusyPct: Math.round(busy * 100), sandboxCapacityRps: active > 0 ? Math.round(f.requests / (active / 1000)) : 0 };
}

/** Keeps `concurrency` requests in flight for `seconds`; counts completions and latencies. */
async function drive(seconds: number, concurrency: number, one: (i: number) => Promise<number>): Promise<Figures> {
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let i = 0;
  const lane = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      const status = await one(i++);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      requests++;
      if (status < 200 || status >= 300) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 100) / 100;
  return { requests, errors, seconds: Math.round(elapsed * 100) / 100, rps: Math.round(requests / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sandbox = args.sameThread ? await startSandboxHere() : await startSandboxInWorker();
  const base = new URL(sandbox.baseUrl);
  try {
    const created = JSON.parse((await request(base, 'POST', '/_sandbox/portals', {}, '{}')).text) as { portalId: number; accessToken: string };
    const companies = Array.from({ length: args.records }, (_, i) => ({ properties: { name: `Company ${i}`, domain: `company-${i}.example`, country: i % 2 ? 'DE' : 'US' } }));
    const deals = Array.from({ length: args.records }, (_, i) => ({ properties: { dealname: `Deal ${i}`, amount: String(1000 + i), dealstage: i % 7 === 0 ? 'closedwon' : 'qualifiedtobuy' }, companies: [`#${i}`] }));
    const seeded = JSON.parse((await request(base, 'POST', `/_sandbox/portals/${created.portalId}/seed`, {}, JSON.stringify({ companies, deals }))).text) as { deals: string[] };
    const auth = { authorization: `Bearer ${created.accessToken}`, accept: 'application/json' };
    const dealIds = seeded.deals;

    const getDeal = (i: number): Promise<number> => request(base, 'GET', `/crm/v3/objects/deals/${dealIds[i % dealIds.length]}?properties=dealname,amount,dealstage`, auth).then((r) => r.status);
    const searchBody = (i: number): string => JSON.stringify({
      filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: `company-${i % args.records}.example` }] }],
      properties: ['name', 'domain'],
      limit: 10,
    });
    const searchCompany = (i: number): Promise<number> => request(base, 'POST', '/crm/v3/objects/companies/search', auth, searchBody(i)).then((r) => r.status);

    await drive(1, args.concurrency, getDeal); // warm-up
    const get = await measured(sandbox, () => drive(args.seconds, args.concurrency, getDeal));
    await drive(1, args.concurrency, searchCompany);
    const search = await measured(sandbox, () => drive(args.seconds, args.concurrency, searchCompany));
    console.log(JSON.stringify({
      bench: 'sandbox-hubspot',
      node: process.version,
      sandboxThread: args.sameThread ? 'same' : 'worker',
      concurrency: args.concurrency,
      records: { companies: args.records, deals: args.records },
      getDealById: get,
      searchCompanyByDomain: search,
    }));
  } finally {
    agent.destroy();
    await sandbox.stop();
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if ((workerData as { role?: string })?.role === 'sandbox') {
  void startSandbox().then(({ baseUrl }) => {
    parentPort!.on('message', (m) => {
      if (m === 'elu') {
        const { idle, active } = performance.eventLoopUtilization();
        parentPort!.postMessage({ idle, active });
      }
    });
    parentPort!.postMessage({ baseUrl });
  });
}
