// `npm run bench`: runs every benchmark, each in its own process (so one cannot warm or starve another),
// prints a summary of the figures and writes them to bench-results/summary.json.
//
//   npm run bench                          # all of them (~10 min: the registration bench seeds 1,000,000 accounts)
//   npm run bench -- --only sandbox-hubspot,sandbox-salesforce
//   npm run bench -- --quick               # smaller sizes, for a smoke run (figures not comparable)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { progress } from './bench-support';

const ROOT = path.resolve(__dirname, '..', '..');

interface Bench {
  name: string;
  script: string;
  args: string[];
  quickArgs: string[];
  /** One line per figure for the summary. */
  summarise: (out: unknown) => string[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BENCHES: Bench[] = [
  {
    name: 'sandbox-hubspot',
    script: 'sandbox-hubspot.ts',
    args: [],
    quickArgs: ['--seconds', '2'],
    summarise: (o) => {
      const j = o as Json;
      return [
        `HubSpot sandbox GET deal by id: ${j.getDealById.rps} req/s (p50 ${j.getDealById.p50Ms} ms, p99 ${j.getDealById.p99Ms} ms, ${j.getDealById.errors} errors)`,
        `HubSpot sandbox search company by domain: ${j.searchCompanyByDomain.rps} req/s (p50 ${j.searchCompanyByDomain.p50Ms} ms, p99 ${j.searchCompanyByDomain.p99Ms} ms)`,
      ];
    },
  },
  {
    name: 'sandbox-salesforce',
    script: 'sandbox-salesforce.ts',
    args: [],
    quickArgs: ['--seconds', '2'],
    summarise: (o) => {
      const j = o as Json;
      return (j.results as Json[]).map((r) => `Salesforce sandbox ${r.name}: ${r.rps} req/s (p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.errors} errors)`);
    },
  },
  {
    name: 'registration',
    script: 'registration-bench.ts',
    args: [],
    quickArgs: ['--max-accounts', '10000', '--registrations', '10000', '--requests', '500'],
    summarise: (o) =>
      (o as Json[]).map(
        (p) =>
          `${Number(p.accounts).toLocaleString('en-US')} accounts: check p50 ${p.check.p50.toFixed(1)} ms, p99 ${p.check.p99.toFixed(1)} ms, ${p.check.perSecond.toFixed(0)}/s; ` +
          `create p50 ${p.create.p50.toFixed(1)} ms, p99 ${p.create.p99.toFixed(1)} ms, ${p.create.perSecond.toFixed(0)}/s`,
      ),
  },
  {
    name: 'hubspot-sync',
    script: 'hubspot-sync-bench.ts',
    args: [],
    quickArgs: ['--registrations', '1000', '--webhook-batches', '40', '--samples', '5'],
    summarise: (o) => {
      const j = o as Json;
      return [
        `HubSpot outbound: ${j.outbound.registrations.toLocaleString('en-US')} registrations → deals in ${j.outbound.seconds} s = ${j.outbound.dealsPerSecond} deals/s, ` +
          `${(j.outbound.ratioOfBound * 100).toFixed(1)}% of the rate-limit bound (${j.outbound.boundDealsPerSecond}/s), ${j.outbound.requestsPerDeal} requests per deal, ${j.outbound.rateLimited429} 429s`,
        `HubSpot webhooks: ${j.inbound.eventsPerSecond} events/s at ${j.inbound.throughputConcurrency} in flight; ack p50 ${j.inbound.ackP50Ms} ms, p99 ${j.inbound.ackP99Ms} ms (batches of 100)`,
        `HubSpot end to end: approval → deal p50 ${j.latency.approvalToDealP50Ms} ms (p99 ${j.latency.approvalToDealP99Ms}); stage change → won p50 ${j.latency.stageChangeToWonP50Ms} ms (p99 ${j.latency.stageChangeToWonP99Ms})`,
      ];
    },
  },
  {
    name: 'cards',
    script: 'cards-bench.ts',
    args: [],
    quickArgs: ['--registrations', '10000', '--requests', '300'],
    summarise: (o) => {
      const j = o as Json;
      return (['hubspot', 'salesforce'] as const).map(
        (crm) => `Card data ${crm} (${Number(j.registrations).toLocaleString('en-US')} registrations): p50 ${j[crm].p50Ms} ms, p99 ${j[crm].p99Ms} ms (goal < ${j.goalP99Ms}), ${j[crm].perSecond}/s, ${j[crm].errors} errors`,
      );
    },
  },
  {
    name: 'salesforce-sync',
    script: 'salesforce-sync-bench.ts',
    args: [],
    quickArgs: ['--registrations', '1000', '--samples', '5', '--edits', '100'],
    summarise: (o) => {
      const j = o as Json;
      const lines = [
        `Salesforce outbound: ${j.outbound.registrations.toLocaleString('en-US')} registrations → opportunities in ${j.outbound.seconds} s = ${j.outbound.opportunitiesPerSecond} opportunities/s, ` +
          `${j.outbound.apiCalls} API calls = ${j.outbound.apiCallsPerRegistration} per registration (ideal ${j.outbound.idealApiCallsPerRegistration}), ` +
          `${j.outbound.shareOfDailyLimitPercent}% of a ${j.outbound.dailyApiLimit.toLocaleString('en-US')} daily allowance, ${j.outbound.requestLimitExceeded} REQUEST_LIMIT_EXCEEDED`,
        `Salesforce end to end (feed wait ${j.latency.feedWaitMs} ms): approval → opportunity p50 ${j.latency.approvalToOpportunityP50Ms} ms (p99 ${j.latency.approvalToOpportunityP99Ms}); ` +
          `Closed Won → won p50 ${j.latency.closedWonToWonP50Ms} ms (p99 ${j.latency.closedWonToWonP99Ms})`,
      ];
      if (j.inbound)
        lines.push(`Salesforce inbound: ${j.inbound.edits} rep edits applied in ${j.inbound.allAppliedSeconds} s = ${j.inbound.editsAppliedPerSecond} edits/s, ${j.inbound.apiCallsPerEdit} API calls per edit`);
      return lines;
    },
  },
];

function parse(argv: string[]): { only: Set<string> | null; quick: boolean } {
  let only: Set<string> | null = null;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
      if (names.length === 0 || unknown.length > 0) throw new Error(`--only takes a comma-separated list of: ${BENCHES.map((b) => b.name).join(', ')}`);
      only = new Set(names);
    } else throw new Error(`unknown option ${a} (known: --only NAMES, --quick)`);
  }
  return { only, quick };
}

