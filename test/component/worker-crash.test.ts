// "Kill the worker mid-batch and restart it: nothing lost, nothing doubled."
// A real worker process (`dealreg serve --role worker`) expires a large batch of lapsed registrations;
// we SIGKILL it part-way, start a new one, and check every registration was expired exactly once,
// every outbox row became exactly one job, and the ledger still verifies.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import { v7 as uuidv7 } from 'uuid';
import { startHarness, REDIS_URL, type Harness } from '../helpers/harness';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { verifyLedger } from '../../src/data/ledger';
import { MAINTENANCE_JOBS, QUEUES, outboxJobId } from '../../src/jobs/queues';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';

const ROOT = path.resolve(__dirname, '..', '..');
const N = 1500;

let h: Harness;
let workspaceId: string;
const children: ChildProcess[] = [];

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src', 'cli.ts'), 'serve', '--role', 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: h.db.url,
      REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      LOG_LEVEL: 'error',
      OUTBOX_POLL_MS: '50',
      PROTECTION_SWEEP_MS: '3600000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') console.error(`worker exited ${code} ${signal}: ${stderr}`);
  });
  children.push(child);
  return child;
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  h = await startHarness();
  ({ workspaceId } = await createWorkspace(h.ctx, { name: 'crash' }));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await h?.close();
});

