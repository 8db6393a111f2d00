// The one place a CRM error becomes retry / pause / park / fail, and the backoff it waits.
// Randomness is injected: `low` and `high` are the ends of Math.random's range.
import { CrmError, type CrmErrorCode } from '../../../src/crm/crm-adapter';
import { RETRY_POLICY, backoffMs, decideRetry } from '../../../src/crm/retry-decision';

const low = () => 0;
const high = () => 0.999999;
const mid = () => 0.5;
const err = (code: CrmErrorCode, message = `HubSpot said ${code}`, extra: ConstructorParameters<typeof CrmError>[3] = {}) => new CrmError('hubspot', code, message, extra);

describe('decideRetry', () => {
  describe('RATE_LIMITED: pause without spending an attempt', () => {
    it('waits what Retry-After asked, plus up to 250 ms of spread', () => {
      const e = err('RATE_LIMITED', 'You have reached your secondly limit.', { status: 429, retryAfterMs: 2_000 });
      expect(decideRetry(e, 1, low)).toEqual({ action: 'pause', waitMs: 2_000, reason: 'rate limited: You have reached your secondly limit.' });
      expect(decideRetry(e, 1, high).waitMs).toBe(2_250);
    });

    it('waits HubSpot\'s 10 s window when no Retry-After came with the 429', () => {
      expect(decideRetry(err('RATE_LIMITED', '429', { status: 429 }), 1, low)).toMatchObject({ action: 'pause', waitMs: 10_000 });
    });

    it('caps a very long Retry-After at five minutes', () => {
      const e = err('RATE_LIMITED', 'daily limit', { retryAfterMs: 6 * 60 * 60_000 });
      expect(decideRetry(e, 1, low).waitMs).toBe(RETRY_POLICY.maxDelayMs);
      expect(decideRetry(e, 1, high).waitMs).toBeLessThanOrEqual(RETRY_POLICY.maxDelayMs + 250);
    });

    it('honours a Retry-After of 0 (go now, spread a little)', () => {
      expect(decideRetry(err('RATE_LIMITED', 'slow down', { retryAfterMs: 0 }), 1, low).waitMs).toBe(0);
    });

    it('ignores a negative or unparsable Retry-After and waits the default window', () => {
      expect(decideRetry(err('RATE_LIMITED', 'x', { retryAfterMs: -5 }), 1, low).waitMs).toBe(10_000);
      expect(decideRetry(err('RATE_LIMITED', 'x', { retryAfterMs: Number.NaN }), 1, low).waitMs).toBe(10_000);
    });

    it('pauses however many attempts came before: a rate limit never makes the item fail', () => {
      expect(decideRetry(err('RATE_LIMITED', 'x', { retryAfterMs: 1_000 }), 500, low)).toMatchObject({ action: 'pause', waitMs: 1_000 });
    });
  });

  it('AUTH parks the connection at once', () => {
    expect(decideRetry(err('AUTH', 'refresh token revoked', { status: 401 }), 1, mid)).toEqual({ action: 'park', waitMs: 0, reason: 'credentials rejected: refresh token revoked' });
  });

  it.each(['INVALID', 'NOT_FOUND'] as const)('%s fails on the first attempt: the same input will not get better', (code) => {
    expect(decideRetry(err(code, 'Property values were not valid'), 1, mid)).toEqual({ action: 'fail', waitMs: 0, reason: 'Property values were not valid' });
  });

  it.each(['TEMPORARY', 'CONFLICT'] as const)('%s is retried with backoff', (code) => {
    expect(decideRetry(err(code, 'upstream 502'), 1, low)).toEqual({ action: 'retry', waitMs: 500, reason: 'upstream 502' });
    expect(decideRetry(err(code, 'upstream 502'), 3, high)).toEqual({ action: 'retry', waitMs: 4_000, reason: 'upstream 502' });
  });

  it.each(['TEMPORARY', 'CONFLICT'] as const)('%s fails once the attempts are used up', (code) => {
    const last = RETRY_POLICY.maxAttempts;
    expect(decideRetry(err(code, 'timeout'), last - 1, low).action).toBe('retry');
    expect(decideRetry(err(code, 'timeout'), last, low)).toEqual({ action: 'fail', waitMs: 0, reason: `gave up after ${last} attempts: timeout` });
    expect(decideRetry(err(code, 'timeout'), last + 3, low).action).toBe('fail');
  });

  it('treats an error that is not a CrmError (a socket reset, a bug) as temporary', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(decideRetry(reset, 1, low)).toEqual({ action: 'retry', waitMs: 500, reason: 'socket hang up' });
    expect(decideRetry('boom', 2, low)).toEqual({ action: 'retry', waitMs: 1_000, reason: 'boom' });
    expect(decideRetry(new TypeError('x is undefined'), RETRY_POLICY.maxAttempts, low).action).toBe('fail');
  });

  it('takes a policy: fewer attempts, shorter waits', () => {
    const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, defaultRateLimitWaitMs: 2_000 };
    expect(decideRetry(err('TEMPORARY'), 2, low, policy)).toMatchObject({ action: 'retry', waitMs: 100 });
    expect(decideRetry(err('TEMPORARY'), 3, low, policy).action).toBe('fail');
    expect(decideRetry(err('RATE_LIMITED'), 1, low, policy).waitMs).toBe(2_000);
    expect(decideRetry(err('RATE_LIMITED', 'x', { retryAfterMs: 60_000 }), 1, low, policy).waitMs).toBe(1_000);
  });

  it('uses Math.random when no random source is given, staying inside the jitter bounds', () => {
    for (let i = 0; i < 50; i++) {
      const { waitMs } = decideRetry(err('TEMPORARY'), 2);
      expect(waitMs).toBeGreaterThanOrEqual(1_000);
      expect(waitMs).toBeLessThanOrEqual(2_000);
    }
  });
});

describe('backoffMs', () => {
  it('doubles with each attempt, from one second', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, high))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('jitters between half and all of the step', () => {
    expect(backoffMs(4, low)).toBe(4_000);
    expect(backoffMs(4, mid)).toBe(6_000);
    expect(backoffMs(4, high)).toBe(8_000);
    expect(backoffMs(4, () => 1)).toBe(8_000);
  });

  it('stays inside the bounds for any random value', () => {
    for (let i = 0; i <= 100; i++) {
      const r = i / 100;
      const w = backoffMs(6, () => r);
      expect(w).toBeGreaterThanOrEqual(16_000);
      expect(w).toBeLessThanOrEqual(32_000);
    }
  });

  it('is capped at five minutes, however many attempts', () => {
    expect(backoffMs(9, high)).toBe(256_000);
    expect(backoffMs(10, high)).toBe(RETRY_POLICY.maxDelayMs);
    expect(backoffMs(10, low)).toBe(RETRY_POLICY.maxDelayMs / 2);
    expect(backoffMs(5_000, high)).toBe(RETRY_POLICY.maxDelayMs);
  });

  it('treats attempt 0 or below as the first attempt', () => {
    expect(backoffMs(0, high)).toBe(1_000);
    expect(backoffMs(-3, high)).toBe(1_000);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(backoffMs(3, () => 0.123456))).toBe(true);
  });
});
