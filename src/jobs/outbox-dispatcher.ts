// Moves outbox rows into BullMQ. Rows are claimed with FOR UPDATE SKIP LOCKED (several dispatchers may
// run), added as jobs whose id is the outbox id, then stamped dispatched, all inside one transaction:
//  - Redis down: the transaction rolls back, the rows stay, the next poll retries them (nothing lost);
//  - crash after adding, before commit: the rows are added again with the same job ids, which BullMQ
//    ignores while the first jobs are retained (a week) (nothing doubled).
import type { Queue } from 'bullmq';
import type { PrismaClient } from '../data/prisma';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { outboxJobId, type RegistrationEventJob } from './queues';

interface OutboxRow {
  id: bigint;
  workspace_id: string;
  topic: string;
  registration_id: string | null;
  payload: Record<string, unknown> | null;
}

export interface DispatcherOptions {
  prisma: PrismaClient;
  queue: Queue;
  log: Logger;
  metrics: Metrics;
  pollMs: number;
  batchSize?: number;
}

export class OutboxDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private lastGauge = 0;
  private failures = 0;

  constructor(private readonly o: DispatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Ask for a dispatch soon (after a commit that wrote outbox rows). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.loop().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    let delay = this.o.pollMs;
    try {
      let moved: number;
      do {
        this.again = false;
        moved = await this.dispatchOnce();
      } while (!this.stopped && (moved === (this.o.batchSize ?? 500) || this.again));
      this.failures = 0;
      await this.updateGauges();
    } catch (err) {
      this.failures++;
      delay = Math.min(this.o.pollMs * 2 ** this.failures, 10_000);
      this.o.log.warn({ err, retryInMs: delay }, 'outbox dispatch failed; rows stay in the outbox and will be retried');
    }
    this.schedule(delay);
  }

  /** One batch. Returns how many rows were moved. */
  async dispatchOnce(): Promise<number> {
    const batch = this.o.batchSize ?? 500;
    return this.o.prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<OutboxRow[]>`
          SELECT id, workspace_id, topic, registration_id, payload FROM outbox
          WHERE dispatched_at IS NULL ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return 0;
        await this.o.queue.addBulk(
          rows.map((r) => {
            const data: RegistrationEventJob = {
              outboxId: r.id.toString(),
              workspaceId: r.workspace_id,
              registrationId: r.registration_id,
              topic: r.topic,
              event: typeof r.payload?.event === 'string' ? r.payload.event : null,
            };
            return { name: r.topic, data, opts: { jobId: outboxJobId(r.id) } };
          }),
        );
        const ids = rows.map((r) => r.id);
        await tx.$executeRaw`UPDATE outbox SET dispatched_at = now() WHERE id = ANY(${ids}::bigint[])`;
        return rows.length;
      },
      { timeout: 30_000 },
    );
  }

  private async updateGauges(): Promise<void> {
    const now = Date.now();
    if (now - this.lastGauge < 5000) return;
    this.lastGauge = now;
    const [row] = await this.o.prisma.$queryRaw<{ n: number; oldest: Date | null }[]>`
      SELECT count(*)::int AS n, min(created_at) AS oldest FROM outbox WHERE dispatched_at IS NULL`;
    this.o.metrics.outboxPending.set(row?.n ?? 0);
    this.o.metrics.outboxLagSeconds.set(row?.oldest ? Math.max(0, (now - row.oldest.getTime()) / 1000) : 0);
  }
}
