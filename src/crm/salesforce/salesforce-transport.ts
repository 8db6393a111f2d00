// How one Salesforce call goes out: through jsforce (its Connection builds the URL for the pinned API
// version, sends the bearer token and `Sforce-Call-Options: client=dealreg`, and refreshes the session
// after a 401 through our refreshFn), over a transport of ours that records the raw answer (status,
// headers, body text), so that we parse it with our own zod schemas, read `Sforce-Limit-Info` and map
// errors ourselves. The caller adds the daily budget, the shared limiter (CallGate),
// REQUEST_LIMIT_EXCEEDED bookkeeping and retries.
//
// jsforce 3.10.16 facts this relies on (node_modules/jsforce/lib):
// - `conn.request(req, { transport })` sends through that transport (HttpApi: `options.transport ||
//   conn._transport`) and only calls its `httpRequest(req)`, which resolves `{ statusCode, headers, body }`.
//   It is a per-call hook that sees every HTTP exchange, the 401 before a refresh and the resend after it.
// - jsforce's own transport (node-fetch) retries GET/PUT/DELETE on 420/429/5xx by itself (5 times, from
//   500 ms up), and its timeout only covers the wait for response headers, not a body that stalls. Ours
//   sends with Node's fetch, never retries (we retry every method the same way, each attempt through the
//   budget and the gate, and a 429 is never hammered), and one AbortSignal bounds the whole exchange.
// - After a 401 HttpApi calls the refreshFn and resends; if the resend is a 401 again it calls the
//   refreshFn again, forever. Our refreshFn refuses the second time, so a call refreshes at most once.
// - A Connection is cheap: we build one per call, so that its token and refresh state belong to that call.
// - The package entry point exports only the default jsforce object at runtime, whatever its types say:
//   StreamPromise comes from its own module.
import { PassThrough } from 'node:stream';
import { Connection, type HttpRequest, type HttpResponse } from 'jsforce';
import { StreamPromise } from 'jsforce/lib/util/promise';
import type { z } from 'zod';
import type { Logger } from '../../lib/logger';
import { RETRY_POLICY, backoffMs } from '../retry-decision';
import { CrmError, type AccessTokenSource, type CallGate } from '../crm-adapter';
import { zodProblem } from '../crm-shapes';
import type { ApiBudget } from './salesforce-budget';
import { DEALREG_CLIENT_ID } from './salesforce-change-events';
import {
  apiUsage,
  CONCURRENCY_PAUSE_MIN_MS,
  CONCURRENCY_PAUSE_SPREAD_MS,
  DAILY_LIMIT_PAUSE_MS,
  errorFromAnswer,
  errorFromNetwork,
  isRequestLimit,
  timeoutError,
  unexpectedAnswer,
  UNSENT_CODES,
  type SalesforceAnswer,
} from './salesforce-errors';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Attempts of one call when Salesforce answers 5xx or the connection fails (the first one included). */
export const MAX_CALL_ATTEMPTS = 3;
/** In-call backoff steps: short, because the job's own retry (BullMQ) handles anything longer. */
export const CALL_RETRY_POLICY = { ...RETRY_POLICY, baseDelayMs: 500, maxDelayMs: 4000 };

