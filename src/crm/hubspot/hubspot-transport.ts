// How one HubSpot call goes out: through the official SDK (typed APIs, or `apiRequest`), with a time
// budget, recording the raw answer (status, headers, body text) so that we parse it with our own zod
// schemas and map errors ourselves. The adapter-level caller adds the shared limiter (CallGate), the
// access token and the one refresh after a 401.
//
// SDK facts this relies on (@hubspot/api-client 14):
// - Retry and limiter options are process-global: every `new Client()` replaces the decorators of every
//   API object created afterwards. We build every Client with HUBSPOT_SDK_OPTIONS (no retries, no
//   limiter), and build a fresh one for each attempt, so its API objects are created right then, with
//   our (empty) decorator set, whatever another Client in the process was built with.
// - Typed API calls take per-call middleware; its `post` sees the raw ResponseContext (even for error
//   statuses, before the SDK deserialises or throws). That is where we record the answer.
// - The SDK takes no AbortSignal. The time budget is a race: a hung socket no longer holds the job; the
//   abandoned request is left to the HTTP stack (undici's own timeouts) to close.
import { Client } from '@hubspot/api-client';
import type { z } from 'zod';
import { CrmError, type AccessTokenSource, type CallGate } from '../crm-adapter';
import { zodProblem } from '../crm-shapes';
import { RETRY_POLICY } from '../retry-decision';
import { errorFromAnswer, errorFromNetwork, rateLimitInfo, timeoutError, unexpectedAnswer, type HubspotAnswer } from './hubspot-errors';

/** The options every Client in this process is built with. Do not add retries or a limiter: see above. */
export const HUBSPOT_SDK_OPTIONS = Object.freeze({ numberOfApiCallRetries: 0 });

export const DEFAULT_TIMEOUT_MS = 15_000;

export function createHubspotClient(basePath: string, accessToken?: string): Client {
  return new Client({ ...HUBSPOT_SDK_OPTIONS, basePath, ...(accessToken !== undefined ? { accessToken } : {}) });
}

/** One HTTP answer, unparsed. Header names are lowercase. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

interface ResponseContextLike {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string> };
}

/** What a typed SDK call takes as its last argument: our recording middleware, after the SDK's own. */
export interface SdkCallOptions {
  middleware: Array<{ pre<T>(context: T): Promise<T>; post<T extends ResponseContextLike>(context: T): Promise<T> }>;
  middlewareMergeStrategy: 'append';
}

/** A call made with the SDK: a typed API call (pass `options` through) or `client.apiRequest(...)`. */
export type SdkCall = (client: Client, options: SdkCallOptions) => Promise<unknown>;

function lowercase(headers: Record<string, string> | Headers): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    headers.forEach((v, k) => {
      out[k.toLowerCase()] = v;
    });
    return out;
  }
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = String(v);
  return out;
}

function isFetchResponse(v: unknown): v is Response {
  return typeof Response !== 'undefined' && v instanceof Response;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends one call and resolves with its raw answer whatever the HTTP status. Rejects with CrmError
 * TEMPORARY when no answer came (timeout, connection refused / reset); rethrows anything else (bugs).
 */
export async function sendOnce(client: Client, call: SdkCall, op: string, timeoutMs: number): Promise<RawAnswer> {
  let recorded: RawAnswer | undefined;
  const options: SdkCallOptions = {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: <T>(context: T) => Promise.resolve(context),
        post: async <T extends ResponseContextLike>(context: T) => {
          recorded = { status: context.httpStatusCode, headers: lowercase(context.headers), text: await context.body.text() };
          return context;
        },
      },
    ],
  };
  const pending = Promise.resolve().then(() => call(client, options));
  pending.catch(() => undefined); // after a timeout nobody awaits it any more
  try {
    const result = await withTimeout(pending, timeoutMs, () => timeoutError(op, timeoutMs));
    if (recorded) return recorded;
    if (isFetchResponse(result)) {
      const text = await withTimeout(result.text(), timeoutMs, () => timeoutError(op, timeoutMs));
      return { status: result.status, headers: lowercase(result.headers), text };
    }
    throw new Error(`HubSpot ${op}: the SDK call finished without an HTTP answer being recorded`);
  } catch (e) {
    // The SDK throws ApiException for non-2xx statuses (and sometimes for 2xx bodies it cannot read):
    // the recorded answer is what counts.
    if (recorded) return recorded;
    const network = errorFromNetwork(e, op);
    if (network) throw network;
    throw e;
  }
}

