// Daily API usage over a rolling 24 hours, kept as per-hour buckets on the org (serialised with it) and a
// running total that is recomputed only when the hour changes.
import type { Org } from './org';

const HOUR = 3_600_000;
const totals = new WeakMap<Org, { hour: number; total: number; buckets: Array<[number, number]> }>();

function current(org: Org, hour: number): { hour: number; total: number; buckets: Array<[number, number]> } {
  const cached = totals.get(org);
  if (cached && cached.hour === hour && cached.buckets === org.data.usage) return cached;
  const buckets = org.data.usage;
  let drop = 0;
  while (drop < buckets.length && buckets[drop]![0] <= hour - 24) drop++;
  if (drop > 0) buckets.splice(0, drop);
  let total = 0;
  for (const [, n] of buckets) total += n;
  const fresh = { hour, total, buckets };
  totals.set(org, fresh);
  return fresh;
}

/** API requests counted in the last 24 hours. */
export function apiUsage(org: Org, now: number): number {
  return current(org, Math.floor(now / HOUR)).total;
}

/** Counts one API request; `allowed` is false once the daily allowance is spent (the request is not counted then). */
export function countApiRequest(org: Org, now: number, enforce: boolean): { allowed: boolean; used: number; max: number } {
  const hour = Math.floor(now / HOUR);
  const c = current(org, hour);
  const max = org.settings.dailyApiLimit;
  if (enforce && c.total >= max) return { allowed: false, used: c.total, max };
  const last = c.buckets[c.buckets.length - 1];
  if (last && last[0] === hour) last[1] += 1;
  else c.buckets.push([hour, 1]);
  c.total += 1;
  return { allowed: true, used: c.total, max };
}

/** Sets the usage of the current rolling day (control API), e.g. to test a nearly spent allowance. */
export function setApiUsage(org: Org, now: number, used: number): void {
  org.data.usage = used > 0 ? [[Math.floor(now / HOUR), used]] : [];
  totals.delete(org);
}
