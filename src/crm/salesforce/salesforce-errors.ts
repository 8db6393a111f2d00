// Salesforce answers → the closed set of CRM error codes (STYLE.md 3). Small pure functions: an HTTP
// status, a body (parsed JSON, or the raw text when it was not JSON) and the headers in, a CrmError out.
// Request-level errors are Salesforce's array `[{ message, errorCode, fields? }]`; per-record errors of
// sObject Collections are `{ statusCode, message, fields }`; OAuth endpoints answer `{ error, error_description }`.
import { CrmError, type CrmErrorCode } from '../crm-adapter';
import { errorCodeOf, header, type HeaderMap } from '../crm-http';

/** One HTTP answer as the adapter saw it. `body` is parsed JSON when it was JSON, else the raw text (null when empty). */
export interface SalesforceAnswer {
  status: number;
  headers: HeaderMap;
  body: unknown;
}

const MAX_MESSAGE = 600;

/**
 * How long the connection pauses after the daily allowance is spent (403 REQUEST_LIMIT_EXCEEDED). Usage is
 * a rolling 24 hours, so it frees up gradually: look again in a quarter of an hour, not tomorrow.
 */
export const DAILY_LIMIT_PAUSE_MS = 15 * 60_000;
/** 429 REQUEST_LIMIT_EXCEEDED is the concurrent long-running request limit: it clears within seconds. */
export const CONCURRENCY_PAUSE_MIN_MS = 2000;
export const CONCURRENCY_PAUSE_SPREAD_MS = 3000;

/**
 * `Sforce-Limit-Info: api-usage=N/M` → the org's daily usage; null when absent or unreadable. The header
 * may also carry the connected app's own count (`per-app-api-usage=3/250(appName=…)`): not that one.
 */
export function apiUsage(headers: HeaderMap): { used: number; max: number } | null {
  const raw = header(headers, 'sforce-limit-info');
  const m = raw ? /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(raw) : null;
  if (!m) return null;
  return { used: Number(m[1]), max: Number(m[2]) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The first entry of a request-level error body (the array, or a single object). */
export function firstError(body: unknown): { errorCode?: string; message: string; fields: string[]; extra: Record<string, unknown> } {
  const entry = obj(Array.isArray(body) ? body[0] : body);
  const fields = Array.isArray(entry.fields) ? entry.fields.filter((f): f is string => typeof f === 'string') : [];
  let message = str(entry.message) ?? str(entry.error_description) ?? '';
  if (!message && typeof body === 'string') message = /^\s*</.test(body) ? '(an HTML page)' : body;
  return { errorCode: str(entry.errorCode) ?? str(entry.error), message: message.slice(0, MAX_MESSAGE), fields, extra: entry };
}

/** The requests Salesforce refused for its own limits: 403 daily allowance, 429 concurrency. */
export function isRequestLimit(answer: SalesforceAnswer): 'daily' | 'concurrency' | null {
  if (answer.status === 429) return 'concurrency';
  if (answer.status === 403 && firstError(answer.body).errorCode === 'REQUEST_LIMIT_EXCEEDED') return 'daily';
  return null;
}

const DUPLICATE = /duplicate value found: (\S+) duplicates value on record with id: ([a-zA-Z0-9]{15,18})/i;

/** A unique-value clash names the field and the record that holds the value. */
export function duplicateOf(message: string): { field: string; existingId: string } | null {
  const m = DUPLICATE.exec(message);
  return m ? { field: m[1]!, existingId: m[2]! } : null;
}

function codeForStatus(status: number, errorCode: string | undefined): CrmErrorCode {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 403 && errorCode === 'REQUEST_LIMIT_EXCEEDED') return 'RATE_LIMITED';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404 || status === 410) return 'NOT_FOUND';
  if (status === 409 || status === 412) return 'CONFLICT';
  if (status === 408 || status === 423) return 'TEMPORARY';
  if (status >= 400 && status < 500) return recordCode(errorCode, []);
  return 'TEMPORARY'; // 5xx, and anything unexpected
}

/** The CrmError for an HTTP answer that was not a success. `op` names the call for the message. */
export function errorFromAnswer(answer: SalesforceAnswer, op: string, retryAfterMs?: number): CrmError {
  const e = firstError(answer.body);
  const code = codeForStatus(answer.status, e.errorCode);
  const what = [String(answer.status), e.errorCode].filter(Boolean).join(' ');
  return new CrmError('salesforce', code, `Salesforce answered ${what} to ${op}${e.message ? `: ${e.message}` : ''}`, {
    status: answer.status,
    crmCode: e.errorCode,
    retryAfterMs: code === 'RATE_LIMITED' ? retryAfterMs : undefined,
    existingId: code === 'CONFLICT' ? duplicateOf(e.message)?.existingId : undefined,
  });
}

