// Wire formats of Salesforce values. Internally datetimes are epoch milliseconds (second precision, as
// Salesforce stores them) and dates are 'YYYY-MM-DD' strings; both compare with plain < and >.

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const formatted = new Map<number, string>();

/** REST format: `2026-01-31T09:15:00.000+0000`. Memoised: the same few stamps are formatted again and again. */
export function formatDateTime(ms: number): string {
  let s = formatted.get(ms);
  if (s === undefined) {
    if (formatted.size > 50_000) formatted.clear();
    s = formatDateTimeUncached(ms);
    formatted.set(ms, s);
  }
  return s;
}

function formatDateTimeUncached(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+0000`
  );
}

/** Change Data Capture payload format: `2026-01-31T09:15:00.000Z`. */
export function formatCdcDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Salesforce keeps datetimes to the second. */
export function truncateToSecond(ms: number): number {
  return ms - (((ms % 1000) + 1000) % 1000);
}

const DATETIME_INPUT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses what the REST API accepts for a datetime field; null when it is not a datetime. */
export function parseDateTimeInput(value: string): number | null {
  const m = DATETIME_INPUT.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (!validDate(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    t -= sign * offset * 60_000;
  }
  return truncateToSecond(t);
}

const DATE_INPUT = /^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$/;

/** Parses a date field value (`YYYY-MM-DD`, a datetime's date part is accepted too). */
export function parseDateInput(value: string): string | null {
  const m = DATE_INPUT.exec(value.trim());
  if (!m) return null;
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

export function startOfUtcDay(ms: number): number {
  return ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
}

export const DAY_MS = 86_400_000;
