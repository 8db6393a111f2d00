// The one place that turns a CRM error into what the job does about it (STYLE.md 4). Pure: the caller
// passes the attempt number and a random source; sleeping is BullMQ's job (delayed jobs, backoff).
import { CrmError, type CrmErrorCode } from './crm-adapter';

export type RetryAction =
  /** Try again after waitMs; counts as an attempt. */
  | 'retry'
  /** The CRM (or our shared limiter) said slow down: delay the job by waitMs without spending an attempt. */
  | 'pause'
  /** The connection's credentials are dead: stop its work until someone reconnects. */
  | 'park'
  /** Give up on this item (it will not get better by retrying); record the error. */
  | 'fail';

export interface RetryDecision {
  action: RetryAction;
  waitMs: number;
  reason: string;
}

export const RETRY_POLICY = {
  /** Attempts for TEMPORARY / CONFLICT errors before the item fails. */
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  /** When a 429 carries no Retry-After: HubSpot's window is 10 s. */
  defaultRateLimitWaitMs: 10_000,
} as const;

/** RETRY_POLICY's shape with plain numbers (the `as const` literals would refuse any other policy). */
type Policy = { readonly [K in keyof typeof RETRY_POLICY]: number };

/** Exponential backoff with full jitter in [50%, 100%] of the step, capped. */
export function backoffMs(attempt: number, random: () => number, policy: Policy = RETRY_POLICY): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + 0.5 * random()));
}

/**
 * @param attempt 1 for the first failure of this item or job, 2 for the second, …
 */
export function decideRetry(error: unknown, attempt: number, random: () => number = Math.random, policy: Policy = RETRY_POLICY): RetryDecision {
  const code: CrmErrorCode = error instanceof CrmError ? error.code : 'TEMPORARY';
  const what = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'RATE_LIMITED': {
      const asked = error instanceof CrmError ? error.retryAfterMs : undefined;
      const waitMs = asked !== undefined && asked >= 0 ? Math.min(asked, policy.maxDelayMs) : policy.defaultRateLimitWaitMs;
      // A few ms of spread so that every paused job does not wake in the same instant.
      return { action: 'pause', waitMs: waitMs + Math.round(random() * 250), reason: `rate limited: ${what}` };
    }
    case 'AUTH':
      return { action: 'park', waitMs: 0, reason: `credentials rejected: ${what}` };
    case 'INVALID':
    case 'NOT_FOUND':
      return { action: 'fail', waitMs: 0, reason: what };
    case 'TEMPORARY':
    case 'CONFLICT':
      if (attempt >= policy.maxAttempts) return { action: 'fail', waitMs: 0, reason: `gave up after ${attempt} attempts: ${what}` };
      return { action: 'retry', waitMs: backoffMs(attempt, random, policy), reason: what };
  }
}
