// POST /webhooks/hubspot: HubSpot's signed event batches → deduplicated rows in the inbox.
//
// verify (v3 signature over the raw bytes and the public URL) → parse → drop our own echoes → find the
// connections of each portal (one query) → insert (one statement) → answer → nudge the inbox consumer.
// Nothing is parsed or stored before the signature holds. HubSpot allows 5 s and retries any non-2xx
// answer for hours, so events we do not want (unknown portals, unsynced objects) still get a 200.
import express, { type ErrorRequestHandler, type Router } from 'express';
import { AppError, badRequest } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { PrismaClient } from '../../data/prisma';
import { inboxTargets, insertInboxEvents, type InboxInsert, type InboxTarget } from '../../data/repositories/inbox';
import { REQUEST_TIMESTAMP_HEADER, SIGNATURE_V3_HEADER, verifyHubspotSignatureV3, type SignatureCheck } from '../../crm/hubspot/webhook-signature';
import { ownAppIdSet, parseHubspotWebhookBody, toCrmChangeEvent } from '../../crm/hubspot/webhook-events';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';
const BODY_LIMIT = '1mb';
const CRM = 'hubspot';

export interface HubspotWebhookDeps {
  prisma: PrismaClient;
  log: Logger;
  metrics: Metrics;
  /** Wall clock: HubSpot's timestamps are its wall clock. */
  clock: () => Date;
  /**
   * What HubSpot's target URL has in front of `req.originalUrl`: the public origin, plus the path prefix
   * a proxy strips (if any), e.g. `https://dealreg.example.com`. The signed URI is rebuilt from it, never
   * from the Host header.
   */
  publicBaseUrl: string;
  /** The public app's client secret (HUBSPOT_CLIENT_SECRET). */
  appSecret: string | undefined;
  /** The public app's id (HUBSPOT_APP_ID): its writes are ours. */
  appId: string | undefined;
  /** Called with the connections that got new rows, after the answer is on its way. Failures are logged only. */
  onStored: (connectionIds: string[]) => void | Promise<void>;
}

export interface HubspotWebhookAck {
  /** Events in the batch. */
  received: number;
  /** Inbox rows written (one per event and connection). */
  stored: number;
  /** Inbox rows that already existed (redeliveries). */
  duplicates: number;
  /** Our own writes coming back, per event and connection: not stored. */
  echoes: number;
  /** Events for unknown portals or objects we do not sync. */
  ignored: number;
}

