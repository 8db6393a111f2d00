// Structured logs with named fields; secrets redacted wherever they appear in a log object.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token', 'apiKey', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'clientSecret', 'client_secret',
  'password', 'authorization', 'secret', 'privateKey', 'assertion', 'codeVerifier', 'code_verifier',
  '*.privateKey', '*.assertion', '*.codeVerifier', '*.code_verifier',
  '*.token', '*.apiKey', '*.accessToken', '*.refreshToken', '*.access_token', '*.refresh_token', '*.clientSecret',
  '*.client_secret', '*.password', '*.authorization', '*.secret',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers["x-hubspot-signature-v3"]',
];

export function createLogger(opts: { level: string; pretty?: boolean; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: opts.name ?? 'dealreg',
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing (tests, library use). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