describe('worker crash and restart', () => {
  it(`expires ${N} lapsed registrations exactly once across a SIGKILL mid-batch`, async () => {
    const partner = await h.prisma.partner.create({ data: { workspaceId, name: 'Crashy Partner', type: 'reseller' } });
    const past = new Date(Date.now() - 86_400_000);
    const ids = Array.from({ length: N }, () => uuidv7());
    await h.prisma.registration.createMany({
      data: ids.map((id, i) => ({
        id,
        workspaceId,
        partnerId: partner.id,
        status: 'approved' as const,
        companyName: `Company ${i}`,
        companyNameKey: `company ${i}`,
        companyDomain: `company-${i}.com`,
        contactName: 'C',
        contactEmail: 'c@company.com',
        verdict: { outcome: 'approve', reasons: [], policyVersion: 1 },
        evidence: {},
        policyVersion: 1,
        protectionStartsAt: new Date(past.getTime() - 90 * 86_400_000),
        protectionEndsAt: past,
      })),
    });
    await h.prisma.accountHold.createMany({ data: ids.map((id, i) => ({ workspaceId, domain: `company-${i}.com`, registrationId: id, partnerId: partner.id })) });

    const maintenance = new Queue(QUEUES.maintenance, { connection: h.redis, prefix: h.prefix });
    const events = new Queue(QUEUES.registrationEvents, { connection: h.redis, prefix: h.prefix });
    try {
      const first = startWorker();
      await maintenance.add(MAINTENANCE_JOBS.protectionSweep, {}, { jobId: 'sweep-1' });
      const expiredCount = () => h.prisma.registration.count({ where: { workspaceId, status: 'expired' } });
      await waitFor('the first worker to expire some registrations', async () => (await expiredCount()) >= 100);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const atKill = await expiredCount();
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(N); // really mid-batch

      startWorker();
      await maintenance.add(MAINTENANCE_JOBS.protectionSweep, {}, { jobId: 'sweep-2' });
      await waitFor('all registrations expired', async () => (await expiredCount()) === N);
      await waitFor('the outbox to drain into BullMQ and the jobs to finish', async () => {
        const pending = await h.prisma.outboxMessage.count({ where: { dispatchedAt: null } });
        const c = await events.getJobCounts('waiting', 'active', 'delayed');
        return pending === 0 && (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0;
      });

      // Nothing lost, nothing doubled: one expiry event and one outbox row per registration...
      const perRegistration = await h.prisma.ledgerEvent.groupBy({ by: ['registrationId'], where: { workspaceId, type: 'registration.expired' }, _count: { _all: true } });
      expect(perRegistration).toHaveLength(N);
      expect(perRegistration.every((g) => g._count._all === 1)).toBe(true);
      const outbox = await h.prisma.outboxMessage.findMany({ where: { workspaceId }, select: { id: true, dispatchedAt: true } });
      expect(outbox).toHaveLength(N);
      expect(outbox.every((o) => o.dispatchedAt !== null)).toBe(true);
      // ...and exactly one job per outbox row.
      const completed = await events.getJobCounts('completed', 'failed');
      expect(completed.completed).toBe(N);
      expect(completed.failed).toBe(0);
      for (const o of outbox.slice(0, 50)) expect(await events.getJob(outboxJobId(o.id))).toBeDefined();
      expect(await h.prisma.accountHold.count({ where: { workspaceId } })).toBe(0);
      const verify = await verifyLedger(h.prisma, { workspaceId });
      expect(verify.problems).toEqual([]);
      expect(verify.events).toBe(N + 1); // + workspace.created
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await maintenance.close();
      await events.close();
    }
  }, 180_000);
});

describe('outbox dispatcher faults', () => {
  it('when Redis refuses the jobs, the outbox rows stay and are dispatched later (nothing lost)', async () => {
    const queue = new Queue(`${QUEUES.registrationEvents}-faulty`, { connection: h.redis, prefix: h.prefix });
    try {
      await h.prisma.outboxMessage.createMany({ data: [1, 2, 3].map(() => ({ workspaceId, topic: 'registration.changed', payload: {} })) });
      const broken = { addBulk: async () => { throw new Error('READONLY You can\'t write against a read only replica.'); } } as unknown as Queue;
      const failing = new OutboxDispatcher({ prisma: h.prisma, queue: broken, log: h.ctx.log, metrics: h.ctx.metrics, pollMs: 50 });
      await expect(failing.dispatchOnce()).rejects.toThrow(/READONLY/);
      expect(await h.prisma.outboxMessage.count({ where: { dispatchedAt: null } })).toBe(3);

      const working = new OutboxDispatcher({ prisma: h.prisma, queue, log: h.ctx.log, metrics: h.ctx.metrics, pollMs: 50 });
      expect(await working.dispatchOnce()).toBe(3);
      expect(await h.prisma.outboxMessage.count({ where: { dispatchedAt: null } })).toBe(0);
      expect(await queue.count()).toBe(3);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('when the process dies after enqueueing but before marking rows dispatched, re-dispatch adds no duplicate jobs', async () => {
    const queue = new Queue(`${QUEUES.registrationEvents}-crashy`, { connection: h.redis, prefix: h.prefix });
    try {
      await h.prisma.outboxMessage.createMany({ data: [1, 2, 3, 4].map(() => ({ workspaceId, topic: 'registration.changed', payload: {} })) });
      // addBulk succeeds in Redis, then the "process" dies before the commit.
      const crashAfterAdd = {
        addBulk: async (jobs: Parameters<Queue['addBulk']>[0]) => {
          await queue.addBulk(jobs);
          throw new Error('simulated crash between enqueue and commit');
        },
      } as unknown as Queue;
      const crashing = new OutboxDispatcher({ prisma: h.prisma, queue: crashAfterAdd, log: h.ctx.log, metrics: h.ctx.metrics, pollMs: 50 });
      await expect(crashing.dispatchOnce()).rejects.toThrow(/simulated crash/);
      expect(await h.prisma.outboxMessage.count({ where: { dispatchedAt: null } })).toBe(4);
      expect(await queue.count()).toBe(4);

      const again = new OutboxDispatcher({ prisma: h.prisma, queue, log: h.ctx.log, metrics: h.ctx.metrics, pollMs: 50 });
      expect(await again.dispatchOnce()).toBe(4);
      expect(await h.prisma.outboxMessage.count({ where: { dispatchedAt: null } })).toBe(0);
      expect(await queue.count()).toBe(4); // the same job ids: BullMQ kept one of each
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
