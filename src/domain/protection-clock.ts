// The protection clock (DESIGN.md, "Protection clock"): computed from a registration's events, never stored
// as the truth.
//
// Rules:
// - Approval starts the clock: startsAt = approval time, endsAt = startsAt + days, days clamped to
//   1..policy.protection.maxDays.
// - Each extension adds min(its days, extensionDays) to the end (one of no days is ignored); only the first
//   maxExtensions extensions count. Hence the cap: the whole length (endsAt − startsAt) never exceeds
//   maxDays + maxExtensions × extensionDays (maxProtectionDays).
// - `ended` (won, lost, expired, withdrawn) stops the clock: endedAt is set, endsAt stays; later events
//   are ignored. So are events before the approval and any second approval.
// - Events may arrive in any order: they are sorted by `at` (ties: approved, extended, ended).
// The caps are those of the policy passed in, so pass the policy the registration was approved under if a
// later policy must not shorten it.
import type { Policy } from './policy';
import type { ClockEvent, Protection, RegistrationStatus } from './types';

const DAY_MS = 86_400_000;
const TYPE_ORDER: Record<ClockEvent['type'], number> = { approved: 0, extended: 1, ended: 2 };

const time = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RangeError(`protection clock: "${iso}" is not a valid time`);
  return t;
};
const clamp = (n: number, min: number, max: number): number => Math.min(Math.max(n, min), max);
const wholeDays = (n: number): number => (Number.isFinite(n) ? Math.floor(n) : 0);

/** The longest a protection can run, extensions included: maxDays + maxExtensions × extensionDays. */
export const maxProtectionDays = (policy: Policy): number =>
  policy.protection.maxDays + policy.protection.maxExtensions * policy.protection.extensionDays;

export const computeProtection = (events: readonly ClockEvent[], policy: Policy): Protection | null => {
  const sorted = events
    .map((e) => ({ e, t: time(e.at) }))
    .sort((a, b) => a.t - b.t || TYPE_ORDER[a.e.type] - TYPE_ORDER[b.e.type]);
  const first = sorted.findIndex(({ e }) => e.type === 'approved');
  const approval = sorted[first];
  if (!approval || approval.e.type !== 'approved') return null;

  const { maxDays, extensionDays, maxExtensions } = policy.protection;
  const start = approval.t;
  let days = clamp(wholeDays(approval.e.days), 1, maxDays);
  let extensionsUsed = 0;
  let extendedDays = 0;
  let endedAt: string | null = null;

  for (const { e, t } of sorted.slice(first + 1)) {
    if (e.type === 'ended') {
      endedAt = new Date(t).toISOString();
      break;
    }
    if (e.type !== 'extended' || extensionsUsed >= maxExtensions) continue;
    const added = clamp(wholeDays(e.days), 0, extensionDays);
    if (added === 0) continue;
    extensionsUsed += 1;
    extendedDays += added;
    days += added;
  }

  return {
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + days * DAY_MS).toISOString(),
    extensionsUsed,
    extendedDays,
    endedAt,
  };
};

const msLeft = (p: Protection, now: Date): number => time(p.endsAt) - now.getTime();

/** Whole days of protection left, rounded up (12 hours left → 1); 0 once ended or lapsed. */
export const daysLeft = (p: Protection, now: Date): number => {
  if (p.endedAt !== null) return 0;
  const ms = msLeft(p, now);
  return ms <= 0 ? 0 : Math.ceil(ms / DAY_MS);
};

/** The clock ran out (now ≥ endsAt) and nothing ended it: the registration is due to expire. */
export const isLapsed = (p: Protection, now: Date): boolean => p.endedAt === null && msLeft(p, now) <= 0;

export type ExtensionCheck = { ok: true; days: number } | { ok: false; code: 'EXTENSION_NOT_ALLOWED'; message: string };

const refuse = (message: string): ExtensionCheck => ({ ok: false, code: 'EXTENSION_NOT_ALLOWED', message });
const date = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * May this registration be extended now, and by how many days? Only approved registrations with a running
 * clock, only in the last `extensionWindowDays` before the end, at most `maxExtensions` times, by 1 to
 * `extensionDays` days (default `extensionDays`).
 */
export const checkExtensionRequest = (
  p: Protection | null,
  status: RegistrationStatus,
  policy: Policy,
  now: Date,
  requestedDays?: number,
): ExtensionCheck => {
  const { extensionDays, maxExtensions, extensionWindowDays } = policy.protection;
  if (status !== 'approved') return refuse(`Only an approved registration can be extended; this one is ${status}.`);
  if (p === null || p.endedAt !== null) return refuse('This registration is not protected, so there is nothing to extend.');
  if (isLapsed(p, now)) return refuse(`Protection ended on ${date(time(p.endsAt))}; it can no longer be extended.`);
  if (maxExtensions === 0) return refuse('The rules of engagement do not allow extensions.');
  if (p.extensionsUsed >= maxExtensions) {
    return refuse(`This registration has already been extended ${p.extensionsUsed} time${p.extensionsUsed === 1 ? '' : 's'}, the most allowed.`);
  }
  if (msLeft(p, now) > extensionWindowDays * DAY_MS) {
    const opens = time(p.endsAt) - extensionWindowDays * DAY_MS;
    return refuse(
      `An extension can be requested in the last ${extensionWindowDays} days of protection; this one runs until ${date(time(p.endsAt))}, so ask from ${date(opens)}.`,
    );
  }
  const requested = requestedDays ?? extensionDays;
  if (!Number.isInteger(requested) || requested < 1 || requested > extensionDays) {
    return refuse(`An extension is 1 to ${extensionDays} days; ${requestedDays} was requested.`);
  }
  return { ok: true, days: requested };
};

/**
 * The reminder thresholds (policy.protection.reminderDays) due now and not yet sent, nearest first. A
 * threshold t is due once daysLeft ≤ t. After downtime several can be due at once: the caller sends one
 * reminder naming the first (the nearest end) and records all of them as sent. `alreadySent` holds the
 * thresholds sent for the current endsAt (start afresh after an extension). Nothing is due once the clock
 * ended or lapsed: expiry takes over.
 */
export const dueReminders = (p: Protection, policy: Policy, now: Date, alreadySent: readonly number[]): number[] => {
  if (p.endedAt !== null || isLapsed(p, now)) return [];
  const left = daysLeft(p, now);
  const sent = new Set(alreadySent);
  return [...new Set(policy.protection.reminderDays)].filter((t) => left <= t && !sent.has(t)).sort((a, b) => a - b);
};

/**
 * When the next reminder becomes due (consistent with dueReminders: a threshold of t days is due once
 * at most t days are left), or null when every threshold was sent or the clock has ended. Stored on the
 * registration so the sweep finds due reminders with an indexed query instead of scanning.
 */
export const nextReminderAt = (p: Protection, policy: Policy, alreadySent: readonly number[]): Date | null => {
  if (p.endedAt !== null) return null;
  const sent = new Set(alreadySent);
  const unsent = policy.protection.reminderDays.filter((t) => !sent.has(t));
  if (unsent.length === 0) return null;
  return new Date(Date.parse(p.endsAt) - Math.max(...unsent) * 86_400_000);
};