/** One HTTP answer, unparsed. Header names are lower-case. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** The transport jsforce sends through: one fetch per exchange, bounded by `timeoutMs`, the last answer kept. */
class RecordingTransport {
  last: RawAnswer | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: () => CrmError,
  ) {}

  httpRequest(req: HttpRequest): StreamPromise<HttpResponse> {
    this.last = undefined; // a resend that fails without an answer must not look like the previous answer
    const promise = this.send(req);
    // jsforce pipes its request stream through this one; dealreg never streams, so it stays empty.
    return StreamPromise.create(() => ({ stream: new PassThrough(), promise }));
  }

  private async send(req: HttpRequest): Promise<HttpResponse> {
    if (req.body !== undefined && req.body !== null && typeof req.body !== 'string') throw new Error('the Salesforce transport sends string bodies only');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(this.onTimeout()), this.timeoutMs);
    try {
      // fetch computes the length itself (jsforce adds one for node-fetch).
      const headers = Object.fromEntries(Object.entries(req.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'content-length'));
      const res = await fetch(req.url, { method: req.method, headers, body: req.body ?? undefined, signal: controller.signal });
      const text = await res.text();
      const lower: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        lower[k.toLowerCase()] = v;
      });
      this.last = { status: res.status, headers: lower, text };
      return { statusCode: res.status, headers: lower, body: text };
    } catch (e) {
      throw controller.signal.aborted ? controller.signal.reason : e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The answer's body: parsed JSON when it is JSON, else the text (HTML error pages); null when empty. */
export function answerOf(raw: RawAnswer): SalesforceAnswer {
  if (raw.text.trim() === '') return { status: raw.status, headers: raw.headers, body: null };
  try {
    return { status: raw.status, headers: raw.headers, body: JSON.parse(raw.text) as unknown };
  } catch {
    return { status: raw.status, headers: raw.headers, body: raw.text };
  }
}

/** Parses a success body with a wire schema; a mismatch is a CrmError, not a crash deep inside a mapper. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, answer: SalesforceAnswer, op: string): z.output<S> {
  if (typeof answer.body === 'string') throw unexpectedAnswer(op, answer.status, 'not JSON');
  const parsed = schema.safeParse(answer.body);
  if (parsed.success) return parsed.data;
  throw unexpectedAnswer(op, answer.status, zodProblem(parsed.error));
}

interface TokenRef {
  value: string | undefined;
}

export interface CallerOptions {
  orgId: string;
  instanceUrl: string;
  apiVersion: string;
  tokens: AccessTokenSource;
  gate: CallGate;
  budget?: ApiBudget;
  timeoutMs: number;
  log: Logger;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface CallSpec {
  /** Names the call in logs and error messages (never a URL: some carry tokens). */
  op: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under `/services/data/vXX.X` (`/query?q=…`), a path from the instance root (`/services/…`), or a full URL. */
  url: string;
  /** JSON body. */
  json?: unknown;
  /** Form body (OAuth endpoints). */
  form?: Record<string, string>;
  /**
   * api: a metered REST call (budget and gate). oauth: an OAuth endpoint (gate only; Salesforce does not
   * count it). feed: the change-event feed, neither metered nor rate limited, long-polling.
   */
  kind?: 'api' | 'oauth' | 'feed';
  /** false: no bearer token (revoke). */
  authenticated?: boolean;
  /**
   * Whether a 5xx, a timeout or a reset may be resent: 'always' for reads and idempotent writes (upsert,
   * update by id); 'unsent' for creates, resent only when the request never reached Salesforce.
   */
  resend?: 'always' | 'unsent';
  /** How long Salesforce may hold the answer on purpose (a long poll): added to the time budget. */
  longPollMs?: number;
}

export class SalesforceCaller {
  private readonly logBase: Record<string, string>;

  constructor(private readonly o: CallerOptions) {
    this.logBase = { crm: 'salesforce', orgId: o.orgId };
  }

  /**
   * One logical call: budget → gate → send (jsforce refreshes once after a 401). 403/429
   * REQUEST_LIMIT_EXCEEDED pause the connection and throw RATE_LIMITED; 5xx and transport failures are
   * retried a couple of times with jittered backoff, as `resend` allows. Any other answer comes back as
   * is, for the caller to judge (a 400 INVALID_REPLAY_ID, say, is an answer, not a failure).
   */
  async exchange(spec: CallSpec): Promise<SalesforceAnswer> {
    // A token refreshed during one attempt is the token of the attempts after it.
    const token: TokenRef = { value: spec.authenticated !== false ? await this.o.tokens.current() : undefined };
    for (let attempt = 1; ; attempt++) {
      await this.admit(spec);
      const started = Date.now();
      let raw: RawAnswer;
      try {
        raw = await this.sendOnce(spec, token);
      } catch (e) {
        if (e instanceof CrmError && e.code === 'TEMPORARY' && attempt < MAX_CALL_ATTEMPTS && this.mayResend(spec, e)) {
          await this.pause(spec, attempt, e.message);
          continue;
        }
        throw e;
      }
      const answer = answerOf(raw);
      await this.observe(answer);
      this.o.log.debug({ ...this.logBase, op: spec.op, status: answer.status, attempt, ms: Date.now() - started }, 'salesforce call');
      const limit = isRequestLimit(answer);
      if (limit) throw await this.limited(answer, spec.op, limit);
      if (answer.status >= 500 && attempt < MAX_CALL_ATTEMPTS && (spec.resend ?? 'always') === 'always') {
        await this.pause(spec, attempt, `status ${answer.status}`);
        continue;
      }
      return answer;
    }
  }

