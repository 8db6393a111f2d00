// One place turns every failure into `{ error: { code, message, details } }` with the right status.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError } from '../../lib/errors';
import { DomainError } from '../../domain/errors';
import type { Logger } from '../../lib/logger';

export function zodDetails(err: ZodError) {
  return {
    issues: err.issues.map((i) => ({
      path: i.path.join('.'),
      message: i.code === 'unrecognized_keys' ? `unknown field(s): ${(i as { keys: string[] }).keys.join(', ')}` : i.message,
      code: i.code,
    })),
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'ROUTE_NOT_FOUND', message: `No route for ${req.method} ${req.path}. See the README for the API.` } });
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    const e = err as { type?: string; status?: number; statusCode?: number; message?: string; expose?: boolean };
    if (err instanceof AppError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
      return;
    }
    if (err instanceof ZodError) {
      res.status(422).json({ error: { code: 'VALIDATION_FAILED', message: 'The request is not valid: see details for each problem.', details: zodDetails(err) } });
      return;
    }
    if (err instanceof DomainError) {
      res.status(409).json({ error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
      return;
    }
    // body-parser errors
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large (the limit is 100 kB).' } });
      return;
    }
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      res.status(415).json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as UTF-8 JSON.' } });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      res.status(e.status).json({ error: { code: 'BAD_REQUEST', message: e.message ?? 'Bad request.' } });
      return;
    }
    log.error({ err, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Something went wrong on our side; it has been logged. Retrying is safe with an Idempotency-Key.' } });
  };
}
