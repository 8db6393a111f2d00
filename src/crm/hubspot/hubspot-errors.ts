// HubSpot answers → the closed set of CRM error codes (STYLE.md 3). Small pure functions: an HTTP
// status, a body (parsed JSON, or the raw text when it was not JSON) and the response headers in, a
// CrmError out. What the job then does about the code is src/crm/retry-decision.ts's business.
import { CrmError, type CrmErrorCode } from '../crm-adapter';
import { errorCodeOf, header, type HeaderMap } from '../crm-http';

/** One HTTP answer as the adapter saw it. `body` is parsed JSON when it was JSON, else the raw text. */
export interface HubspotAnswer {
  status: number;
  headers: HeaderMap;
  body: unknown;
}

const MAX_MESSAGE = 600;

function numberHeader(headers: HeaderMap, name: string): number | undefined {
  const raw = header(headers, name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** What `X-HubSpot-RateLimit-*` says about the rolling window; null when the headers are absent. */
export function rateLimitInfo(headers: HeaderMap): { remaining?: number; max?: number; intervalMs?: number } | null {
  const remaining = numberHeader(headers, 'x-hubspot-ratelimit-remaining');
  const max = numberHeader(headers, 'x-hubspot-ratelimit-max');
  const intervalMs = numberHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds');
  if (remaining === undefined && max === undefined && intervalMs === undefined) return null;
  const info: { remaining?: number; max?: number; intervalMs?: number } = {};
  if (remaining !== undefined) info.remaining = remaining;
  if (max !== undefined) info.max = max;
  if (intervalMs !== undefined) info.intervalMs = intervalMs;
  return info;
}

function bodyObject(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * How long a 429 asks us to wait: `Retry-After` (seconds, or an HTTP date), else the rolling window
 * (`X-HubSpot-RateLimit-Interval-Milliseconds`), else what the policy implies (search: 1 s per second,
 * ten-secondly: 10 s). Undefined when nothing says.
 */
export function retryAfterMs(headers: HeaderMap, body: unknown, now: number = Date.now()): number | undefined {
  const raw = header(headers, 'retry-after')?.trim();
  if (raw) {
    if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const interval = numberHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds');
  if (interval !== undefined && interval > 0) return interval;
  const policy = str(bodyObject(body).policyName);
  if (policy === 'SECONDLY') return 1000;
  if (policy === 'TEN_SECONDLY_ROLLING') return 10_000;
  return undefined;
}

/** One property HubSpot refused inside "Property values were not valid: [...]". */
export interface PropertyProblem {
  name: string | null;
  error: string | null;
  message: string;
}

/** The per-property problems of a VALIDATION_ERROR (from the JSON inside `message`, or from `errors`). */
export function propertyProblems(body: unknown): PropertyProblem[] {
  const b = bodyObject(body);
  const message = str(b.message) ?? '';
  const out: PropertyProblem[] = [];
  const start = message.indexOf('[');
  if (/not valid/i.test(message) && start >= 0) {
    try {
      const inner: unknown = JSON.parse(message.slice(start));
      if (Array.isArray(inner)) {
        for (const e of inner) {
          const o = bodyObject(e);
          out.push({ name: str(o.name) ?? null, error: str(o.error) ?? null, message: str(o.message) ?? '' });
        }
      }
    } catch {
      // not JSON after all: fall back to `errors` below
    }
  }
  if (out.length === 0 && Array.isArray(b.errors)) {
    for (const e of b.errors) {
      const o = bodyObject(e);
      const names = bodyObject(o.context).propertyName;
      out.push({ name: Array.isArray(names) && typeof names[0] === 'string' ? names[0] : null, error: str(o.code) ?? null, message: str(o.message) ?? '' });
    }
  }
  return out;
}

const UNIQUE_CLASH = /already has that value/i;
const EXISTING_ID = /Existing ID:\s*(\d+)/i;

/**
 * A unique-value clash ("… already has that value … Existing ID: <id>"): which property, and the id of
 * the record that holds the value when HubSpot says. Null when the error is something else.
 */
export function uniqueValueClash(body: unknown): { propertyName: string | null; existingId: string | null } | null {
  const problems = propertyProblems(body);
  const clash = problems.find((p) => UNIQUE_CLASH.test(p.message));
  if (clash) {
    const id = EXISTING_ID.exec(clash.message)?.[1] ?? null;
    return { propertyName: clash.name, existingId: id };
  }
  const message = str(bodyObject(body).message) ?? '';
  if (!UNIQUE_CLASH.test(message)) return null;
  return { propertyName: null, existingId: EXISTING_ID.exec(message)?.[1] ?? null };
}

function describeBody(body: unknown): { category?: string; text: string; correlationId?: string } {
  if (typeof body === 'string') {
    const looksHtml = /^\s*</.test(body);
    return { text: looksHtml ? '(an HTML page)' : body.slice(0, MAX_MESSAGE) };
  }
  const b = bodyObject(body);
  return {
    category: str(b.category) ?? str(b.errorType) ?? str(b.status === 'error' ? undefined : b.status),
    text: (str(b.message) ?? '').slice(0, MAX_MESSAGE),
    correlationId: str(b.correlationId),
  };
}

function message(op: string, status: number, d: { category?: string; text: string; correlationId?: string }): string {
  const what = [String(status), d.category].filter(Boolean).join(' ');
  const tail = d.correlationId ? ` (correlation id ${d.correlationId})` : '';
  return `HubSpot answered ${what} to ${op}${d.text ? `: ${d.text}` : ''}${tail}`;
}

function codeForStatus(status: number): CrmErrorCode {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404 || status === 410) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 408 || status === 423 || status === 425 || status === 477) return 'TEMPORARY'; // 477: HubSpot's "migration in progress"
  if (status >= 400 && status < 500) return 'INVALID';
  return 'TEMPORARY'; // 5xx, and anything unexpected
}

/** The CrmError for an HTTP answer that was not a success. `op` names the call for the message. */
export function errorFromAnswer(answer: HubspotAnswer, op: string): CrmError {
  const d = describeBody(answer.body);
  let code = codeForStatus(answer.status);
  let existingId: string | undefined;
  if (answer.status === 400 || answer.status === 409) {
    const clash = uniqueValueClash(answer.body);
    if (clash) {
      code = 'CONFLICT';
      existingId = clash.existingId ?? undefined;
    }
  }
  const retryAfter = code === 'RATE_LIMITED' ? retryAfterMs(answer.headers, answer.body) : undefined;
  return new CrmError('hubspot', code, message(op, answer.status, d), {
    status: answer.status,
    crmCode: d.category,
    retryAfterMs: retryAfter,
    existingId,
  });
}

/** A `StandardError` entry of a batch (207) answer. */
export interface BatchErrorLike {
  category?: string | null;
  message?: string | null;
  subCategory?: unknown;
  context?: Record<string, unknown> | null;
}

function codeForCategory(category: string | undefined): CrmErrorCode {
  switch (category) {
    case 'OBJECT_NOT_FOUND':
      return 'NOT_FOUND';
    case 'OBJECT_ALREADY_EXISTS':
    case 'CONFLICT':
      return 'CONFLICT';
    case 'RATE_LIMITS':
      return 'RATE_LIMITED';
    case 'INVALID_AUTHENTICATION':
    case 'EXPIRED_AUTHENTICATION':
    case 'MISSING_SCOPES':
      return 'AUTH';
    case 'INTERNAL_ERROR':
    case 'SERVICE_UNAVAILABLE':
    case 'TIMEOUT':
    case 'LOCKED':
      return 'TEMPORARY';
    default:
      return 'INVALID';
  }
}

/** The CrmError for one failed input of a batch call. */
export function errorFromBatchItem(e: BatchErrorLike, op: string): CrmError {
  const category = e.category ?? undefined;
  const text = (e.message ?? '').slice(0, MAX_MESSAGE);
  const clash = category === 'VALIDATION_ERROR' || category === 'CONFLICT' ? uniqueValueClash({ message: e.message ?? '' }) : null;
  const code = clash ? 'CONFLICT' : codeForCategory(category);
  return new CrmError('hubspot', code, `HubSpot refused one input of ${op}: ${[category, text].filter(Boolean).join(': ')}`, {
    crmCode: category,
    existingId: clash?.existingId ?? undefined,
  });
}

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED', 'UND_ERR_ABORTED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * A transport failure (no HTTP answer): connection refused or reset, DNS, fetch's "fetch failed" →
 * TEMPORARY. Null for anything else (a bug is not a network problem and should surface as itself).
 */
export function errorFromNetwork(e: unknown, op: string): CrmError | null {
  const code = errorCodeOf(e);
  // By name, not instanceof: undici's TypeError may come from another realm (vm contexts, test runners).
  const fetchFailed = e instanceof Error && e.name === 'TypeError' && /fetch failed|terminated|other side closed/i.test(e.message);
  if (!fetchFailed && (code === undefined || !NETWORK_CODES.has(code))) return null;
  const detail = code ?? (e as Error).message;
  return new CrmError('hubspot', 'TEMPORARY', `HubSpot ${op} failed before an answer came back: ${detail}`, { crmCode: code ?? 'NETWORK', cause: e });
}

/** A call that took longer than its budget. */
export function timeoutError(op: string, ms: number): CrmError {
  return new CrmError('hubspot', 'TEMPORARY', `HubSpot ${op} did not answer within ${ms} ms`, { crmCode: 'TIMEOUT' });
}

/** A 2xx answer whose body is not what HubSpot documents (parse failure): not worth retrying as is. */
export function unexpectedAnswer(op: string, status: number, problem: string): CrmError {
  const notJson = problem.startsWith('not JSON');
  return new CrmError('hubspot', notJson ? 'TEMPORARY' : 'INVALID', `HubSpot answered ${status} to ${op} with an unexpected body: ${problem.slice(0, MAX_MESSAGE)}`, {
    status,
    crmCode: 'UNEXPECTED_RESPONSE',
  });
}

/** OAuth token endpoint errors (`{ status: "BAD_REFRESH_TOKEN", message }`) that no retry can fix. */
export const OAUTH_DEAD_CREDENTIALS = ['BAD_REFRESH_TOKEN', 'BAD_AUTH_CODE', 'BAD_CLIENT_ID', 'BAD_CLIENT_SECRET', 'BAD_REDIRECT_URI'] as const;

/** The CrmError for a failed call to an OAuth endpoint (token exchange, refresh, introspection, revoke). */
export function errorFromOauthAnswer(answer: HubspotAnswer, op: string): CrmError {
  const b = bodyObject(answer.body);
  const oauthStatus = str(b.status) ?? str(b.error);
  const text = (str(b.message) ?? str(b.error_description) ?? (typeof answer.body === 'string' ? describeBody(answer.body).text : '')).slice(0, MAX_MESSAGE);
  let code: CrmErrorCode;
  if (answer.status === 400 && oauthStatus && (OAUTH_DEAD_CREDENTIALS as readonly string[]).includes(oauthStatus)) code = 'AUTH';
  else if (answer.status === 400 && (oauthStatus === 'invalid_grant' || oauthStatus === 'invalid_client')) code = 'AUTH';
  else code = codeForStatus(answer.status);
  const what = [String(answer.status), oauthStatus].filter(Boolean).join(' ');
  return new CrmError('hubspot', code, `HubSpot answered ${what} to ${op}${text ? `: ${text}` : ''}`, {
    status: answer.status,
    crmCode: oauthStatus,
    retryAfterMs: code === 'RATE_LIMITED' ? retryAfterMs(answer.headers, answer.body) : undefined,
  });
}
