// createApp builds the Express application (no listen): routes, auth, metrics, errors.
import express, { type Express, type RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { UseCaseContext } from '../use-cases/context';
import { authenticate } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { partnerRoutes } from './routes/partners';
import { staffTokenRoutes } from './routes/staff-tokens';
import { registrationRoutes, type CrmLinkLookup } from './routes/registrations';
import { policyRoutes } from './routes/policy';
import { attributionRoutes } from './routes/attribution';
import type { CrmServices } from '../crm/crm-services';
import { connectionRoutes, mappingRoutes } from './routes/crm';
import { oauthRoutes } from './routes/oauth';
import { hubspotWebhookRouter } from './webhooks/hubspot-webhooks';
import { hubspotCardRouter } from './cards/hubspot-cards';
import { salesforceCardRouter } from './cards/salesforce-cards';
import { crmUserRoutes } from './routes/crm-users';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: unknown }>;
}

export interface AppDeps extends UseCaseContext {
  redis: Redis;
  bodyLimit?: string;
  /** Extra readiness checks (e.g. CRM connections); each must answer within 2 s. */
  readiness?: ReadinessCheck[];
  crmLinks?: CrmLinkLookup;
  /** Mount more routers (e.g. test doubles). */
  extraRoutes?: (app: Express) => void;
  /** CRM connectors: connections, mappings, OAuth installs, webhooks. */
  crm?: CrmServices | null;
}

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  // Request id, access log and latency histogram by route template (not by raw path: ids would explode cardinality).
  const observe: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = (req.header('x-request-id') ?? '').slice(0, 100) || randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route?.path ? `${req.baseUrl}${req.route.path as string}` : res.statusCode === 404 ? 'unmatched' : req.baseUrl || req.path;
      deps.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
      deps.log[level]({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000), principal: req.principal?.kind }, 'request');
    });
    next();
  };
  app.use(observe);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: ReadinessCheck[] = [
      { name: 'database', check: async () => { await deps.prisma.$queryRaw`SELECT 1`; return { ok: true }; } },
      { name: 'redis', check: async () => ({ ok: (await deps.redis.ping()) === 'PONG' }) },
      ...(deps.readiness ?? []),
    ];
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          const r = await withTimeout(c.check(), READY_TIMEOUT_MS, c.name);
          return { name: c.name, ok: r.ok, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
        } catch (err) {
          return { name: c.name, ok: false, detail: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks: results });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  deps.extraRoutes?.(app);
  const crm = deps.crm ?? null;
  if (crm) {
    app.use(
      hubspotWebhookRouter({
        prisma: deps.prisma,
        log: deps.log,
        metrics: deps.metrics,
        clock: () => new Date(),
        publicBaseUrl: crm.settings.publicBaseUrl,
        appSecret: crm.settings.hubspot.clientSecret,
        appId: crm.settings.hubspot.appId,
        onStored: async (ids) => {
          for (const id of ids) await crm.jobs.inbox(id);
        },
      }),
    );
    app.use('/oauth', oauthRoutes(crm, deps.prisma, deps.clock));
    // CRM cards: signed by HubSpot / authenticated by the Salesforce card secret, not by /v1 tokens.
    app.use('/cards/hubspot', hubspotCardRouter({ ctx: deps, log: deps.log, clock: () => new Date(), publicBaseUrl: crm.settings.publicBaseUrl, appSecret: crm.settings.hubspot.clientSecret }));
    app.use('/cards/salesforce', salesforceCardRouter({ ctx: deps, log: deps.log }));
  }

  const v1 = express.Router();
  // Only JSON bodies; anything else with a body is refused before parsing.
  v1.use((req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      return next(Object.assign(new Error('unsupported media type'), { type: 'encoding.unsupported' }));
    }
    next();
  });
  v1.use(express.json({ limit: deps.bodyLimit ?? '100kb', strict: true }));
  v1.use(authenticate(deps.prisma, deps.clock));
  v1.use('/partners', partnerRoutes(deps));
  v1.use('/staff-tokens', staffTokenRoutes(deps));
  v1.use('/registrations', registrationRoutes(deps, deps.crmLinks));
  v1.use(attributionRoutes(deps));
  v1.use('/policy', policyRoutes(deps));
  v1.use('/crm-users', crmUserRoutes(deps));
  if (crm) {
    v1.use('/connections', connectionRoutes(crm));
    v1.use('/mappings', mappingRoutes(crm));
  }
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
