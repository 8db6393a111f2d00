// What every use case receives: the database, a clock, a logger, metrics, and a hook run after a commit
// that wrote outbox rows (so the dispatcher can move them without waiting for its next poll).
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { PrismaClient } from '../data/prisma';
import type { Actor } from '../data/ledger';
import type { StaffRole } from '../domain/types';

export interface UseCaseContext {
  prisma: PrismaClient;
  clock: () => Date;
  log: Logger;
  metrics: Metrics;
  outboxWritten?: () => void;
}

export type StaffPrincipal = { kind: 'staff'; workspaceId: string; tokenId: string; role: StaffRole; name: string };
export type PartnerPrincipal = { kind: 'partner'; workspaceId: string; partnerId: string; keyId: string };
/** A person acting from inside a CRM (card actions), mapped to a staff role. */
export type CrmUserPrincipal = { kind: 'crm_user'; workspaceId: string; crm: 'hubspot' | 'salesforce'; userId: string; role: StaffRole | 'viewer'; name?: string };
export type SystemPrincipal = { kind: 'system'; workspaceId: string; source: string };
export type Principal = StaffPrincipal | PartnerPrincipal | CrmUserPrincipal | SystemPrincipal;

export function actorOf(p: Principal, source?: string): Actor {
  switch (p.kind) {
    case 'staff':
      return { type: 'staff', id: p.tokenId, source: source ?? 'api' };
    case 'partner':
      return { type: 'partner', id: p.partnerId, source: source ?? 'api' };
    case 'crm_user':
      return { type: 'crm_user', id: `${p.crm}:${p.userId}`, source: source ?? `card:${p.crm}` };
    case 'system':
      return { type: 'system', id: null, source: source ?? p.source };
  }
}
