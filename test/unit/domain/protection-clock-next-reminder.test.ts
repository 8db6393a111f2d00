import { computeProtection, dueReminders, nextReminderAt } from '../../../src/domain/protection-clock';
import { defaultPolicy } from '../../../src/domain/policy';

describe('nextReminderAt', () => {
  const policy = defaultPolicy(); // reminders at 14 and 3 days before the end
  const p = computeProtection([{ type: 'approved', at: '2026-01-01T00:00:00.000Z', days: 90 }], policy)!;

  it('is the moment the largest unsent threshold becomes due', () => {
    expect(nextReminderAt(p, policy, [])!.toISOString()).toBe('2026-03-18T00:00:00.000Z'); // ends 04-01, minus 14 days
    expect(nextReminderAt(p, policy, [14])!.toISOString()).toBe('2026-03-29T00:00:00.000Z'); // minus 3 days
    expect(nextReminderAt(p, policy, [14, 3])).toBeNull();
  });

  it('agrees with dueReminders: nothing is due a millisecond before, the threshold is due at that instant', () => {
    const at = nextReminderAt(p, policy, [])!;
    expect(dueReminders(p, policy, new Date(at.getTime() - 1), [])).toEqual([]);
    expect(dueReminders(p, policy, at, [])).toEqual([14]);
  });

  it('is null once the clock has ended', () => {
    const ended = computeProtection(
      [
        { type: 'approved', at: '2026-01-01T00:00:00.000Z', days: 90 },
        { type: 'ended', at: '2026-02-01T00:00:00.000Z', status: 'won' },
      ],
      policy,
    )!;
    expect(nextReminderAt(ended, policy, [])).toBeNull();
  });
});
