// `npx dealreg <command>`: serve, migrate, workspace create, ledger verify, sandbox, demo.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './lib/logger';
import { createMetrics } from './lib/metrics';
import { migrate } from './data/migrate';
import { createPrisma } from './data/prisma';
import { verifyLedger } from './data/ledger';
import { createWorkspace } from './use-cases/workspaces';
import { installShutdown, redactUrl, startService, StartupError, type Role } from './main';

function config(): Config {
  return loadConfig(process.env);
}

function requireDatabaseUrl(cfg: Config): string {
  if (!cfg.DATABASE_URL) throw new StartupError('DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/dealreg).');
  return cfg.DATABASE_URL;
}

export function buildProgram(): Command {
  const program = new Command();
  program.name('dealreg').description('Partner deal registration for HubSpot and Salesforce').showHelpAfterError();

  program
    .command('serve')
    .description('run the API and the workers (or one of them with --role)')
    .addOption(new Option('--role <role>', 'what this process runs').choices(['all', 'api', 'worker']).default('all'))
    .action(async (o: { role: Role }) => {
      const cfg = config();
      const log = createLogger({ level: cfg.LOG_LEVEL, pretty: cfg.LOG_PRETTY });
      const service = await startService(cfg, { role: o.role, log, metrics: createMetrics({ defaultMetrics: true }) });
      installShutdown(service, log, cfg.SHUTDOWN_GRACE_SECONDS);
    });

  program
    .command('migrate')
    .description('apply database migrations (prisma/migrations) to DATABASE_URL')
    .action(async () => {
      const cfg = config();
      const url = requireDatabaseUrl(cfg);
      const r = await migrate(url, { log: (l) => console.error(l) });
      console.error(r.applied.length > 0 ? `applied ${r.applied.length} migration(s) to ${redactUrl(url)}` : `${redactUrl(url)} is up to date (${r.alreadyApplied} migrations)`);
    });

  const workspace = program.command('workspace').description('workspaces (tenants)');
  workspace
    .command('create')
    .description('create a workspace; prints { workspaceId, adminToken } (the token is shown once)')
    .requiredOption('--name <name>', 'workspace name')
    .action(async (o: { name: string }) => {
      const cfg = config();
      const prisma = createPrisma(requireDatabaseUrl(cfg), 2);
      try {
        const out = await createWorkspace({ prisma, clock: () => new Date(), log: createLogger({ level: 'silent' }), metrics: createMetrics() }, { name: o.name });
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } finally {
        await prisma.$disconnect();
      }
    });

  const ledger = program.command('ledger').description('the audit ledger');
  ledger
    .command('verify')
    .description('recompute the hash chain of every workspace (or one) and report edited or deleted events')
    .option('--workspace <id>', 'only this workspace')
    .action(async (o: { workspace?: string }) => {
      const cfg = config();
      const prisma = createPrisma(requireDatabaseUrl(cfg), 2);
      try {
        let last = 0;
        const r = await verifyLedger(prisma, {
          workspaceId: o.workspace,
          onProgress: (n) => {
            if (n - last >= 50_000) {
              last = n;
              console.error(`verified ${n} events...`);
            }
          },
        });
        process.stdout.write(`${JSON.stringify({ ok: r.problems.length === 0, workspaces: r.workspaces, events: r.events, problems: r.problems }, null, 2)}\n`);
        if (r.problems.length > 0) process.exitCode = 1;
      } finally {
        await prisma.$disconnect();
      }
    });

  program
    .command('sandbox')
    .description('start the HubSpot and Salesforce sandboxes (wire-compatible fakes)')
    .option('--hubspot-port <n>', 'HubSpot sandbox port', '4010')
    .option('--salesforce-port <n>', 'Salesforce sandbox port', '4020')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--load <file>', 'load a snapshot (JSON) at start')
    .option('--save <file>', 'save a snapshot (JSON) when stopped')
    .option('--no-limits', 'turn rate limits and API allowances off (benchmarks)')
    .action(async (o: { hubspotPort: string; salesforcePort: string; host: string; load?: string; save?: string; limits: boolean }) => {
      const { runSandboxCommand } = await import('./sandbox/launcher');
      await runSandboxCommand({
        hubspotPort: Number(o.hubspotPort),
        salesforcePort: Number(o.salesforcePort),
        host: o.host,
        load: o.load,
        save: o.save,
        limits: o.limits,
      });
    });

  program
    .command('demo')
    .description('run the whole loop on embedded defaults and print what happens, step by step')
    .action(async () => {
      const { runDemo } = await import('../scripts/demo/run-demo');
      const ok = await runDemo();
      process.exitCode = ok ? 0 : 1;
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      console.error(`dealreg: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv);
