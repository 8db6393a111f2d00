// Bearer authentication: staff tokens (with a role) and partner API keys, both stored as SHA-256 hashes.
import type { Request, RequestHandler } from 'express';
import { sqlPool, type PrismaClient } from '../../data/prisma';
import { hashSecret } from '../../lib/crypto';
import { forbidden, unauthenticated } from '../../lib/errors';
import type { PartnerPrincipal, StaffPrincipal } from '../../use-cases/context';
import type { StaffRole } from '../../domain/types';
import { PARTNER_KEY_PREFIX, STAFF_TOKEN_PREFIX } from '../../use-cases/workspaces';

export type ApiPrincipal = StaffPrincipal | PartnerPrincipal;

declare module 'express-serve-static-core' {
  interface Request {
    principal?: ApiPrincipal;
  }
}

const LAST_USED_RESOLUTION_MS = 60_000;

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

  return async (req, _res, next) => {
    try {
      const header = req.headers.authorization;
      if (!header) throw unauthenticated();
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthenticated('The Authorization header must be "Bearer <token>".');
      const secret = m[1]!;
      const hash = hashSecret(secret);
      if (secret.startsWith(`${PARTNER_KEY_PREFIX}_`)) {
        // Every partner request authenticates: a prepared statement keeps it at one cheap round trip.
        const { rows } = await sqlPool(prisma).query<{ id: string; workspaceId: string; partnerId: string; revokedAt: Date | null }>({
          name: 'dealreg_partner_key_v1',
          text: 'SELECT id, workspace_id AS "workspaceId", partner_id AS "partnerId", revoked_at AS "revokedAt" FROM partner_api_keys WHERE key_hash = $1',
          values: [hash],
        });
        const key = rows[0];
        if (!key) throw unauthenticated('This API key is not valid.');
        if (key.revokedAt) throw unauthenticated('This API key was revoked. Ask your partner manager for a new one.');
        touch(key.id, () => prisma.partnerApiKey.update({ where: { id: key.id }, data: { lastUsedAt: clock() } }));
        req.principal = { kind: 'partner', workspaceId: key.workspaceId, partnerId: key.partnerId, keyId: key.id };
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
