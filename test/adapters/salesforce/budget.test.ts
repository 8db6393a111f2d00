// The daily API budget against the local Redis (each test its own key prefix): what workers share, when
// it stops, how it paces the last of the budget across workers, and how a spent budget is probed again.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { budgetKey, createApiBudget, SPENT_RETRY_MS } from '../../../src/crm/salesforce/salesforce-budget';
import { ORG_ID } from './helpers';

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
});
beforeEach(() => {
  prefix = `test-budget-${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});
afterAll(() => redis.quit());

describe('the daily API budget', () => {
  it('is shared: what one worker observes, another worker’s budget acts on', async () => {
    let now = Date.parse('2026-11-20T10:00:00Z');
    const one = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 50, now: () => now });
    const two = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 50, now: () => now });
    await one.beforeCall(); // nothing known yet: go
    await one.observe(10_000, 100_000);
    expect(await redis.hgetall(budgetKey(prefix, 'salesforce', ORG_ID))).toEqual({ used: '10000', max: '100000', at: String(now) });
    await two.beforeCall();
    await one.observe(50_000, 100_000);
    now += 1000;
    await expect(two.beforeCall()).rejects.toMatchObject({ name: 'CrmError', crm: 'salesforce', code: 'RATE_LIMITED', crmCode: 'DAILY_BUDGET', retryAfterMs: SPENT_RETRY_MS - 1000 });
  });

  it('past 80 % of its share, one call per interval goes out across workers; the others are told when', async () => {
    const now = Date.parse('2026-11-20T10:00:00Z');
    const one = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 50, now: () => now });
    const two = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 50, now: () => now });
    // 45,000 of a 50,000 share: halfway through the last fifth, 5,000 left → 0.5 × 24 h / 5,000 ≈ 8.6 s apart.
    await one.observe(45_000, 100_000);
    await one.beforeCall();
    const e = await two.beforeCall().then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ code: 'RATE_LIMITED', crmCode: 'DAILY_BUDGET_PACE' });
    expect((e as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(8000);
    expect((e as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(8640);
  });

  it('a short pacing interval is waited out in-process instead of delaying the job', async () => {
    const now = Date.parse('2026-11-20T10:00:00Z');
    const budget = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 100, now: () => now });
    // Just into the slow zone: 80,100 of 100,000 → 0.005 × 24 h / 19,900 ≈ 22 ms between calls.
    await budget.observe(80_100, 100_000);
    const started = Date.now();
    await budget.beforeCall();
    await budget.beforeCall();
    await budget.beforeCall();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a spent budget is probed again by one call once its count is a quarter of an hour old', async () => {
    let now = Date.parse('2026-11-20T10:00:00Z');
    const budget = createApiBudget({ redis, prefix, orgId: ORG_ID, percent: 50, now: () => now });
    await budget.observe(60_000, 100_000);
    await expect(budget.beforeCall()).rejects.toMatchObject({ crmCode: 'DAILY_BUDGET' });
    now += SPENT_RETRY_MS;
    await budget.beforeCall(); // the probe: its answer brings a fresh count
    await expect(budget.beforeCall()).rejects.toMatchObject({ code: 'RATE_LIMITED', crmCode: 'DAILY_BUDGET' });
  });

  it('Redis being down is TEMPORARY, not a crash and not a free pass', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    const budget = createApiBudget({ redis: dead, prefix, orgId: ORG_ID, percent: 50 });
    await expect(budget.beforeCall()).rejects.toMatchObject({ name: 'CrmError', code: 'TEMPORARY' });
    dead.disconnect();
  });
});
