// Transactional outbox rows: written in the same transaction as the change they announce.
import type { Db } from './prisma';

export const OUTBOX_TOPICS = ['registration.changed'] as const;
export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

export interface OutboxAppend {
  workspaceId: string;
  topic: OutboxTopic;
  registrationId?: string | null;
  /** Ids and small facts only: handlers re-read state before acting. */
  payload?: Record<string, string | number | boolean | null>;
}

export function outboxInsert(db: Db, m: OutboxAppend) {
  return db.outboxMessage.create({
    data: { workspaceId: m.workspaceId, topic: m.topic, registrationId: m.registrationId ?? null, payload: m.payload ?? {} },
    select: { id: true },
  });
}
