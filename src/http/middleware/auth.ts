// Bearer authentication: staff tokens (with a role) and partner API keys, both stored as SHA-256 hashes.
//
// The two partner hot paths (POST /v1/registrations/check and POST /v1/registrations) verify the partner's
// key in the same database round trip as their evidence query instead of in a query of their own (that
// round trip was a third of a check's cost). For them, a key this process has already seen valid is taken
// provisionally: the request gets the partner it named last time and a pending check (`KeyCheck`), and the
// evidence query reads the key's row again (revoked? still that partner's?) before anything is decided or
// written. A key that turns out not to be valid answers 401 exactly as here; an error found before the
// check (e.g. an invalid body) waits for the key to be verified, so 401 still comes first. Everything else
// looks the key up here, as before.
import type { Request, RequestHandler } from 'express';
import { sqlPool, type PrismaClient } from '../../data/prisma';
import { hashSecret } from '../../lib/crypto';
import { forbidden, unauthenticated } from '../../lib/errors';
import type { PartnerPrincipal, StaffPrincipal } from '../../use-cases/context';
import type { KeyCheck, PartnerKeyRow } from '../../use-cases/submit-registration';
import type { StaffRole } from '../../domain/types';
import { PARTNER_KEY_PREFIX, STAFF_TOKEN_PREFIX } from '../../use-cases/workspaces';

export type ApiPrincipal = StaffPrincipal | PartnerPrincipal;

/** A partner key taken provisionally (see the top of this file), verified by the route's first query. */
export interface PendingPartnerKey extends KeyCheck {
  /** Verifies the key with a query of its own (when the route could not) and sets req.principal; throws 401. */
  verifyNow(): Promise<void>;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: ApiPrincipal;
    pendingPartnerKey?: PendingPartnerKey;
  }
}

const LAST_USED_RESOLUTION_MS = 60_000;
/** Routes (relative to /v1) whose first query verifies a pending partner key itself. */
const VERIFIED_IN_ROUTE = new Set(['POST /registrations/check', 'POST /registrations']);
const MAX_KNOWN_KEYS = 50_000;

/** The provisional key named a different partner than its row does now: verify it the ordinary way. */
export class StalePartnerKeyError extends Error {
  constructor() {
    super('the partner key named another partner than this process remembered');
  }
}

function keyProblem(key: { revokedAt: Date | string | null } | null | undefined) {
  if (!key) return unauthenticated('This API key is not valid.');
  if (key.revokedAt) return unauthenticated('This API key was revoked. Ask your partner manager for a new one.');
  return null;
}

