// Access tokens for one CRM connection, shared by every worker: read from the database (encrypted at
// rest), refreshed ahead of expiry under a per-connection Redis lock so that exactly one process calls
// the CRM's token endpoint while the others wait and re-read. A refresh that can never work (revoked
// refresh token, no refresh token) parks the connection and says why.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../data/prisma';
import { parkConnection, readTokens, storeRefreshedTokens, type TokenSet } from '../data/repositories/connections';
import type { Logger } from '../lib/logger';
import { CrmError, type AccessTokenSource, type CrmName } from './crm-adapter';

/** Refresh this long before the access token expires. */
export const REFRESH_AHEAD_MS = 5 * 60_000;
const LOCK_TTL_MS = 15_000;
const LOCK_WAIT_MS = 12_000;

/**
 * Gets a new access token. HubSpot and Salesforce's web-server flow use the stored refresh token;
 * Salesforce's JWT bearer flow has none (null) and signs a new assertion instead.
 */
export type Refresher = (refreshToken: string | null) => Promise<TokenSet>;

export interface TokenSourceOptions {
  prisma: PrismaClient;
  redis: Redis;
  prefix: string;
  key: Buffer;
  crm: CrmName;
  connectionId: string;
  /** How to refresh (CRM-specific); undefined when the connection cannot refresh (private-app token). */
  refresher?: Refresher;
  clock: () => Date;
  log: Logger;
  /** Called once when the connection gets parked (metrics, alerts). */
  onParked?: (reason: string) => void;
}

const RELEASE_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export function createTokenSource(o: TokenSourceOptions): AccessTokenSource {
  const lockKey = `${o.prefix}:crm-token-lock:${o.connectionId}`;
  const log = o.log.child({ component: 'crm-tokens', crm: o.crm, connectionId: o.connectionId });

  const load = async (): Promise<TokenSet> => {
    const t = await readTokens(o.prisma, o.key, o.connectionId);
    if (!t) throw new CrmError(o.crm, 'AUTH', 'the connection has no credentials (disconnected?)');
    if (t.status !== 'active') throw new CrmError(o.crm, 'AUTH', `the connection is ${t.status}`);
    return t;
  };

  const park = async (reason: string): Promise<never> => {
    if (await parkConnection(o.prisma, o.connectionId, reason, o.clock())) {
      log.error({ reason }, 'CRM connection parked: reconnect it to resume syncing');
      o.onParked?.(reason);
    }
    throw new CrmError(o.crm, 'AUTH', reason);
  };

  /** Refreshes unless someone else already did (the stored token is no longer `stale`). */
  const refreshOnce = async (stale: string, why: 'expiring' | 'rejected'): Promise<string> => {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + LOCK_WAIT_MS;
    while ((await o.redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new CrmError(o.crm, 'TEMPORARY', 'timed out waiting for another worker to refresh the token');
      await new Promise((r) => setTimeout(r, 100));
      const now = await load();
      if (now.accessToken !== stale) return now.accessToken;
    }
    try {
      const current = await load();
      if (current.accessToken !== stale && !(why === 'expiring' && expiresSoon(current, o.clock()))) return current.accessToken;
      if (!o.refresher) {
        return await park(why === 'rejected' ? 'the CRM rejected the access token and the connection has no refresh token' : 'the access token expired and the connection has no refresh token');
      }
      let fresh: TokenSet;
      try {
        fresh = await o.refresher(current.refreshToken ?? null);
      } catch (err) {
        if (err instanceof CrmError && err.code === 'AUTH') return await park(`token refresh refused: ${err.message}`);
        throw err;
      }
      await storeRefreshedTokens(o.prisma, o.key, o.connectionId, fresh);
      log.info({ why, expiresAt: fresh.expiresAt?.toISOString() ?? null }, 'access token refreshed');
      return fresh.accessToken;
    } finally {
      await o.redis.eval(RELEASE_LUA, 1, lockKey, token).catch(() => undefined);
    }
  };

  return {
    async current() {
      const t = await load();
      if (expiresSoon(t, o.clock())) return refreshOnce(t.accessToken, 'expiring');
      return t.accessToken;
    },
    async refresh(rejected) {
      return refreshOnce(rejected, 'rejected');
    },
  };
}

function expiresSoon(t: TokenSet, now: Date): boolean {
  return t.expiresAt !== null && t.expiresAt.getTime() - now.getTime() < REFRESH_AHEAD_MS;
}
