// Load generator for the Salesforce sandbox: simple requests per second against an in-process sandbox
// with limits off. The load comes from worker threads (node:http keep-alive agents, ~64 requests in
// flight in total) so that the sandbox has the main thread to itself, as it would as its own process.
//
//   npx tsx scripts/bench/sandbox-salesforce.ts [--seconds 5] [--concurrency 64] [--workers 2]
//
// Prints one JSON line: { bench, node, cpus, concurrency, workers, seconds, loadavg, baseline, results }.
// Each result: { name, requests, rps, p50Ms, p99Ms, errors, serverElu, capacityRps } where serverElu is
// the event-loop utilisation of the sandbox's thread during the run and capacityRps = rps / serverElu,
// the rate the sandbox thread would sustain if it were saturated. `baseline` is the same harness against
// a trivial node:http server in the same process: on a shared or loaded machine, compare with it.
import http from 'node:http';
import os from 'node:os';
import { createSalesforceSandbox } from '../../src/sandbox/salesforce';
import { Worker } from 'node:worker_threads';

interface Scenario {
  name: string;
  paths: string[];
}

interface WorkerInput {
  port: number;
  token: string;
  scenario: Scenario;
  concurrency: number;
  seconds: number;
}

interface WorkerOutput {
  requests: number;
  errors: number;
  latencies: number[];
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt;
}

// The load generator runs as plain JavaScript in each worker thread (tsx hooks do not reach workers).
const WORKER_SOURCE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const input = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: input.concurrency });
const headers = { authorization: 'Bearer ' + input.token, 'sforce-call-options': 'client=bench' };
const deadline = Date.now() + input.seconds * 1000;
let requests = 0, errors = 0, n = 0;
const latencies = [];
function one() {
  return new Promise((resolve) => {
    const path = input.scenario.paths[n++ % input.scenario.paths.length];
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port: input.port, path, method: 'GET', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        requests++;
        if (res.statusCode !== 200) errors++;
        if (latencies.length < 200000) latencies.push(performance.now() - started);
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end();
  });
}
async function loop() { while (Date.now() < deadline) await one(); }
Promise.all(Array.from({ length: input.concurrency }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ requests, errors, latencies });
});
`;

void main();

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 64);
  const workers = arg('workers', Math.max(1, Math.min(2, os.cpus().length)));
  const sandbox = createSalesforceSandbox({ limitsEnabled: false });
  const port = await sandbox.listen(0);
  const org = sandbox.createOrg();
  const base = `http://127.0.0.1:${port}`;

  // Seed 1,000 accounts with an opportunity each, without API usage or change events.
  const accounts = Array.from({ length: 1000 }, (_, i) => ({ _ref: `a${i}`, Name: `Account ${i}`, Website: `https://acct${i}.example.com`, Type: i % 3 ? 'Prospect' : 'Customer - Direct' }));
  const opportunities = accounts.map((_, i) => ({ Name: `Deal ${i}`, StageName: 'Prospecting', CloseDate: '2026-12-31', Amount: 1000 + i, AccountId: { $ref: `a${i}` } }));
  const seeded = (await postJson(`${base}/_sandbox/orgs/${org.orgId}/seed`, { accounts, opportunities })) as { accounts: string[] };
  const ids = seeded.accounts.slice(0, 100);

  const scenarios: Scenario[] = [
    { name: 'get-record', paths: ids.map((id) => `/services/data/v66.0/sobjects/Account/${id}`) },
    { name: 'soql-by-id', paths: ids.map((id) => `/services/data/v66.0/query?q=${encodeURIComponent(`SELECT Id, Name, Website, Owner.Email FROM Account WHERE Id = '${id}'`)}`) },
    { name: 'soql-limit-10', paths: [`/services/data/v66.0/query?q=${encodeURIComponent("SELECT Id, Name FROM Opportunity WHERE StageName = 'Prospecting' LIMIT 10")}`] },
  ];

  const results = [];
  for (const scenario of scenarios) results.push(await measure(port, org.accessToken, scenario, concurrency, workers, seconds));
  await sandbox.close();

  // Baseline: the same load against a trivial JSON server in this process.
  const trivial = http.createServer((_req, res) => {
    const body = '{"totalSize":1,"done":true,"records":[]}';
    res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  trivial.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => trivial.listen(0, '127.0.0.1', () => r()));
  const trivialPort = (trivial.address() as { port: number }).port;
  const baseline = await measure(trivialPort, 'x', { name: 'trivial-node-http-server', paths: ['/'] }, concurrency, workers, seconds);
  const closed = new Promise<void>((r) => trivial.close(() => r()));
  trivial.closeAllConnections();
  await closed;

  console.log(
    JSON.stringify({ bench: 'sandbox-salesforce', node: process.version, cpus: os.cpus().length, concurrency, workers, seconds, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100), baseline, results }),
  );
}

async function measure(port: number, token: string, scenario: Scenario, concurrency: number, workers: number, seconds: number) {
  const per = Math.max(1, Math.round(concurrency / workers));
  const eluStart = performance.eventLoopUtilization();
  const started = performance.now();
  const outs = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<WorkerOutput>((resolve, reject) => {
          const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { port, token, scenario, concurrency: per, seconds } satisfies WorkerInput });
          w.once('message', (m: WorkerOutput) => {
            resolve(m);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  const elapsed = (performance.now() - started) / 1000;
  const elu = performance.eventLoopUtilization(eluStart).utilization;
  const requests = outs.reduce((s, o) => s + o.requests, 0);
  const errors = outs.reduce((s, o) => s + o.errors, 0);
  const lat = outs.flatMap((o) => o.latencies).sort((a, b) => a - b);
  const pct = (p: number): number => Math.round((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0) * 100) / 100;
  const rps = Math.round(requests / elapsed);
  return { name: scenario.name, requests, rps, p50Ms: pct(0.5), p99Ms: pct(0.99), errors, serverElu: Math.round(elu * 1000) / 1000, capacityRps: Math.round(rps / Math.max(elu, 0.01)) };
}
function postJson(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`seed failed: ${res.statusCode} ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
