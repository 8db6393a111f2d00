// SOQL text, built from values that cannot inject anything: ids are checked to be ids, field names to be
// API names, datetimes are formatted by us. There is no free-text literal anywhere in dealreg's queries.
import { CrmError } from '../crm-adapter';
import { toId18 } from './salesforce-ids';

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function invalid(message: string, crmCode: string): CrmError {
  return new CrmError('salesforce', 'INVALID', message, { crmCode });
}

/** The 18-char form of an id for a SOQL literal; CrmError INVALID for anything that is not an id. */
export function soqlId(id: string): string {
  const id18 = toId18(id);
  if (!id18) throw invalid(`"${id.slice(0, 40)}" is not a Salesforce id`, 'MALFORMED_ID');
  return `'${id18}'`;
}

/** `('a','b',…)` for `Id IN`. */
export function soqlIdList(ids: readonly string[]): string {
  return `(${ids.map(soqlId).join(',')})`;
}

/** Whether a name can stand in a SELECT list as is (a field API name, not an expression). */
export function isApiName(name: string): boolean {
  return API_NAME.test(name);
}

/**
 * A datetime literal (`2026-01-31T09:15:00Z`). SystemModstamp has whole seconds, so the literal is the
 * instant rounded UP to a second: `SystemModstamp >= literal` then means exactly `>= instant`.
 */
export function soqlDateTimeAtOrAfter(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds of an ISO timestamp given by a caller; CrmError INVALID when it is none. */
export function parseInstant(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw invalid(`"${iso.slice(0, 40)}" is not an ISO timestamp`, 'INVALID_CURSOR');
  return ms;
}
