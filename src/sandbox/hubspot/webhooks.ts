// Webhook delivery, HubSpot style: events queue per portal, go out in batches of up to 100 as a JSON
// array POSTed to the portal's target URL, signed (v3 and v2), retried with backoff on any failure
// (`attemptNumber` counts up), delivered at least once. Knobs can duplicate deliveries and draw
// events out of order so a receiver's idempotency and ordering assumptions get tested.
import http from 'node:http';
import https from 'node:https';
import type { Actor, DeliveryLogEntry, WebhookEvent } from './model';
import type { Portal } from './portal';
import { changeSourceOf, type EventDraft, type SandboxState } from './state';
import { signatureV2, signatureV3 } from './webhook-signature';

export const MAX_EVENTS_PER_REQUEST = 100;
const REQUEST_TIMEOUT_MS = 5_000;
const LOG_LIMIT = 2_000;
const USER_AGENT = 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor (dealreg sandbox)';

interface Batch {
  batchId: number;
  portalId: number;
  events: WebhookEvent[];
  attemptNumber: number;
  duplicate: boolean;
}

/** Small seeded PRNG (mulberry32) so chaos runs can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  /** Scheduled retries and duplicate re-sends → portal id. */
  private readonly retries = new Map<NodeJS.Timeout, number>();
  private readonly inFlight = new Map<number, number>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly rngs = new Map<number, () => number>();
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32 });
  private generation = 0;
  private batchSeq = 1;

  constructor(
    private readonly getState: () => SandboxState,
    private readonly now: () => number,
    private intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.start();
    }
  }

  /** Completes a draft with ids, time and source, and queues it (if the portal has a target). */
  emit(portal: Portal, actor: Actor, draft: EventDraft): void {
    portal.stats.webhooks.eventsEmitted++;
    if (!portal.webhook.targetUrl) {
      portal.stats.webhooks.eventsDroppedNoTarget++;
      return;
    }
    const state = this.getState();
    const key = draft.propertyName ? `${draft.subscriptionType}:${draft.propertyName}` : draft.subscriptionType;
    const { changeSource, sourceId } = changeSourceOf(actor, portal.appId);
    const event: WebhookEvent = {
      eventId: state.next('eventId'),
      subscriptionId: portal.subscriptionId(key, () => state.next('subscriptionId')),
      portalId: portal.portalId,
      appId: portal.appId,
      occurredAt: this.now(),
      ...draft,
      changeSource,
      sourceId,
    };
    portal.webhookQueue.push(event);
  }

  /** Sends what is queued, within each portal's concurrency. */
  tick(): void {
    for (const portal of this.getState().portals.values()) {
      const url = portal.webhook.targetUrl;
      if (!url || portal.webhookQueue.length === 0) continue;
      while (portal.webhookQueue.length > 0 && (this.inFlight.get(portal.portalId) ?? 0) < portal.webhook.maxConcurrentRequests) {
        const events = this.take(portal);
        this.send(portal, { batchId: this.batchSeq++, portalId: portal.portalId, events, attemptNumber: 0, duplicate: false });
      }
    }
  }

  private rng(portal: Portal): () => number {
    let r = this.rngs.get(portal.portalId);
    if (!r) this.rngs.set(portal.portalId, (r = prng(portal.webhook.chaos.seed)));
    return r;
  }

  private take(portal: Portal): WebhookEvent[] {
    const q = portal.webhookQueue;
    if (!portal.webhook.chaos.shuffle) return q.splice(0, MAX_EVENTS_PER_REQUEST);
    // Out of order: a random subset of the queue, in random order.
    const rng = this.rng(portal);
    const n = Math.min(q.length, 1 + Math.floor(rng() * Math.min(q.length, MAX_EVENTS_PER_REQUEST)));
    const picked: WebhookEvent[] = [];
    for (let i = 0; i < n; i++) picked.push(q.splice(Math.floor(rng() * q.length), 1)[0]!);
    return picked;
  }

  private send(portal: Portal, batch: Batch): void {
    const url = portal.webhook.targetUrl;
    if (!url) {
      portal.webhookQueue.unshift(...batch.events); // target removed meanwhile: keep for later
      return;
    }
    const generation = this.generation;
    this.inFlight.set(portal.portalId, (this.inFlight.get(portal.portalId) ?? 0) + 1);
    const payload = batch.events.map((e) => withAttempt(e, batch.attemptNumber));
    const body = JSON.stringify(payload);
    const timestamp = Date.now(); // wall clock: receivers compare it with theirs
    const startedAt = Date.now();
    const finish = (status: number | null, error?: string): void => {
      if (generation !== this.generation) return; // reset or closed meanwhile
      this.inFlight.set(portal.portalId, (this.inFlight.get(portal.portalId) ?? 1) - 1);
      const ok = status !== null && status >= 200 && status < 300;
      const lastAttempt = batch.attemptNumber + 1 >= portal.webhook.retry.maxAttempts;
      this.log(portal, {
        deliveryId: this.getState().next('deliveryId'),
        batchId: batch.batchId,
        attemptNumber: batch.attemptNumber,
        duplicate: batch.duplicate,
        url,
        startedAt,
        finishedAt: Date.now(),
        status,
        ...(error ? { error } : {}),
        outcome: ok ? 'delivered' : lastAttempt ? 'gave_up' : 'failed',
        eventIds: batch.events.map((e) => e.eventId),
        events: payload,
      });
      if (ok) {
        portal.stats.webhooks.deliveries++;
        const dup = portal.webhook.chaos.duplicateProbability;
        if (!batch.duplicate && dup > 0 && this.rng(portal)() < dup) {
          portal.stats.webhooks.duplicatesSent++;
          this.later(portal, { ...batch, batchId: this.batchSeq++, duplicate: true }, portal.webhook.retry.initialDelayMs);
        }
      } else if (lastAttempt) {
        portal.stats.webhooks.gaveUp++;
      } else {
        portal.stats.webhooks.failedAttempts++;
        const { initialDelayMs, maxDelayMs } = portal.webhook.retry;
        const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** batch.attemptNumber);
        this.later(portal, { ...batch, attemptNumber: batch.attemptNumber + 1 }, delay);
      }
      this.tick();
    };

    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish(null, `invalid target URL ${url}`);
      return;
    }
    const isHttps = target.protocol === 'https:';
    const req = (isHttps ? https : http).request(target, {
      method: 'POST',
      agent: isHttps ? this.httpsAgent : this.httpAgent,
      timeout: REQUEST_TIMEOUT_MS,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': USER_AGENT,
        'x-hubspot-request-timestamp': String(timestamp),
        'x-hubspot-signature-v3': signatureV3(portal.clientSecret, 'POST', url, body, timestamp),
        'x-hubspot-signature': signatureV2(portal.clientSecret, 'POST', url, body),
        'x-hubspot-signature-version': 'v2',
        'x-hubspot-timeout-millis': String(REQUEST_TIMEOUT_MS),
      },
    });
    this.requests.add(req);
    let done = false;
    const once = (status: number | null, error?: string): void => {
      if (done) return;
      done = true;
      this.requests.delete(req);
      finish(status, error);
    };
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => once(res.statusCode ?? null));
      res.on('error', (e) => once(res.statusCode ?? null, e.message));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => once(null, e.message));
    req.end(body);
  }

  private later(portal: Portal, batch: Batch, delayMs: number): void {
    const generation = this.generation;
    const t = setTimeout(() => {
      this.retries.delete(t);
      if (generation !== this.generation) return;
      const live = this.getState().portals.get(portal.portalId);
      if (live) this.send(live, batch);
    }, delayMs);
    t.unref();
    this.retries.set(t, portal.portalId);
  }

  private log(portal: Portal, entry: DeliveryLogEntry): void {
    portal.deliveryLog.push(entry);
    if (portal.deliveryLog.length > LOG_LIMIT) portal.deliveryLog.splice(0, portal.deliveryLog.length - LOG_LIMIT);
  }

  pending(portalId: number): { queued: number; inFlight: number; retrying: number } {
    const portal = this.getState().portals.get(portalId);
    let retrying = 0;
    for (const id of this.retries.values()) if (id === portalId) retrying++;
    return { queued: portal?.webhookQueue.length ?? 0, inFlight: this.inFlight.get(portalId) ?? 0, retrying };
  }

  /** Resolves once nothing is queued, in flight or waiting to retry (or the timeout passes). */
  async drain(portalId: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.tick();
      const p = this.pending(portalId);
      const portal = this.getState().portals.get(portalId);
      const idle = p.inFlight === 0 && p.retrying === 0 && (p.queued === 0 || !portal?.webhook.targetUrl);
      if (idle) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Forgets in-flight work and retries (reset, restore, close). */
  cancelAll(): void {
    this.generation++;
    for (const t of this.retries.keys()) clearTimeout(t);
    this.retries.clear();
    for (const r of this.requests) r.destroy();
    this.requests.clear();
    this.inFlight.clear();
    this.rngs.clear();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.cancelAll();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** The event as sent: HubSpot's field order, with this attempt's number. */
function withAttempt(e: WebhookEvent, attemptNumber: number): Record<string, unknown> {
  const { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, changeSource, sourceId, ...rest } = e;
  return { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, ...rest, changeSource, sourceId };
}