export function hubspotWebhookRouter(deps: HubspotWebhookDeps): Router {
  const log = deps.log.child({ component: 'hubspot-webhooks', crm: CRM });
  const baseUrl = publicBase(deps.publicBaseUrl);
  const router = express.Router();

  const rejected = (code: string, status: number, message: string, fields: Record<string, unknown>): AppError => {
    deps.metrics.webhookEvents.inc({ crm: CRM, result: 'rejected' });
    log.warn({ code, ...fields }, 'webhook refused');
    return new AppError(status, code, message);
  };

  /**
   * The secrets a delivery may be signed with. Today only the public app's client secret. Private-app
   * connections (crm_connections.settings.webhookSecretEnc) will add theirs here: read the portal ids
   * from the still unverified body, load and decrypt those connections' secrets, and try each one;
   * nothing is stored before one of them matches.
   */
  const candidateSecrets = async (_rawBody: Buffer): Promise<string[]> => (deps.appSecret ? [deps.appSecret] : []);

  router.post(HUBSPOT_WEBHOOK_PATH, express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      deps.metrics.webhookAckSeconds.observe({ crm: CRM, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

    // 1. Verify, before looking at the body.
    const secrets = await candidateSecrets(rawBody);
    if (secrets.length === 0) {
      throw rejected('WEBHOOKS_NOT_CONFIGURED', 503, 'set HUBSPOT_CLIENT_SECRET', { reason: 'no client secret configured' });
    }
    const uri = `${baseUrl}${req.originalUrl}`;
    const timestamp = req.header(REQUEST_TIMESTAMP_HEADER);
    const nowMs = deps.clock().getTime();
    const check = verifyWithAny(secrets, { method: req.method, uri, rawBody, timestamp, signature: req.header(SIGNATURE_V3_HEADER), nowMs });
    if (!check.ok) {
      const fields = { reason: check.reason, uri, ip: req.ip, bytes: rawBody.length, timestampSkewMs: skew(timestamp, nowMs) };
      if (check.reason === 'stale') {
        throw rejected('STALE_SIGNATURE', 401, 'X-HubSpot-Request-Timestamp is more than 5 minutes away from our clock: refusing a possible replay.', fields);
      }
      throw rejected(
        'INVALID_SIGNATURE',
        401,
        check.reason === 'missing'
          ? 'Send X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp (signature v3).'
          : 'X-HubSpot-Signature-v3 does not match this request.',
        fields,
      );
    }

    // 2. Parse.
    const parsed = parseHubspotWebhookBody(rawBody);
    if (!parsed.ok) {
      deps.metrics.webhookEvents.inc({ crm: CRM, result: 'rejected' });
      log.warn({ code: 'INVALID_WEBHOOK_BODY', issues: parsed.issues, bytes: rawBody.length }, 'webhook body refused');
      throw badRequest('INVALID_WEBHOOK_BODY', parsed.message, parsed.issues.length > 0 ? { issues: parsed.issues } : undefined);
    }
    const events = parsed.events;

    // 3. Where each event goes: every active connection of its portal (one query for the batch).
    const targets = await inboxTargets(deps.prisma, CRM, [...new Set(events.map((e) => e.portalId))]);
    const byPortal = new Map<string, InboxTarget[]>();
    for (const t of targets) {
      const list = byPortal.get(t.externalAccountId);
      if (list) list.push(t);
      else byPortal.set(t.externalAccountId, [t]);
    }
    const appOnly = ownAppIdSet([deps.appId]);
    const ownIds = new Map<string, Set<string>>(targets.map((t) => [t.connectionId, t.appId ? ownAppIdSet([deps.appId, t.appId]) : appOnly]));

    const rows: InboxInsert[] = [];
    let echoes = 0;
    let ignored = 0;
    const unknownPortals = new Set<string>();
    const ignoredTypes = new Map<string, number>();
    for (const e of events) {
      const connections = byPortal.get(e.portalId);
      if (!connections) {
        ignored++;
        unknownPortals.add(e.portalId);
        continue;
      }
      let ignoredHere = false;
      for (const c of connections) {
        const r = toCrmChangeEvent(e, ownIds.get(c.connectionId) ?? appOnly);
        if (!r.ok) {
          ignoredHere = true;
          ignoredTypes.set(r.ignored.subscriptionType, (ignoredTypes.get(r.ignored.subscriptionType) ?? 0) + 1);
          break; // the same for every connection: it does not depend on the app ids
        }
        if (r.event.origin.kind === 'self') echoes++;
        else rows.push({ connectionId: c.connectionId, event: r.event });
      }
      if (ignoredHere) ignored++;
    }

    // 4. Store (one statement), answer, nudge.
    const result = await insertInboxEvents(deps.prisma, rows, { receivedAt: deps.clock() });
    const ack: HubspotWebhookAck = { received: events.length, stored: result.stored, duplicates: result.duplicates, echoes, ignored };
    countResults(deps.metrics, ack);
    if (unknownPortals.size > 0) log.info({ portalIds: [...unknownPortals] }, 'webhook events for portals without an active connection ignored');
    log.debug({ ...ack, ignoredTypes: Object.fromEntries(ignoredTypes) }, 'webhook batch');
    res.status(200).json(ack);

    if (result.connectionIds.length > 0) {
      const connectionIds = result.connectionIds;
      void Promise.resolve()
        .then(() => deps.onStored(connectionIds))
        .catch((err: unknown) => log.error({ err, connectionIds }, 'inbox nudge failed; the pending-inbox sweep will pick the rows up'));
    }
  });

  // The raw parser's own errors (too large, aborted) in our error shape.
  const bodyErrors: ErrorRequestHandler = (err, _req, _res, next) => {
    const e = err as { type?: string };
    if (e.type === 'entity.too.large') {
      deps.metrics.webhookEvents.inc({ crm: CRM, result: 'rejected' });
      log.warn({ code: 'PAYLOAD_TOO_LARGE' }, 'webhook refused');
      next(new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large (the limit is 1 MB).'));
      return;
    }
    next(err);
  };
  router.use(HUBSPOT_WEBHOOK_PATH, bodyErrors);
  return router;
}

function verifyWithAny(
  secrets: string[],
  req: { method: string; uri: string; rawBody: Buffer; timestamp: string | undefined; signature: string | undefined; nowMs: number },
): SignatureCheck {
  let last: SignatureCheck = { ok: false, reason: 'missing' };
  for (const secret of secrets) {
    last = verifyHubspotSignatureV3({ ...req, secret });
    // Missing and stale do not depend on the secret: no point trying the others.
    if (last.ok || last.reason !== 'mismatch') return last;
  }
  return last;
}

function countResults(metrics: Metrics, ack: HubspotWebhookAck): void {
  if (ack.stored > 0) metrics.webhookEvents.inc({ crm: CRM, result: 'stored' }, ack.stored);
  if (ack.duplicates > 0) metrics.webhookEvents.inc({ crm: CRM, result: 'duplicate' }, ack.duplicates);
  if (ack.echoes > 0) metrics.webhookEvents.inc({ crm: CRM, result: 'echo' }, ack.echoes);
  if (ack.ignored > 0) metrics.webhookEvents.inc({ crm: CRM, result: 'ignored' }, ack.ignored);
}

function skew(timestamp: string | undefined, nowMs: number): number | undefined {
  const t = Number(timestamp);
  return timestamp && Number.isFinite(t) ? nowMs - t : undefined;
}

/**
 * `https://host[:port][/prefix]` as configured, without a trailing slash: HubSpot signs the target URL as
 * it was entered, so it is used verbatim (not normalised by URL). Anything else is refused at start-up.
 */
function publicBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    throw new Error(`publicBaseUrl must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.search || u.hash || trimmed.includes('?') || trimmed.includes('#')) {
    throw new Error(`publicBaseUrl must be an http(s) origin with an optional path prefix, got ${JSON.stringify(url)}`);
  }
  return trimmed;
}
