// Test doubles every CRM adapter's tests use: a CallGate that counts, a token source that records
// refreshes, a nock scope that counts what it answered, and a way to catch the CrmError a call rejects
// with. Each CRM's helpers.ts builds on them next to its own fakes (bodies, an adapter wired for tests).
import nock from 'nock';
import { CrmError, type AccessTokenSource, type CallGate } from '../../src/crm/crm-adapter';

export interface CountingGate extends CallGate {
  acquired: Array<'api' | 'search'>;
  paused: number[];
  observed: Array<Parameters<NonNullable<CallGate['observe']>>[0]>;
}

export function countingGate(): CountingGate {
  const g: CountingGate = {
    acquired: [],
    paused: [],
    observed: [],
    acquire: async (kind) => {
      g.acquired.push(kind);
    },
    rateLimited: async (ms) => {
      g.paused.push(ms);
    },
    observe: (info) => {
      g.observed.push(info);
    },
  };
  return g;
}

export interface RecordingTokens extends AccessTokenSource {
  refreshed: string[];
}

/** Hands out `first`, and `second` after a refresh. */
export function recordingTokens(first = 'token-1', second = 'token-2'): RecordingTokens {
  let current = first;
  const t: RecordingTokens = {
    refreshed: [],
    current: async () => current,
    refresh: async (rejected) => {
      t.refreshed.push(rejected);
      current = second;
      return current;
    },
  };
  return t;
}

export interface CountingScope {
  scope: nock.Scope;
  /** How many requests the scope answered (compare with the gate's count). */
  requests: () => number;
}

/** A nock scope for `baseUrl` that counts the requests it answered. */
export function countingScope(baseUrl: string): CountingScope {
  const scope = nock(baseUrl);
  let n = 0;
  scope.on('request', () => {
    n++;
  });
  return { scope, requests: () => n };
}

/** The CrmError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function crmError(p: Promise<unknown>): Promise<CrmError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CrmError) return e;
    throw e;
  }
  throw new Error('expected a CrmError');
}