  /** exchange() that insists on a 2xx and parses the body with `schema`. */
  async call<S extends z.ZodTypeAny>(spec: CallSpec & { schema: S }): Promise<z.output<S>> {
    const answer = await this.exchange(spec);
    if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, spec.op);
    return parseBody(spec.schema, answer, spec.op);
  }

  private async admit(spec: CallSpec): Promise<void> {
    const kind = spec.kind ?? 'api';
    if (kind === 'feed') return;
    if (kind === 'api') await this.o.budget?.beforeCall();
    await this.o.gate.acquire('api');
  }

  private mayResend(spec: CallSpec, e: CrmError): boolean {
    return (spec.resend ?? 'always') === 'always' || (e.crmCode !== undefined && UNSENT_CODES.has(e.crmCode));
  }

  private async pause(spec: CallSpec, attempt: number, why: string): Promise<void> {
    const waitMs = backoffMs(attempt, this.o.random, CALL_RETRY_POLICY);
    this.o.log.info({ ...this.logBase, op: spec.op, attempt, waitMs, why }, 'salesforce call failed; retrying');
    await this.o.sleep(waitMs);
  }

  private async sendOnce(spec: CallSpec, token: TokenRef): Promise<RawAnswer> {
    const timeoutMs = this.o.timeoutMs + (spec.longPollMs ?? 0);
    const transport = new RecordingTransport(timeoutMs, () => timeoutError(spec.op, timeoutMs));
    let refreshed = false;
    let refreshFailure: unknown;
    const conn = new Connection({
      instanceUrl: this.o.instanceUrl,
      version: this.o.apiVersion,
      callOptions: { client: DEALREG_CLIENT_ID },
      ...(token.value !== undefined
        ? {
            accessToken: token.value,
            refreshFn: (c: Connection, done: (err: Error | null, accessToken?: string) => void) => {
              if (refreshed) {
                done(new Error('the refreshed access token was rejected too'));
                return;
              }
              refreshed = true;
              const rejected = c.accessToken ?? token.value ?? '';
              this.o.log.info({ ...this.logBase, op: spec.op }, 'salesforce rejected the access token; refreshing once');
              // The resend after the refresh is another call: it passes the budget and the gate too.
              this.o.tokens
                .refresh(rejected)
                .then(async (fresh) => {
                  token.value = fresh;
                  await this.admit(spec);
                  done(null, fresh);
                })
                .catch((e: unknown) => {
                  refreshFailure = e;
                  done(e instanceof Error ? e : new Error(String(e)));
                });
            },
          }
        : {}),
    });
    const request: HttpRequest = { method: spec.method, url: spec.url, headers: {} };
    if (spec.json !== undefined) {
      request.body = JSON.stringify(spec.json);
      request.headers = { 'content-type': 'application/json' };
    } else if (spec.form !== undefined) {
      request.body = new URLSearchParams(spec.form).toString();
      request.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    }
    try {
      await conn.request(request, { transport });
    } catch (e) {
      if (refreshFailure !== undefined) throw refreshFailure;
      if (e instanceof CrmError) throw e; // our timeout
      if (!transport.last) {
        const network = errorFromNetwork(e, spec.op);
        if (network) throw network;
        throw e;
      }
      // jsforce throws for every 4xx/5xx: the recorded answer is what counts.
    }
    if (!transport.last) throw new Error(`Salesforce ${spec.op}: jsforce finished without an HTTP answer being recorded`);
    return transport.last;
  }

  private async observe(answer: SalesforceAnswer): Promise<void> {
    const usage = apiUsage(answer.headers);
    if (!usage) return;
    this.o.gate.observe?.({ dailyUsed: usage.used, dailyMax: usage.max });
    if (!this.o.budget) return;
    try {
      await this.o.budget.observe(usage.used, usage.max);
    } catch (e) {
      // The answer itself is fine; the next beforeCall() reports a Redis outage as TEMPORARY.
      this.o.log.warn({ ...this.logBase, err: (e as Error).message }, 'could not record the org API usage');
    }
  }

  private async limited(answer: SalesforceAnswer, op: string, limit: 'daily' | 'concurrency'): Promise<CrmError> {
    const waitMs = limit === 'daily' ? DAILY_LIMIT_PAUSE_MS : CONCURRENCY_PAUSE_MIN_MS + Math.round(this.o.random() * CONCURRENCY_PAUSE_SPREAD_MS);
    const error = errorFromAnswer(answer, op, waitMs);
    this.o.log.warn({ ...this.logBase, op, limit, retryAfterMs: waitMs, status: answer.status }, 'salesforce request limit hit');
    try {
      await this.o.gate.rateLimited(waitMs);
    } catch (e) {
      this.o.log.error({ ...this.logBase, err: (e as Error).message }, 'could not record the rate limit pause');
    }
    return error;
  }
}
