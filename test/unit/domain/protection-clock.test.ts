import {
  checkExtensionRequest,
  computeProtection,
  daysLeft,
  dueReminders,
  isLapsed,
  maxProtectionDays,
} from '../../../src/domain/protection-clock';
import type { ClockEvent, Protection } from '../../../src/domain/types';
import { policy } from './fixtures';

const DAY = 86_400_000;
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();
const date = (days: number) => new Date(T0 + days * DAY);
const defaults = policy(); // 90 default, 180 max, +30 per extension, 2 extensions, 30-day window, reminders 14 and 3

const approved = (days = 90, atDay = 0): ClockEvent => ({ type: 'approved', at: at(atDay), days });
const extended = (atDay: number, days = 30): ClockEvent => ({ type: 'extended', at: at(atDay), days });
const ended = (atDay: number, status: 'won' | 'lost' | 'expired' | 'withdrawn' = 'won'): ClockEvent => ({ type: 'ended', at: at(atDay), status });

const clock = (over: Partial<Protection> = {}): Protection => ({
  startsAt: at(0),
  endsAt: at(90),
  extensionsUsed: 0,
  extendedDays: 0,
  endedAt: null,
  ...over,
});

describe('computeProtection', () => {
  it('is null until the registration is approved', () => {
    expect(computeProtection([], defaults)).toBeNull();
    expect(computeProtection([extended(10), ended(20)], defaults)).toBeNull();
  });

  it('runs from the approval for its days', () => {
    expect(computeProtection([approved(90, 5)], defaults)).toEqual({
      startsAt: at(5),
      endsAt: at(95),
      extensionsUsed: 0,
      extendedDays: 0,
      endedAt: null,
    });
  });

  it.each([
    [400, 180],
    [180, 180],
    [0, 1],
    [-5, 1],
    [30.7, 30],
  ])('clamps an approval of %d days to %d (1..maxDays)', (days, expected) => {
    expect(computeProtection([approved(days)], defaults)!.endsAt).toBe(at(expected));
  });

  it('adds each extension to the end', () => {
    expect(computeProtection([approved(), extended(70), extended(100, 20)], defaults)).toMatchObject({
      endsAt: at(140),
      extensionsUsed: 2,
      extendedDays: 50,
    });
  });

  it('limits one extension to extensionDays', () => {
    expect(computeProtection([approved(), extended(70, 90)], defaults)).toMatchObject({ endsAt: at(120), extendedDays: 30, extensionsUsed: 1 });
  });

  it('counts at most maxExtensions extensions', () => {
    expect(computeProtection([approved(), extended(70), extended(100), extended(130)], defaults)).toMatchObject({
      endsAt: at(150),
      extensionsUsed: 2,
      extendedDays: 60,
    });
  });

  it('never runs longer than maxDays + maxExtensions × extensionDays', () => {
    const p = computeProtection([approved(999), ...Array.from({ length: 6 }, (_, i) => extended(150 + i, 999))], defaults)!;
    expect(maxProtectionDays(defaults)).toBe(240);
    expect((Date.parse(p.endsAt) - Date.parse(p.startsAt)) / DAY).toBe(240);
  });

  it('ignores extensions of no days', () => {
    expect(computeProtection([approved(), extended(70, 0), extended(71, -3)], defaults)).toMatchObject({ endsAt: at(90), extensionsUsed: 0 });
  });

  it('gives the same clock for events in any order', () => {
    const events = [approved(), extended(70), ended(110, 'lost'), extended(100)];
    const expected = computeProtection(events, defaults);
    expect(computeProtection([...events].reverse(), defaults)).toEqual(expected);
    expect(computeProtection([events[2]!, events[0]!, events[3]!, events[1]!], defaults)).toEqual(expected);
    expect(expected).toEqual({ startsAt: at(0), endsAt: at(150), extensionsUsed: 2, extendedDays: 60, endedAt: at(110) });
  });

  it('stops when the registration ends: endedAt set, endsAt unchanged, later extensions ignored', () => {
    expect(computeProtection([approved(), ended(40, 'won'), extended(70)], defaults)).toEqual({
      startsAt: at(0),
      endsAt: at(90),
      extensionsUsed: 0,
      extendedDays: 0,
      endedAt: at(40),
    });
  });

  it('orders events at the same instant: approved, then extended, then ended', () => {
    const p = computeProtection([ended(0, 'withdrawn'), approved(90, 0)], defaults);
    expect(p).toMatchObject({ endsAt: at(90), endedAt: at(0) });
  });

  it('ignores events before the approval and a second approval', () => {
    expect(computeProtection([extended(-5), approved(90, 0), approved(180, 10)], defaults)).toMatchObject({
      startsAt: at(0),
      endsAt: at(90),
      extensionsUsed: 0,
    });
  });

  it('refuses an event with an invalid time', () => {
    expect(() => computeProtection([{ type: 'approved', at: 'yesterday', days: 90 }], defaults)).toThrow(RangeError);
  });
});