export function authenticate(prisma: PrismaClient, clock: () => Date): RequestHandler {
  // lastUsedAt is informative: write it at most once a minute per credential, not on every request.
  const lastTouched = new Map<string, number>();
  const touch = (key: string, write: () => Promise<unknown>) => {
    const now = clock().getTime();
    const prev = lastTouched.get(key) ?? 0;
    if (now - prev < LAST_USED_RESOLUTION_MS) return;
    lastTouched.set(key, now);
    if (lastTouched.size > 50_000) lastTouched.clear();
    write().catch(() => undefined);
  };
  const touchPartnerKey = (keyId: string) => touch(keyId, () => prisma.partnerApiKey.update({ where: { id: keyId }, data: { lastUsedAt: clock() } }));
  // Partner keys seen valid by this process, by hash: only ever a hint (see the top of this file).
  const knownKeys = new Map<string, { keyId: string; workspaceId: string; partnerId: string }>();

  const lookUpPartnerKey = async (req: Request, hash: string): Promise<void> => {
    // Every partner request authenticates: a prepared statement keeps it at one cheap round trip.
    const { rows } = await sqlPool(prisma).query<PartnerKeyRow>({
      name: 'dealreg_partner_key_v1',
      text: 'SELECT id, workspace_id AS "workspaceId", partner_id AS "partnerId", revoked_at AS "revokedAt" FROM partner_api_keys WHERE key_hash = $1',
      values: [hash],
    });
    const key = rows[0];
    const problem = keyProblem(key);
    if (problem || !key) {
      knownKeys.delete(hash);
      throw problem;
    }
    touchPartnerKey(key.id);
    if (knownKeys.size >= MAX_KNOWN_KEYS) knownKeys.clear();
    knownKeys.set(hash, { keyId: key.id, workspaceId: key.workspaceId, partnerId: key.partnerId });
    req.principal = { kind: 'partner', workspaceId: key.workspaceId, partnerId: key.partnerId, keyId: key.id };
  };

  const pendingKey = (req: Request, hash: string, known: { keyId: string; workspaceId: string; partnerId: string }): PendingPartnerKey => {
    const pending = {
      keyHash: hash,
      verified: false,
      accept(key: PartnerKeyRow | null) {
        if (pending.verified) return;
        const problem = keyProblem(key);
        if (problem || !key) {
          knownKeys.delete(hash);
          req.principal = undefined;
          pending.verified = true; // verified: it is not valid
          throw problem;
        }
        if (key.id !== known.keyId || key.workspaceId !== known.workspaceId || key.partnerId !== known.partnerId) {
          knownKeys.delete(hash);
          throw new StalePartnerKeyError();
        }
        pending.verified = true;
        touchPartnerKey(key.id);
      },
      async verifyNow() {
        if (pending.verified) return; // by accept(): valid, or it threw the 401
        req.principal = undefined; // until the look-up succeeds
        await lookUpPartnerKey(req, hash);
        pending.verified = true;
      },
    };
    return pending;
  };

  return async (req, _res, next) => {
    try {
      const header = req.headers.authorization;
      if (!header) throw unauthenticated();
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthenticated('The Authorization header must be "Bearer <token>".');
      const secret = m[1]!;
      const hash = hashSecret(secret);
      if (secret.startsWith(`${PARTNER_KEY_PREFIX}_`)) {
        const known = VERIFIED_IN_ROUTE.has(`${req.method} ${req.path.replace(/(.)\/+$/, '$1')}`) ? knownKeys.get(hash) : undefined;
        if (known) {
          req.principal = { kind: 'partner', workspaceId: known.workspaceId, partnerId: known.partnerId, keyId: known.keyId };
          req.pendingPartnerKey = pendingKey(req, hash, known);
          return next();
        }
        await lookUpPartnerKey(req, hash);
        return next();
      }
      if (secret.startsWith(`${STAFF_TOKEN_PREFIX}_`)) {
        const token = await prisma.staffToken.findUnique({ where: { tokenHash: hash }, select: { id: true, workspaceId: true, role: true, name: true, revokedAt: true } });
        if (!token) throw unauthenticated('This staff token is not valid.');
        if (token.revokedAt) throw unauthenticated('This staff token was revoked.');
        touch(token.id, () => prisma.staffToken.update({ where: { id: token.id }, data: { lastUsedAt: clock() } }));
        req.principal = { kind: 'staff', workspaceId: token.workspaceId, tokenId: token.id, role: token.role, name: token.name };
        return next();
      }
      throw unauthenticated('This token is not a dealreg staff token or partner API key.');
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Runs a partner route whose first query verifies a pending partner key (`keyCheck`, undefined when the
 * key was looked up already). The key is verified before the answer is used or any error is reported;
 * a key that named another partner than remembered is looked up and the route runs again (nothing has
 * been written by then: the check comes with the first query).
 */
export async function withPartnerKey<T>(req: Request, run: (by: PartnerPrincipal, keyCheck: KeyCheck | undefined) => Promise<T>): Promise<T> {
  const pending = req.pendingPartnerKey;
  if (!pending) return run(requirePartner(req), undefined);
  let out: T;
  try {
    out = await run(requirePartner(req), pending);
  } catch (err) {
    if (err instanceof StalePartnerKeyError) {
      await pending.verifyNow();
      return run(requirePartner(req), undefined);
    }
    await pending.verifyNow(); // a key that is not valid answers 401, whatever else went wrong
    throw err;
  }
  await pending.verifyNow();
  return out;
}

export function principal(req: Request): ApiPrincipal {
  if (!req.principal) throw unauthenticated();
  return req.principal;
}

export function requireStaff(req: Request, roles?: readonly StaffRole[]): StaffPrincipal {
  const p = principal(req);
  if (p.kind !== 'staff') throw forbidden('This endpoint is for staff tokens, not partner API keys.');
  if (roles && !roles.includes(p.role)) {
    throw forbidden(`This needs one of the roles: ${roles.join(', ')} (your token is ${p.role}).`, { requiredRoles: roles, role: p.role });
  }
  return p;
}

export function requirePartner(req: Request): PartnerPrincipal {
  const p = principal(req);
  if (p.kind !== 'partner') throw forbidden('This endpoint is for partner API keys: staff act on registrations through the approve/reject endpoints.');
  return p;
}
