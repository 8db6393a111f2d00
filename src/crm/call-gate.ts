// Rate limiting per CRM connection, shared by every worker through Redis (rate-limiter-flexible).
//
// HubSpot allows 110 requests in any rolling 10 s per portal. A fixed 1-second window of N requests
// keeps any rolling 10 s under 11 × N (a 10-s span touches at most 11 one-second windows), so N = 10
// never exceeds 110 while using 91 % of it. Search has its own limit (about 5 / s): its own window.
// When the CRM answers 429 anyway (another app on the same portal, clock skew), `rateLimited` pauses
// the connection for everyone until the CRM's Retry-After has passed.
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CrmError, type CallGate, type CrmName } from './crm-adapter';

export interface GateLimits {
  apiPerSecond: number;
  searchPerSecond: number;
}

export interface CallGateOptions {
  redis: Redis;
  /** Key namespace (the installation's queue prefix), so that test runs and installations do not share. */
  prefix: string;
  crm: CrmName;
  connectionId: string;
  limits: GateLimits;
  /** Wait in-process for a slot at most this long; beyond it, throw RATE_LIMITED so the job is delayed. */
  maxWaitMs?: number;
  onObserve?: CallGate['observe'];
}

const limiterCache = new Map<string, RateLimiterRedis>();

function limiter(redis: Redis, keyPrefix: string, points: number): RateLimiterRedis {
  const k = `${keyPrefix}|${points}`;
  let l = limiterCache.get(k);
  if (!l) {
    l = new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: 1 });
    limiterCache.set(k, l);
    if (limiterCache.size > 10_000) limiterCache.clear();
  }
  return l;
}

export function pauseKey(prefix: string, connectionId: string): string {
  return `${prefix}:crm-pause:${connectionId}`;
}

/** How long the connection is paused for (ms; 0 when not paused). */
export async function pausedForMs(redis: Redis, prefix: string, connectionId: string): Promise<number> {
  const ttl = await redis.pttl(pauseKey(prefix, connectionId));
  return ttl > 0 ? ttl : 0;
}

export function createCallGate(o: CallGateOptions): CallGate {
  const maxWaitMs = o.maxWaitMs ?? 1000;
  const api = limiter(o.redis, `${o.prefix}:crm-rl:api`, o.limits.apiPerSecond);
  const search = limiter(o.redis, `${o.prefix}:crm-rl:search`, o.limits.searchPerSecond);
  const pKey = pauseKey(o.prefix, o.connectionId);
  return {
    async acquire(kind) {
      const started = Date.now();
      for (;;) {
        const paused = await o.redis.pttl(pKey);
        if (paused > 0) {
          throw new CrmError(o.crm, 'RATE_LIMITED', `connection paused for ${paused} ms after the CRM's rate limit`, { retryAfterMs: paused, crmCode: 'PAUSED' });
        }
        try {
          await (kind === 'search' ? search : api).consume(o.connectionId, 1);
          return;
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) throw new CrmError(o.crm, 'TEMPORARY', `rate limiter unavailable: ${(err as Error).message}`, { cause: err });
          const wait = Math.max(1, err.msBeforeNext);
          if (Date.now() - started + wait > maxWaitMs) {
            throw new CrmError(o.crm, 'RATE_LIMITED', `local ${kind} limit reached`, { retryAfterMs: wait, crmCode: 'LOCAL_LIMIT' });
          }
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    },
    async rateLimited(retryAfterMs) {
      const ms = Math.max(100, Math.round(retryAfterMs));
      // Only ever lengthen a pause: a shorter Retry-After from a straggler must not cut a longer one.
      const current = await o.redis.pttl(pKey);
      if (current < ms) await o.redis.set(pKey, String(Date.now() + ms), 'PX', ms);
    },
    observe: o.onObserve,
  };
}
