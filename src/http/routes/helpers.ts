import type { Request } from 'express';
import { z } from 'zod';
import { badRequest } from '../../lib/errors';
import { isUuid } from '../../data/repositories/registrations';

/** Parses with zod; a ZodError becomes a 422 VALIDATION_FAILED in the error middleware. */
export function parse<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  return schema.parse(value === undefined ? {} : value);
}

/** JSON bodies must be objects; an absent body on a POST that needs one is an empty object. */
export function body(req: Request): unknown {
  return req.body === undefined ? {} : req.body;
}

export const encodeCursor = (id: string | null): string | null => (id ? Buffer.from(id, 'utf8').toString('base64url') : null);

export function limitArg(query: Request['query']): number {
  const q = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).passthrough().safeParse(query);
  if (!q.success) throw badRequest('INVALID_QUERY', 'limit must be a whole number from 1 to 200.');
  return q.data.limit;
}

/** Cursor pagination over uuid v7 ids (time-ordered): the cursor is the last id seen, base64url-encoded. */
export function pageArgs(req: Request): { afterId?: string; limit: number } {
  const limit = limitArg(req.query);
  const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
  let afterId: string | undefined;
  if (cursor) {
    afterId = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!isUuid(afterId)) throw badRequest('INVALID_CURSOR', 'The cursor is not one this API handed out; start again without it.');
  }
  return { afterId, limit };
}

/** A path parameter as a string (Express 5 types allow arrays for wildcard params). */
export function param(req: Request, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : String(v ?? '');
}
