// The daily budget's pure decision: go, pace (one call per interval, org-wide), or stop.
import { decideBudget, SPENT_RETRY_MS } from '../../../../src/crm/salesforce/salesforce-budget';

const now = Date.parse('2026-11-20T10:00:00Z');
const state = (used: number, max = 100_000, ageMs = 0) => ({ used, max, at: now - ageMs });
const interval = (used: number, percent = 50) => {
  const d = decideBudget(state(used), { percent, now });
  return d.kind === 'pace' ? d.intervalMs : d.kind;
};

describe('decideBudget', () => {
  it('goes when nothing is known yet, or the org reports no allowance', () => {
    expect(decideBudget(null, { percent: 50, now })).toEqual({ kind: 'go' });
    expect(decideBudget(state(5, 0), { percent: 50, now })).toEqual({ kind: 'go' });
  });

  it('goes freely below 80 % of dealreg’s share', () => {
    expect(decideBudget(state(39_999), { percent: 50, now })).toEqual({ kind: 'go' });
  });

  it('paces past 80 % of the share, the interval growing as the rest shrinks', () => {
    // share 50,000; slow zone 40,000..50,000; interval = ramp × 24 h / what is left.
    expect(interval(40_000)).toBe('go');
    expect(interval(41_000)).toBe(Math.round((0.1 * 86_400_000) / 9_000)); // 960 ms
    expect(interval(45_000)).toBe(8640);
    expect(interval(49_000)).toBe(77_760);
    const grows = [41_000, 43_000, 45_000, 47_000, 49_000, 49_900].map((u) => interval(u) as number);
    expect(grows).toEqual([...grows].sort((a, b) => a - b));
    expect(decideBudget(state(45_000), { percent: 50, now })).toMatchObject({ kind: 'pace', spent: false });
  });

  it('never paces slower than one call per quarter of an hour', () => {
    expect(interval(49_999)).toBe(SPENT_RETRY_MS);
  });

  it('stops at the share, for what is left of a quarter of an hour since the count was seen', () => {
    expect(decideBudget(state(50_000), { percent: 50, now })).toEqual({ kind: 'stop', retryAfterMs: SPENT_RETRY_MS });
    expect(decideBudget(state(50_000, 100_000, 60_000), { percent: 50, now })).toEqual({ kind: 'stop', retryAfterMs: SPENT_RETRY_MS - 60_000 });
    expect(decideBudget(state(100_000), { percent: 100, now })).toMatchObject({ kind: 'stop' });
  });

  it('a spent budget whose count is old lets one probe call through per quarter of an hour', () => {
    expect(decideBudget(state(50_000, 100_000, SPENT_RETRY_MS), { percent: 50, now })).toEqual({ kind: 'pace', intervalMs: SPENT_RETRY_MS, spent: true });
  });

  it('clamps the share to 0..100 %', () => {
    expect(decideBudget(state(99_000), { percent: 250, now })).toMatchObject({ kind: 'pace' });
    expect(decideBudget(state(1), { percent: -5, now })).toMatchObject({ kind: 'stop' });
  });
});