/**
 * Record errors that a moment later may not happen again: a row lock held by another transaction
 * (triggers, a rep saving the same opportunity), a transaction that ran too long, an internal hiccup.
 */
const TRANSIENT_RECORD_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'REQUEST_RUNNING_TOO_LONG', 'UNKNOWN_EXCEPTION', 'SERVER_UNAVAILABLE', 'QUERY_TIMEOUT']);

export function isTransientRecordCode(statusCode: string | undefined): boolean {
  return statusCode !== undefined && TRANSIENT_RECORD_CODES.has(statusCode);
}

function recordCode(statusCode: string | undefined, fields: readonly string[]): CrmErrorCode {
  if (isTransientRecordCode(statusCode)) return 'TEMPORARY';
  switch (statusCode) {
    case 'DUPLICATE_VALUE':
    case 'DUPLICATE_EXTERNAL_ID':
      return 'CONFLICT';
    case 'ENTITY_IS_DELETED':
    case 'NOT_FOUND':
      return 'NOT_FOUND';
    case 'INVALID_CROSS_REFERENCE_KEY':
      // With no field named it is the record itself (an update of an id that does not exist); with a
      // field it is a lookup value (AccountId of a deleted account), which is bad input.
      return fields.length === 0 ? 'NOT_FOUND' : 'INVALID';
    case 'REQUEST_LIMIT_EXCEEDED':
      return 'RATE_LIMITED';
    case 'INVALID_SESSION_ID':
      return 'AUTH';
    default:
      return 'INVALID'; // INVALID_FIELD, REQUIRED_FIELD_MISSING, STRING_TOO_LONG, a validation rule...
  }
}

/** One failed record of an sObject Collections answer. */
export interface RecordErrorLike {
  statusCode?: string;
  message?: string;
  fields?: string[];
}

export function errorFromRecord(e: RecordErrorLike, op: string): CrmError {
  const fields = e.fields ?? [];
  const text = (e.message ?? '').slice(0, MAX_MESSAGE);
  const code = recordCode(e.statusCode, fields);
  const where = fields.length > 0 ? ` (${fields.join(', ')})` : '';
  return new CrmError('salesforce', code, `Salesforce refused a record of ${op}: ${[e.statusCode, text].filter(Boolean).join(': ')}${where}`, {
    crmCode: e.statusCode,
    existingId: code === 'CONFLICT' ? duplicateOf(text)?.existingId : undefined,
  });
}

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Failures where the request certainly never reached Salesforce: resending cannot duplicate a write. */
export const UNSENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

/** A call that took longer than its budget. */
export function timeoutError(op: string, ms: number): CrmError {
  return new CrmError('salesforce', 'TEMPORARY', `Salesforce ${op} did not answer within ${ms} ms`, { crmCode: 'TIMEOUT' });
}

/**
 * A transport failure (no HTTP answer): connection refused or reset, DNS → TEMPORARY. Null for anything
 * else: a bug is not a network problem. (fetch's "fetch failed" TypeError carries the code in its cause.)
 */
export function errorFromNetwork(e: unknown, op: string): CrmError | null {
  const code = errorCodeOf(e);
  if (code === undefined || !NETWORK_CODES.has(code)) return null;
  return new CrmError('salesforce', 'TEMPORARY', `Salesforce ${op} failed before an answer came back: ${code}`, { crmCode: code, cause: e });
}

/** A 2xx answer whose body is not what Salesforce documents. */
export function unexpectedAnswer(op: string, status: number, problem: string): CrmError {
  const notJson = problem.startsWith('not JSON');
  return new CrmError('salesforce', notJson ? 'TEMPORARY' : 'INVALID', `Salesforce answered ${status} to ${op} with an unexpected body: ${problem.slice(0, MAX_MESSAGE)}`, {
    status,
    crmCode: 'UNEXPECTED_RESPONSE',
  });
}

/** OAuth endpoint errors that mean "this token is gone already" when revoking. */
export const REVOKE_ALREADY_GONE = ['unsupported_token_type', 'invalid_token'] as const;

/** The CrmError for a failed call to an OAuth endpoint (revoke, userinfo). */
export function errorFromOauthAnswer(answer: SalesforceAnswer, op: string): CrmError {
  const e = firstError(answer.body);
  let code: CrmErrorCode = codeForStatus(answer.status, e.errorCode);
  if (answer.status === 400 && (e.errorCode === 'invalid_grant' || e.errorCode === 'invalid_client' || e.errorCode === 'invalid_client_id')) code = 'AUTH';
  const what = [String(answer.status), e.errorCode].filter(Boolean).join(' ');
  return new CrmError('salesforce', code, `Salesforce answered ${what} to ${op}${e.message ? `: ${e.message}` : ''}`, { status: answer.status, crmCode: e.errorCode });
}