/** The answer's body: parsed JSON when it is JSON, else the text (HTML error pages, empty bodies). */
export function answerOf(raw: RawAnswer): HubspotAnswer {
  let body: unknown = raw.text;
  if (raw.text.trim() !== '') {
    try {
      body = JSON.parse(raw.text);
    } catch {
      body = raw.text;
    }
  } else body = null;
  return { status: raw.status, headers: raw.headers, body };
}

/** Parses a success body with a wire schema; a mismatch is a CrmError, not a crash deep inside a mapper. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, answer: HubspotAnswer, op: string): z.output<S> {
  if (typeof answer.body === 'string') throw unexpectedAnswer(op, answer.status, 'not JSON');
  const parsed = schema.safeParse(answer.body ?? {});
  if (parsed.success) return parsed.data;
  throw unexpectedAnswer(op, answer.status, zodProblem(parsed.error));
}

// ---------------------------------------------------------------------------------------------------
// The adapter's caller: limiter, access token, one refresh after a 401, 429 bookkeeping, quota headers.

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The part of a pino logger the adapter uses. */
export interface HubspotLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;
export const silentHubspotLogger: HubspotLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface CallerOptions {
  baseUrl: string;
  portalId: string;
  tokens: AccessTokenSource;
  gate: CallGate;
  timeoutMs: number;
  log: HubspotLogger;
}

export interface CallSpec {
  /** Names the call in logs and error messages (never a URL: some carry tokens). */
  op: string;
  /** Search endpoints have their own HubSpot limit and their own gate bucket. */
  kind?: 'api' | 'search';
  call: SdkCall;
  /** false: an OAuth endpoint that takes no bearer token (no refresh-on-401 either). */
  authenticated?: boolean;
}

export interface Answer<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

export class HubspotCaller {
  constructor(private readonly o: CallerOptions) {}

  /**
   * One logical call: gate → token → send; after a 401, one refresh and one more attempt (gated
   * again). A 429 pauses the connection (gate.rateLimited) and throws RATE_LIMITED. Any other answer
   * comes back as is, for the caller to judge (some 4xx mean "already there").
   */
  async exchange(spec: CallSpec): Promise<HubspotAnswer> {
    const kind = spec.kind ?? 'api';
    const authenticated = spec.authenticated !== false;
    let token = authenticated ? await this.o.tokens.current() : undefined;
    for (let attempt = 1; ; attempt++) {
      await this.o.gate.acquire(kind);
      const started = Date.now();
      const raw = await sendOnce(createHubspotClient(this.o.baseUrl, token), spec.call, spec.op, this.o.timeoutMs);
      const answer = answerOf(raw);
      this.observe(answer);
      this.o.log.debug({ crm: 'hubspot', portalId: this.o.portalId, op: spec.op, status: answer.status, attempt, ms: Date.now() - started }, 'hubspot call');
      if (answer.status === 401 && authenticated && token !== undefined && attempt === 1) {
        this.o.log.info({ crm: 'hubspot', portalId: this.o.portalId, op: spec.op }, 'hubspot rejected the access token; refreshing once');
        token = await this.o.tokens.refresh(token);
        continue;
      }
      if (answer.status === 429) {
        const error = errorFromAnswer(answer, spec.op);
        const waitMs = error.retryAfterMs ?? RETRY_POLICY.defaultRateLimitWaitMs;
        this.o.log.warn({ crm: 'hubspot', portalId: this.o.portalId, op: spec.op, retryAfterMs: waitMs, crmCode: error.crmCode }, 'hubspot rate limit hit');
        try {
          await this.o.gate.rateLimited(waitMs);
        } catch (e) {
          this.o.log.error({ crm: 'hubspot', portalId: this.o.portalId, err: e }, 'could not record the rate limit pause');
        }
        throw error.retryAfterMs === undefined
          ? new CrmError('hubspot', 'RATE_LIMITED', error.message, { status: 429, crmCode: error.crmCode, retryAfterMs: waitMs })
          : error;
      }
      return answer;
    }
  }

  /** exchange() that insists on a 2xx and parses the body with `schema`. */
  async call<S extends z.ZodTypeAny>(spec: CallSpec & { schema: S }): Promise<Answer<z.output<S>>> {
    const answer = await this.exchange(spec);
    if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, spec.op);
    return { status: answer.status, headers: answer.headers as Record<string, string>, data: parseBody(spec.schema, answer, spec.op) };
  }

  private observe(answer: HubspotAnswer): void {
    if (!this.o.gate.observe) return;
    const info = rateLimitInfo(answer.headers);
    if (info) this.o.gate.observe(info);
  }
}
