// Errors that cross the HTTP boundary: a stable machine-readable code, a human message, an HTTP status.
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new AppError(400, code, message, details);
export const unauthenticated = (message = 'Missing or invalid credentials: send "Authorization: Bearer <token>".') =>
  new AppError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message: string, details?: unknown) => new AppError(403, 'FORBIDDEN', message, details);
export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} was not found.`);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const unprocessable = (code: string, message: string, details?: unknown) => new AppError(422, code, message, details);