describe('daysLeft and isLapsed', () => {
  it.each([
    [0, 90, false],
    [0.5, 90, false],
    [89.5, 1, false],
    [89.99, 1, false],
    [90, 0, true],
    [120, 0, true],
  ])('%d days after the start: %d days left, lapsed %s', (day, left, lapsed) => {
    expect(daysLeft(clock(), date(day))).toBe(left);
    expect(isLapsed(clock(), date(day))).toBe(lapsed);
  });

  it('has no days left and never lapses once ended', () => {
    const p = clock({ endedAt: at(10) });
    expect(daysLeft(p, date(20))).toBe(0);
    expect(isLapsed(p, date(200))).toBe(false);
  });
});

describe('checkExtensionRequest', () => {
  const inWindow = date(70); // 20 days left

  it('grants extensionDays by default inside the window', () => {
    expect(checkExtensionRequest(clock(), 'approved', defaults, inWindow)).toEqual({ ok: true, days: 30 });
  });

  it('grants fewer days when asked', () => {
    expect(checkExtensionRequest(clock(), 'approved', defaults, inWindow, 10)).toEqual({ ok: true, days: 10 });
  });

  it('opens the window exactly extensionWindowDays before the end', () => {
    expect(checkExtensionRequest(clock(), 'approved', defaults, date(60))).toEqual({ ok: true, days: 30 });
    const early = checkExtensionRequest(clock(), 'approved', defaults, date(59.9));
    expect(early).toEqual({
      ok: false,
      code: 'EXTENSION_NOT_ALLOWED',
      message: 'An extension can be requested in the last 30 days of protection; this one runs until 2025-04-01, so ask from 2025-03-02.',
    });
  });

  it.each([
    ['a registration pending review', clock(), 'pending_review', inWindow, undefined, /only an approved registration/i],
    ['a won registration', clock(), 'won', inWindow, undefined, /this one is won/],
    ['an approved registration without a clock', null, 'approved', inWindow, undefined, /not protected/],
    ['an ended clock', clock({ endedAt: at(50) }), 'approved', inWindow, undefined, /not protected/],
    ['a lapsed clock', clock(), 'approved', date(95), undefined, /Protection ended on 2025-04-01/],
    ['a registration extended the maximum number of times', clock({ extensionsUsed: 2, extendedDays: 60 }), 'approved', inWindow, undefined, /already been extended 2 times/],
    ['more days than one extension gives', clock(), 'approved', inWindow, 31, /1 to 30 days; 31 was requested/],
    ['zero days', clock(), 'approved', inWindow, 0, /1 to 30 days/],
    ['a fraction of a day', clock(), 'approved', inWindow, 2.5, /1 to 30 days/],
  ] as const)('refuses %s', (_what, p, status, now, requested, message) => {
    const result = checkExtensionRequest(p, status, defaults, now, requested);
    expect(result).toMatchObject({ ok: false, code: 'EXTENSION_NOT_ALLOWED' });
    expect(!result.ok && result.message).toMatch(message);
  });

  it('refuses every extension when the policy allows none', () => {
    const none = policy({ protection: { maxExtensions: 0 } });
    expect(checkExtensionRequest(clock(), 'approved', none, inWindow)).toEqual({
      ok: false,
      code: 'EXTENSION_NOT_ALLOWED',
      message: 'The rules of engagement do not allow extensions.',
    });
  });

  it('allows the last permitted extension', () => {
    expect(checkExtensionRequest(clock({ extensionsUsed: 1, extendedDays: 30, endsAt: at(120) }), 'approved', defaults, date(100))).toEqual({
      ok: true,
      days: 30,
    });
  });
});

describe('dueReminders', () => {
  it.each([
    ['20 days left', 70, [], []],
    ['exactly 14 days left', 76, [], [14]],
    ['13.5 days left (counts as 14)', 76.5, [], [14]],
    ['10 days left, 14 already sent', 80, [14], []],
    ['3 days left, 14 sent', 87, [14], [3]],
    ['2 days left after downtime, nothing sent: both, nearest first', 88, [], [3, 14]],
    ['1 day left, both sent', 89, [14, 3], []],
  ] as const)('%s → %j', (_what, day, sent, due) => {
    expect(dueReminders(clock(), defaults, date(day), sent)).toEqual(due);
  });

  it('sends nothing once the clock lapsed or ended', () => {
    expect(dueReminders(clock(), defaults, date(91), [])).toEqual([]);
    expect(dueReminders(clock({ endedAt: at(80) }), defaults, date(88), [])).toEqual([]);
  });

  it('uses the policy thresholds, each once', () => {
    const p = policy({ protection: { reminderDays: [7, 30, 7] } });
    expect(dueReminders(clock(), p, date(85), [])).toEqual([7, 30]);
  });
});
