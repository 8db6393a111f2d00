// Consumes "registration changed" jobs (one per outbox row) and runs the reactions registered for them
// (the CRM connectors register theirs). Reactions must be idempotent: a job may run more than once.
import type { RegistrationEventJob } from '../queues';
import type { UseCaseContext } from '../../use-cases/context';

export interface RegistrationEventReaction {
  name: string;
  handle(ctx: UseCaseContext, event: RegistrationEventJob): Promise<void>;
}

export async function handleRegistrationEvent(
  ctx: UseCaseContext,
  reactions: readonly RegistrationEventReaction[],
  event: RegistrationEventJob,
): Promise<{ reactions: string[] }> {
  const ran: string[] = [];
  for (const r of reactions) {
    await r.handle(ctx, event);
    ran.push(r.name);
  }
  return { reactions: ran };
}
