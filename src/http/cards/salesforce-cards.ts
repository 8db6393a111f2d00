// /cards/salesforce: the Salesforce LWC card's backend, called by its Apex controller through a Named
// Credential.
//
//   GET  /cards/salesforce/view?opportunityId=006…                  → CardView
//   POST /cards/salesforce/actions { opportunityId, registrationId, action, reason?, extensionRequestId? } → CardActionResult
//
// Auth: `Authorization: Bearer drc_<secret>`, the connection's card secret (POST
// /v1/connections/:id/card-secret, stored as SHA-256). The Apex controller names the running user in
// headers it sets itself (an LWC cannot): X-Dealreg-User-Id (18 characters), X-Dealreg-User-Email,
// X-Dealreg-User-Name, and X-Dealreg-Can-Approve: true|false (FeatureManagement.checkPermission of the
// custom permission Dealreg_Approve). We trust these headers because only the org's Apex holds the
// secret. Role: a /v1/crm-users row if one exists, else partner_manager when Can-Approve is true, else
// viewer. Acting additionally needs Can-Approve: true, whatever the row says: the Salesforce admin's
// permission and the dealreg admin's role must both allow it.
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { toId18 } from '../../crm/salesforce/salesforce-ids';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { UseCaseContext } from '../../use-cases/context';
import {
  CARD_SECRET_PREFIX,
  SALESFORCE_APPROVE_PERMISSION,
  cardAction,
  cardActionFields,
  cardConnectionBySecret,
  cardFor,
  refineCardAction,
  type CardConnection,
  type CardUser,
} from '../../use-cases/cards';

const CRM = 'salesforce';

export interface SalesforceCardDeps {
  ctx: UseCaseContext;
  log: Logger;
}

const salesforceId = (what: string) =>
  z.string().trim().transform((v, ctx) => {
    const id = toId18(v);
    if (!id) {
      ctx.addIssue({ code: 'custom', message: `${what} has 15 or 18 letters and digits` });
      return z.NEVER;
    }
    return id;
  });

/** The identity the Apex controller sends (header names lower-cased). */
const userHeaders = z.object({
  'x-dealreg-user-id': salesforceId('a Salesforce user id'),
  'x-dealreg-user-email': z.string().trim().max(320).optional(),
  'x-dealreg-user-name': z.string().trim().max(200).optional(),
  'x-dealreg-can-approve': z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false']))
    .optional(),
});

const viewQuery = z.object({ opportunityId: salesforceId('an Opportunity id') }).passthrough();
const actionBody = z
  .object({ opportunityId: salesforceId('an Opportunity id'), ...cardActionFields })
  .strict()
  .superRefine(refineCardAction);

interface SalesforceCaller {
  connection: CardConnection;
  user: CardUser;
}

declare module 'express-serve-static-core' {
  interface Request {
    salesforceCardCaller?: SalesforceCaller;
  }
}

export function salesforceCardRouter(deps: SalesforceCardDeps): Router {
  const log = deps.log.child({ component: 'salesforce-cards', crm: CRM });
  const router = express.Router();

  const refuse = (reason: string, message: string, fields: Record<string, unknown> = {}): AppError => {
    log.warn({ code: 'INVALID_CARD_CREDENTIAL', reason, ...fields }, 'card request refused');
    return new AppError(401, 'INVALID_CARD_CREDENTIAL', message);
  };

  // 1. The card secret, before the body is read.
  const authenticate: RequestHandler = async (req, _res, next) => {
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw refuse('missing', 'Send the connection\'s card secret as "Authorization: Bearer drc_…" (the Named Credential of the dealreg card).', { ip: req.ip });
    const secret = m[1]!;
    if (!secret.startsWith(`${CARD_SECRET_PREFIX}_`)) throw refuse('not a card secret', 'This is not a dealreg card secret (they start with "drc_"): create one with POST /v1/connections/:id/card-secret.', { ip: req.ip });
    const h = userHeaders.parse({
      'x-dealreg-user-id': req.header('x-dealreg-user-id'),
      'x-dealreg-user-email': req.header('x-dealreg-user-email'),
      'x-dealreg-user-name': req.header('x-dealreg-user-name'),
      'x-dealreg-can-approve': req.header('x-dealreg-can-approve'),
    });
    const connection = await cardConnectionBySecret(deps.ctx, { crm: CRM, secret, userId: h['x-dealreg-user-id'], email: h['x-dealreg-user-email'] });
    if (!connection) throw refuse('unknown', 'This card secret is not valid (it may have been rotated): update the Named Credential with the current one.', { ip: req.ip });
    if (connection.status === 'disconnected') throw refuse('disconnected', 'The Salesforce connection of this card secret was disconnected: reconnect the org and create a new card secret.', { connectionId: connection.connectionId });
    if (connection.status !== 'active') {
      throw new AppError(404, 'CONNECTION_NOT_ACTIVE', `The Salesforce connection of this card is ${connection.status}: a dealreg admin must reconnect org ${connection.externalAccountId}.`);
    }
    const canApprove = h['x-dealreg-can-approve'] === 'true';
    req.salesforceCardCaller = {
      connection,
      user: {
        crm: CRM,
        userId: h['x-dealreg-user-id'],
        role: connection.mappedRole ?? (canApprove ? 'partner_manager' : 'viewer'),
        ...(h['x-dealreg-user-name'] ? { name: h['x-dealreg-user-name'] } : {}),
        missingCrmPermission: canApprove ? null : SALESFORCE_APPROVE_PERMISSION,
      },
    };
    next();
  };

  router.use(authenticate, express.json({ limit: '100kb', strict: true }));

  router.get('/view', async (req, res) => {
    const { connection, user } = req.salesforceCardCaller!;
    const q = viewQuery.parse(req.query);
    res.json(await cardFor(deps.ctx, { workspaceId: connection.workspaceId, crm: CRM, externalAccountId: connection.externalAccountId, recordId: q.opportunityId, viewer: user }));
  });

  router.post('/actions', async (req, res) => {
    const { connection, user } = req.salesforceCardCaller!;
    const body = actionBody.parse(req.body === undefined ? {} : req.body);
    res.json(
      await cardAction(deps.ctx, {
        workspaceId: connection.workspaceId,
        crm: CRM,
        externalAccountId: connection.externalAccountId,
        recordId: body.opportunityId,
        viewer: user,
        registrationId: body.registrationId,
        action: body.action,
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        ...(body.extensionRequestId !== undefined ? { extensionRequestId: body.extensionRequestId } : {}),
      }),
    );
  });
  return router;
}
