// Errors the pure domain raises. Higher layers map `code` to an HTTP status (e.g. INVALID_TRANSITION → 409).

export const DOMAIN_ERROR_CODES = ['INVALID_TRANSITION', 'EXTENSION_NOT_ALLOWED', 'INVALID_DOMAIN', 'FREE_EMAIL_DOMAIN'] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
