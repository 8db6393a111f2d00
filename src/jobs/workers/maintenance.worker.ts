// Repeatable housekeeping jobs.
import { runProtectionSweep } from '../../use-cases/registration-lifecycle';
import type { UseCaseContext } from '../../use-cases/context';
import { MAINTENANCE_JOBS } from '../queues';

const OUTBOX_RETENTION_DAYS = 7;

export async function handleMaintenanceJob(ctx: UseCaseContext, name: string): Promise<Record<string, number>> {
  switch (name) {
    case MAINTENANCE_JOBS.protectionSweep: {
      const r = await runProtectionSweep(ctx, {
        onProgress: (p) => ctx.log.info({ expired: p.expired, reminders: p.reminders }, 'protection sweep progress'),
      });
      if (r.expired > 0 || r.reminders > 0) ctx.log.info({ expired: r.expired, reminders: r.reminders }, 'protection sweep done');
      return { ...r };
    }
    case MAINTENANCE_JOBS.outboxCleanup: {
      // Dispatched rows are only history once BullMQ no longer remembers their job ids.
      const cutoff = new Date(ctx.clock().getTime() - OUTBOX_RETENTION_DAYS * 86_400_000);
      const r = await ctx.prisma.outboxMessage.deleteMany({ where: { dispatchedAt: { lt: cutoff } } });
      return { deleted: r.count };
    }
    default:
      throw new Error(`unknown maintenance job ${name}`);
  }
}
