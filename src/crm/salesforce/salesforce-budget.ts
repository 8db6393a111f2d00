// The share of an org's daily API allowance dealreg may spend, shared by every worker through Redis.
//
// Salesforce meters API requests per org over a rolling 24 hours and reports the count on every answer
// (`Sforce-Limit-Info: api-usage=N/M`). Other integrations and the customer's own tools live off the same
// allowance, so dealreg stops at its share (`percent`) and, before that, slows down: past SLOW_FROM of its
// share, calls are paced (one at a time per interval, org-wide) at a rate that would make the rest last a
// day, ramping in from zero. Usage frees up gradually as the window rolls; a spent budget is looked at
// again by one probe call per quarter of an hour, which brings back a fresh count.
import type { Redis } from 'ioredis';
import { CrmError, type CrmName } from '../crm-adapter';

export interface ApiBudget {
  /** Resolves when a metered call may go out; throws CrmError RATE_LIMITED (retryAfterMs) when it may not yet. */
  beforeCall(): Promise<void>;
  /** What Salesforce said about the org's usage (every answer's Sforce-Limit-Info). */
  observe(used: number, max: number): Promise<void> | void;
}

export interface BudgetState {
  used: number;
  max: number;
  /** When the count was observed (epoch ms). */
  at: number;
}

export type BudgetDecision =
  | { kind: 'go' }
  /** At most one call per `intervalMs` across all workers. `spent`: the budget is used up and this is the probe. */
  | { kind: 'pace'; intervalMs: number; spent: boolean }
  | { kind: 'stop'; retryAfterMs: number };

/** Pacing starts at this share of the budget. */
export const SLOW_FROM = 0.8;
/** A spent budget pauses this long; an observation older than this is re-checked by a probe call. */
export const SPENT_RETRY_MS = 15 * 60_000;
const DAY_MS = 24 * 3_600_000;

/**
 * Pure: may a call go out now? `percent` is dealreg's share of the org's allowance (1..100).
 */
export function decideBudget(state: BudgetState | null, o: { percent: number; now: number }): BudgetDecision {
  if (!state || !(state.max > 0)) return { kind: 'go' };
  const budget = (state.max * Math.min(100, Math.max(0, o.percent))) / 100;
  if (state.used >= budget) {
    const age = o.now - state.at;
    if (age >= SPENT_RETRY_MS) return { kind: 'pace', intervalMs: SPENT_RETRY_MS, spent: true };
    return { kind: 'stop', retryAfterMs: SPENT_RETRY_MS - Math.max(0, age) };
  }
  const soft = budget * SLOW_FROM;
  if (state.used < soft) return { kind: 'go' };
  const ramp = (state.used - soft) / (budget - soft);
  const intervalMs = Math.min(SPENT_RETRY_MS, Math.round((ramp * DAY_MS) / (budget - state.used)));
  return intervalMs < 1 ? { kind: 'go' } : { kind: 'pace', intervalMs, spent: false };
}

/** Waiting for a paced slot in-process up to this long; beyond it the job is delayed instead (RATE_LIMITED). */
export const MAX_IN_PROCESS_WAIT_MS = 1000;
/** The hash outlives the rolling window it describes, so a quiet org's record eventually goes away. */
const STATE_TTL_MS = 26 * 3_600_000;

export function budgetKey(prefix: string, crm: CrmName, orgId: string): string {
  return `${prefix}:crm-budget:${crm}:${orgId}`;
}

export function createApiBudget(o: { redis: Redis; prefix: string; orgId: string; percent: number; crm?: 'salesforce'; now?: () => number }): ApiBudget {
  const crm = o.crm ?? 'salesforce';
  const now = o.now ?? Date.now;
  const key = budgetKey(o.prefix, crm, o.orgId);
  const paceKey = `${key}:pace`;

  const unavailable = (err: unknown): CrmError => new CrmError(crm, 'TEMPORARY', `API budget unavailable: ${(err as Error).message}`, { cause: err });

  const read = async (): Promise<BudgetState | null> => {
    const h = await o.redis.hgetall(key);
    const used = Number(h.used);
    const max = Number(h.max);
    const at = Number(h.at);
    return Number.isFinite(used) && Number.isFinite(max) && Number.isFinite(at) && h.used !== undefined ? { used, max, at } : null;
  };

  return {
    async beforeCall() {
      let decision: BudgetDecision;
      try {
        decision = decideBudget(await read(), { percent: o.percent, now: now() });
      } catch (err) {
        throw unavailable(err);
      }
      if (decision.kind === 'go') return;
      const crmCode = decision.kind === 'stop' || decision.spent ? 'DAILY_BUDGET' : 'DAILY_BUDGET_PACE';
      if (decision.kind === 'stop') {
        throw new CrmError(crm, 'RATE_LIMITED', `dealreg has spent its ${o.percent} % share of the org's daily API requests`, { retryAfterMs: decision.retryAfterMs, crmCode });
      }
      const deadline = Date.now() + MAX_IN_PROCESS_WAIT_MS;
      for (;;) {
        let waitMs: number;
        try {
          if ((await o.redis.set(paceKey, '1', 'PX', decision.intervalMs, 'NX')) === 'OK') return;
          waitMs = Math.max(1, await o.redis.pttl(paceKey));
        } catch (err) {
          throw unavailable(err);
        }
        if (Date.now() + waitMs > deadline) {
          throw new CrmError(crm, 'RATE_LIMITED', `pacing the last of the org's daily API budget: next call in ${waitMs} ms`, { retryAfterMs: waitMs, crmCode });
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    },
    async observe(used, max) {
      if (!Number.isFinite(used) || !Number.isFinite(max)) return;
      await o.redis.multi().hset(key, { used: String(used), max: String(max), at: String(now()) }).pexpire(key, STATE_TTL_MS).exec();
    },
  };
}
