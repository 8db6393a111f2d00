// /cards/hubspot: the HubSpot app card's backend, called with `hubspot.fetch`.
//
//   GET  /cards/hubspot/view?dealId=…                      → CardView
//   POST /cards/hubspot/actions { dealId, registrationId, action, reason?, extensionRequestId? } → CardActionResult
//
// HubSpot proxies hubspot.fetch (no CORS), appends `userId`, `userEmail`, `portalId` and `appId` to the
// query string and signs the request with signature v3 (app client secret, over method + URL + raw body +
// timestamp). The signature is verified over the raw bytes and the public URL rebuilt from
// PUBLIC_BASE_URL (never the Host header), exactly like the webhook route, before anything is parsed.
// The user is the one HubSpot names in the signed query; their role comes from /v1/crm-users.
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { REQUEST_TIMESTAMP_HEADER, SIGNATURE_V3_HEADER, verifyHubspotSignatureV3 } from '../../crm/hubspot/webhook-signature';
import { AppError, badRequest } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { UseCaseContext } from '../../use-cases/context';
import { cardAction, cardActionFields, cardConnectionByAccount, cardFor, refineCardAction, type CardConnection, type CardUser } from '../../use-cases/cards';

const CRM = 'hubspot';
const BODY_LIMIT = '1mb'; // hubspot.fetch's own limit
const NUMERIC_ID = /^\d{1,20}$/;

export interface HubspotCardDeps {
  ctx: UseCaseContext;
  log: Logger;
  /** Wall clock for the signature window (HubSpot's timestamps are its wall clock). */
  clock: () => Date;
  /** What HubSpot's URL has in front of `req.originalUrl` (PUBLIC_BASE_URL), as for webhooks. */
  publicBaseUrl: string;
  /** The app's client secret (HUBSPOT_CLIENT_SECRET). */
  appSecret: string | undefined;
}

/** What hubspot.fetch appends to every request (signed with it). */
const hubspotCallerQuery = {
  portalId: z.string().regex(NUMERIC_ID, 'a HubSpot portal id'),
  userId: z.string().regex(NUMERIC_ID, 'a HubSpot user id'),
  userEmail: z.string().max(320).optional(),
  appId: z.string().max(40).optional(),
};

// The query also carries whatever else HubSpot adds: not strict.
const viewQuery = z.object({ dealId: z.string().regex(NUMERIC_ID, 'a HubSpot deal id'), ...hubspotCallerQuery }).passthrough();
const actionQuery = z.object(hubspotCallerQuery).passthrough();
const actionBody = z
  .object({ dealId: z.string().regex(NUMERIC_ID, 'a HubSpot deal id'), ...cardActionFields })
  .strict()
  .superRefine(refineCardAction);

export function hubspotCardRouter(deps: HubspotCardDeps): Router {
  const log = deps.log.child({ component: 'hubspot-cards', crm: CRM });
  const baseUrl = deps.publicBaseUrl.trim().replace(/\/+$/, '');
  const router = express.Router();

  const refuse = (status: number, code: string, message: string, fields: Record<string, unknown>): AppError => {
    log.warn({ code, ...fields }, 'card request refused');
    return new AppError(status, code, message);
  };

  // 1. The signature, over the raw bytes, before anything is read.
  const verify: RequestHandler = (req, _res, next) => {
    if (!deps.appSecret) throw refuse(503, 'CARDS_NOT_CONFIGURED', 'HubSpot cards are verified with the app client secret: set HUBSPOT_CLIENT_SECRET.', {});
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const uri = `${baseUrl}${req.originalUrl}`;
    const check = verifyHubspotSignatureV3({
      method: req.method,
      uri,
      rawBody,
      timestamp: req.header(REQUEST_TIMESTAMP_HEADER),
      signature: req.header(SIGNATURE_V3_HEADER),
      secret: deps.appSecret,
      nowMs: deps.clock().getTime(),
    });
    if (!check.ok) {
      const fields = { reason: check.reason, method: req.method, path: req.path, ip: req.ip };
      if (check.reason === 'stale') {
        throw refuse(401, 'STALE_SIGNATURE', 'X-HubSpot-Request-Timestamp is more than 5 minutes away from our clock: refusing a possible replay.', fields);
      }
      throw refuse(
        401,
        'INVALID_SIGNATURE',
        check.reason === 'missing'
          ? 'Card requests must come through hubspot.fetch, signed with X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp.'
          : 'X-HubSpot-Signature-v3 does not match this request.',
        fields,
      );
    }
    req.cardRawBody = rawBody;
    next();
  };

  router.use(express.raw({ type: () => true, limit: BODY_LIMIT }), verify);

  /** The portal's connection and the calling user (role from /v1/crm-users; unmapped: viewer). */
  const caller = async (q: z.output<typeof actionQuery>, dealId: string): Promise<{ connection: CardConnection; user: CardUser }> => {
    const connection = await cardConnectionByAccount(deps.ctx, { crm: CRM, externalAccountId: q.portalId, recordId: dealId, userId: q.userId, email: q.userEmail });
    if (!connection) {
      throw new AppError(404, 'PORTAL_NOT_CONNECTED', `HubSpot portal ${q.portalId} is not connected to dealreg (or its connection is not active): a dealreg admin connects it with POST /v1/connections/hubspot.`);
    }
    return { connection, user: { crm: CRM, userId: q.userId, role: connection.mappedRole ?? 'viewer' } };
  };

  router.get('/view', async (req, res) => {
    const q = viewQuery.parse(req.query);
    const { connection, user } = await caller(q, q.dealId);
    res.json(await cardFor(deps.ctx, { workspaceId: connection.workspaceId, crm: CRM, externalAccountId: connection.externalAccountId, recordId: q.dealId, viewer: user }));
  });

  router.post('/actions', async (req, res) => {
    const q = actionQuery.parse(req.query);
    const body = actionBody.parse(jsonOf(req));
    const { connection, user } = await caller(q, body.dealId);
    res.json(
      await cardAction(deps.ctx, {
        workspaceId: connection.workspaceId,
        crm: CRM,
        externalAccountId: connection.externalAccountId,
        recordId: body.dealId,
        viewer: user,
        registrationId: body.registrationId,
        action: body.action,
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        ...(body.extensionRequestId !== undefined ? { extensionRequestId: body.extensionRequestId } : {}),
      }),
    );
  });

  // The raw parser's own errors (too large, aborted) in our error shape.
  const bodyErrors: ErrorRequestHandler = (err, _req, _res, next) => {
    if ((err as { type?: string }).type === 'entity.too.large') {
      next(new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large (the limit is 1 MB).'));
      return;
    }
    next(err);
  };
  router.use(bodyErrors);
  return router;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified raw body of a card request. */
    cardRawBody?: Buffer;
  }
}

function jsonOf(req: Request): unknown {
  const raw = req.cardRawBody ?? Buffer.alloc(0);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw badRequest('MALFORMED_JSON', 'The request body is not valid JSON.');
  }
}
