// HubSpot's error bodies. Every CRM error carries `status: "error"`, a `message`, a `correlationId`
// and a `category`; validation errors add `errors` and `context`. Builders return responses so the
// request pipeline can add the rate-limit and correlation headers afterwards.
import { randomUUID } from 'node:crypto';
import { HttpProblem, type SandboxResponse } from '../common/http';

export type ErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'OBJECT_ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INVALID_AUTHENTICATION'
  | 'EXPIRED_AUTHENTICATION'
  | 'RATE_LIMITS'
  | 'INTERNAL_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'MISSING_SCOPES';

export function errorBody(category: ErrorCategory, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

export function errorResponse(status: number, category: ErrorCategory, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return { status, body: errorBody(category, message, extra) };
}

/** Throws a HubSpot-shaped error out of a handler. */
export function fail(status: number, category: ErrorCategory, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpProblem(errorResponse(status, category, message, extra));
}

export function badRequest(message: string, extra: Record<string, unknown> = {}): never {
  return fail(400, 'VALIDATION_ERROR', message, extra);
}

/** HubSpot's 404 for a single CRM object read / update. */
export function objectNotFound(id: string): never {
  return fail(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', { context: { id: [id] } });
}

/** One failed property in a write, as HubSpot lists them inside "Property values were not valid". */
export interface PropertyError {
  name: string;
  error: string;
  message: string;
}

export function propertyValidationBody(errors: PropertyError[]): Record<string, unknown> {
  const inner = errors.map((e) => ({ isValid: false, message: e.message, error: e.error, name: e.name, localizedErrorMessage: e.message }));
  return errorBody('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(inner)}`, {
    errors: errors.map((e) => ({ message: e.message, code: e.error, context: { propertyName: [e.name] } })),
  });
}

export function failProperties(errors: PropertyError[]): never {
  throw new HttpProblem({ status: 400, body: propertyValidationBody(errors) });
}

/** A StandardError entry of a batch (207) response. */
export function batchError(category: ErrorCategory, message: string, context: Record<string, string[]>, subCategory?: string): Record<string, unknown> {
  const e: Record<string, unknown> = { status: 'error', category, message, context, errors: [], links: {} };
  if (subCategory) e.subCategory = subCategory;
  return e;
}
