// Salesforce error shapes. Request-level errors are a JSON array `[{ message, errorCode, fields? }]`;
// per-record errors inside sObject Collections results are `{ statusCode, message, fields }`.
import { HttpProblem, type SandboxResponse } from '../common/http';

export interface SfErrorBody {
  message: string;
  errorCode: string;
  fields?: string[];
  [extra: string]: unknown;
}

export function sfResponse(status: number, errorCode: string, message: string, fields?: string[], extra?: Record<string, unknown>): SandboxResponse {
  const entry: SfErrorBody = { message, errorCode, ...(extra ?? {}) };
  if (fields) entry.fields = fields;
  return { status, body: [entry] };
}

export function sfProblem(status: number, errorCode: string, message: string, fields?: string[], extra?: Record<string, unknown>): HttpProblem {
  return new HttpProblem(sfResponse(status, errorCode, message, fields, extra));
}

export const notFound = (message = 'The requested resource does not exist'): HttpProblem => sfProblem(404, 'NOT_FOUND', message);

export const invalidSession = (): HttpProblem => sfProblem(401, 'INVALID_SESSION_ID', 'Session expired or invalid');

/** A failure of one record in a DML operation. */
export class RecordError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  toResult(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }

  /** As a request-level error of a single-record call (`POST /sobjects/X`, `PATCH /sobjects/X/id`). */
  toProblem(): HttpProblem {
    const status = this.statusCode === 'NOT_FOUND' || this.statusCode === 'ENTITY_IS_DELETED' ? 404 : 400;
    return sfProblem(status, this.statusCode, this.message, this.fields);
  }
}

/** OAuth endpoints answer `{ error, error_description }`, not the REST array. */
export function oauthError(status: number, error: string, description: string): HttpProblem {
  return new HttpProblem({ status, body: { error, error_description: description } });
}
