// One zod schema for the environment, parsed once at start. Fails fast listing every bad variable.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.string().url();

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** HTTP port of the API. */
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** PostgreSQL connection string. Unset: `dealreg demo` starts an embedded PostgreSQL; `serve` refuses to start. */
  DATABASE_URL: url.optional(),
  /** Connections in the pool of each process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url.default('redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ key in Redis; lets several installations (or test runs) share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('dealreg'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pretty, human-readable logs (development); JSON lines otherwise. */
  LOG_PRETTY: bool.default(false),
  /** 32-byte key (64 hex chars or base64) encrypting CRM tokens at rest. Required in production. */
  ENCRYPTION_KEY: z.string().optional(),
  /** Public base URL of this service (webhook signature URLs, OAuth redirect URIs). */
  PUBLIC_BASE_URL: url.default('http://127.0.0.1:3000'),
  HUBSPOT_API_BASE_URL: url.default('https://api.hubapi.com'),
  /** HubSpot's app host, where admins install the app (`/oauth/authorize`); the sandbox serves one too. */
  HUBSPOT_APP_BASE_URL: url.default('https://app.hubspot.com'),
  HUBSPOT_APP_ID: z.string().regex(/^\d+$/, 'a numeric HubSpot app id').optional(),
  HUBSPOT_CLIENT_ID: z.string().optional(),
  HUBSPOT_CLIENT_SECRET: z.string().optional(),
  /** Requests per second per portal (a 1-s window of N keeps any rolling 10 s under 11 × N; HubSpot allows 110). */
  HUBSPOT_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(100).default(10),
  HUBSPOT_SEARCHES_PER_SECOND: z.coerce.number().int().min(1).max(20).default(4),
  /** How often each CRM connection's reconcile sweep re-reads records modified since the last one (ms). */
  CRM_RECONCILE_MS: z.coerce.number().int().min(5_000).max(86_400_000).default(300_000),
  /** How often the CRM safety-net sweep queues waiting work (ms). */
  CRM_SWEEP_MS: z.coerce.number().int().min(200).max(600_000).default(5_000),
  /** Where OAuth and JWT logins go: login.salesforce.com, test.salesforce.com (sandboxes), a My Domain, or the sandbox. */
  SALESFORCE_LOGIN_URL: url.default('https://login.salesforce.com'),
  /** The REST API version every call names (jsforce's own default, 50.0, is never used). */
  SALESFORCE_API_VERSION: z.string().regex(/^\d{2,3}\.0$/, 'a version like 66.0').refine((v) => Number(v) >= 66, 'use 66.0 or newer').default('66.0'),
  /** dealreg's connected app (OAuth web-server flow with PKCE; the JWT bearer flow's issuer). */
  SALESFORCE_CLIENT_ID: z.string().optional(),
  SALESFORCE_CLIENT_SECRET: z.string().optional(),
  /** PEM file with the connected app certificate's private key, for JWT bearer connections that do not bring their own. */
  SALESFORCE_JWT_PRIVATE_KEY_FILE: z.string().optional(),
  /** Calls per second per org, shared by every worker. */
  SALESFORCE_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(200).default(20),
  /** Share of each org's daily API allowance dealreg may spend (it slows down before, and stops at it). */
  SALESFORCE_API_BUDGET_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /**
   * How long one change-feed pull waits for events when none are waiting (ms). A worker shutting down
   * waits for the poll in flight: keep it well under SHUTDOWN_GRACE_SECONDS.
   */
  SALESFORCE_FEED_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  /** How often the outbox dispatcher looks for new rows when it has not been nudged (ms). */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /** How often the protection sweep (expiry + reminders) runs (ms). */
  PROTECTION_SWEEP_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  /** Largest accepted JSON body. */
  BODY_LIMIT: z.string().default('100kb'),
  /** Seconds SIGTERM waits for in-flight requests and jobs before closing anyway. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment (or any record) into a typed Config; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = i.path.join('.') || '(environment)';
      const value = cleaned[key as keyof typeof cleaned];
      const shown = value === undefined ? 'unset' : key.match(/SECRET|KEY|PASSWORD|TOKEN|URL/) ? 'set' : JSON.stringify(value);
      return `${key}: ${i.message} (${shown})`;
    });
    throw new ConfigError(problems);
  }
  const cfg = result.data;
  const problems: string[] = [];
  if (cfg.NODE_ENV === 'production' && !cfg.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY: required in production (32 bytes, hex or base64)');
  if (cfg.ENCRYPTION_KEY && decodeKey(cfg.ENCRYPTION_KEY) === null) problems.push('ENCRYPTION_KEY: must be 32 bytes as 64 hex characters or base64 (set)');
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

export function decodeKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  const b = Buffer.from(value, 'base64');
  return b.length === 32 ? b : null;
}