/** Runs one benchmark script; its stdout must end with its JSON result (a line or a pretty-printed block). */
function run(b: Bench, quick: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, b.script), ...(quick ? b.quickArgs : b.args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${b.name} exited with code ${code}`));
      const result = lastJson(out);
      if (result === undefined) reject(new Error(`${b.name} did not print a JSON result:\n${out.slice(-500)}`));
      else resolve(result);
    });
  });
}

/** The last JSON value printed, whether one line or a pretty-printed block (log lines may come before it). */
export function lastJson(out: string): unknown {
  const lines = out.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!/^[[{]/.test(lines[i]!)) continue;
    try {
      return JSON.parse(lines.slice(i).join('\n'));
    } catch {
      /* not the start of the block: keep looking upwards */
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const { only, quick } = parse(process.argv.slice(2));
  const selected = BENCHES.filter((b) => !only || only.has(b.name));
  const machine = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30) };
  const results: Record<string, unknown> = {};
  const lines: string[] = [];
  let failed = 0;
  for (const b of selected) {
    progress(`▶ ${b.name}${quick ? ' (quick)' : ''}`);
    const t0 = Date.now();
    try {
      const out = await run(b, quick);
      results[b.name] = out;
      const summary = b.summarise(out);
      lines.push(...summary);
      progress(`✔ ${b.name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      failed++;
      results[b.name] = { error: (err as Error).message };
      lines.push(`${b.name}: FAILED (${(err as Error).message.split('\n')[0]})`);
      progress(`✘ ${b.name}: ${(err as Error).message}`);
    }
  }
  mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench-results', 'summary.json'), JSON.stringify({ at: new Date().toISOString(), quick, machine, results }, null, 2));
  console.log(`\nBenchmarks (${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}${quick ? ', quick sizes' : ''})`);
  for (const l of lines) console.log(`  ${l}`);
  console.log('\nFull results: bench-results/summary.json');
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(2);
});
