// The HubSpot sandbox: one HTTP server answering the CRM API like api.hubapi.com, the OAuth endpoints,
// and the `/_sandbox` control API. An API call goes: authenticate → injected fault → rate limit →
// route → add HubSpot's headers and count it.
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { close as closeServer, createSandboxServer, HttpProblem, listen as listenServer, type Router, type SandboxRequest, type SandboxResponse } from '../common/http';
import { FaultQueue, sleep } from '../common/faults';
import { ApiRoutes, type ApiRequest, type Services } from './api';
import { registerAssociationRoutes } from './associations-routes';
import { registerBatchRoutes } from './batch-routes';
import { controlRouter, parseActor, type Settings } from './control-routes';
import { errorResponse } from './errors';
import { faultResponse, limitHeaders, secondlyLimited, tenSecondlyLimited } from './limits';
import type { Actor } from './model';
import { authenticate, bearer, oauthRouter } from './oauth';
import { registerObjectRoutes } from './objects-routes';
import { registerOwnerAndPipelineRoutes } from './owners-pipelines-routes';
import type { Portal } from './portal';
import { registerPropertyRoutes } from './properties-routes';
import { SandboxState, type StateSnapshot } from './state';
import { WebhookDispatcher } from './webhooks';

export interface HubspotSandboxOptions {
  /** Clock for everything stateful (timestamps, token expiry, rate windows). Default Date.now. */
  now?: () => number;
  /** How often queued webhook events are batched and sent. Default 100 ms. */
  webhookDispatchIntervalMs?: number;
  /** false: no 429s at all (benchmarks). Default true. */
  rateLimitsEnabled?: boolean;
}

export interface HubspotSandbox {
  server: http.Server;
  /** `http://127.0.0.1:<port>` once listening. */
  baseUrl: string;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  reset(): void;
  snapshot(): object;
  restore(snapshot: object): void;
}

/**
 * Search responses carry no X-HubSpot-RateLimit-* headers: search has its own per-second limit and
 * HubSpot documents the standard headers for the rolling window only. Flip to send them anyway.
 */
const SEARCH_SENDS_LIMIT_HEADERS = false;

function isSearch(req: SandboxRequest): boolean {
  return req.method === 'POST' && req.path.endsWith('/search') && req.path.startsWith('/crm/');
}

function dispatch(router: Router, req: SandboxRequest): Promise<SandboxResponse> | SandboxResponse {
  const m = router.match(req.method, req.path);
  if (!('handler' in m)) {
    return m.methodMismatch
      ? errorResponse(405, 'VALIDATION_ERROR', `HTTP method ${req.method} is not supported by ${req.path}`)
      : errorResponse(404, 'OBJECT_NOT_FOUND', `No route for ${req.method} ${req.path}`);
  }
  req.params = m.params;
  return m.handler(req);
}

/** Runs a handler; a thrown HttpProblem (sync or async) becomes its response. */
async function settle(run: () => Promise<SandboxResponse> | SandboxResponse): Promise<SandboxResponse> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof HttpProblem) return e.response;
    throw e;
  }
}

export function createHubspotSandbox(options: HubspotSandboxOptions = {}): HubspotSandbox {
  const now = options.now ?? Date.now;
  let state = new SandboxState();
  const faults = new FaultQueue();
  const settings: Settings = {
    rateLimitsEnabled: options.rateLimitsEnabled ?? true,
    webhookDispatchIntervalMs: options.webhookDispatchIntervalMs ?? 100,
  };
  const dispatcher = new WebhookDispatcher(() => state, now, settings.webhookDispatchIntervalMs);
  const svc: Services = { state: () => state, now, dispatcher };

  const api = new ApiRoutes();
  registerObjectRoutes(api, svc);
  registerBatchRoutes(api, svc);
  registerAssociationRoutes(api, svc);
  registerPropertyRoutes(api, svc);
  registerOwnerAndPipelineRoutes(api, svc);
  const oauth = oauthRouter(() => state, now);

  const reset = (): void => {
    dispatcher.cancelAll();
    faults.clear();
    state = new SandboxState();
  };
  const snapshot = (): object => structuredClone(state.toJSON());
  const restore = (s: object): void => {
    const next = SandboxState.fromJSON(structuredClone(s) as StateSnapshot, now());
    dispatcher.cancelAll();
    faults.clear();
    state = next;
  };
  const control = controlRouter({ state: () => state, now, dispatcher, faults, settings, reset, snapshot, restore });

  /** A person editing in HubSpot's UI: not the app, so no token checks, limits or faults apply. */
  function uiPortal(req: SandboxRequest): Portal | undefined {
    const explicit = req.headers['x-sandbox-portal-id'];
    if (typeof explicit === 'string') return state.portal(explicit);
    const token = bearer(req);
    const info = token ? state.accessTokens.get(token) : undefined;
    return info ? state.portals.get(info.portalId) : undefined;
  }

  async function handleApi(req: SandboxRequest): Promise<SandboxResponse> {
    const t = now();
    const user = parseActor(req.headers['x-sandbox-actor']);
    let portal: Portal;
    let actor: Actor;
    let headers: Record<string, string | number> | undefined;
    if (user) {
      const p = uiPortal(req);
      if (!p) return errorResponse(401, 'INVALID_AUTHENTICATION', 'X-Sandbox-Actor needs X-Sandbox-Portal-Id or a known token naming the portal');
      portal = p;
      actor = user;
      portal.stats.uiEdits++;
    } else {
      const auth = authenticate(state, req, t);
      if ('response' in auth) {
        const p = auth.response.status === 401 ? uiPortal(req) : undefined;
        if (p) p.stats.unauthorized++;
        return auth.response;
      }
      portal = auth.portal;
      actor = { kind: 'integration' };
      const fault = faults.take(String(portal.portalId));
      if (fault) {
        portal.stats.faultsInjected++;
        if (fault.latencyMs) await sleep(fault.latencyMs);
        if (fault.status) return count(portal, faultResponse(portal, fault.status));
      }
      const search = isSearch(req);
      if (settings.rateLimitsEnabled) {
        if (search) {
          const d = portal.searchWindow.hit(t);
          if (!d.allowed) {
            portal.stats.searchRateLimited++;
            return count(portal, secondlyLimited(portal, d.retryAfterMs));
          }
        } else {
          const d = portal.window.hit(t);
          if (!d.allowed) {
            portal.stats.rateLimited++;
            return count(portal, tenSecondlyLimited(portal, d.retryAfterMs));
          }
          headers = limitHeaders(portal, d.remaining) as unknown as Record<string, number>;
        }
      } else if (!search || SEARCH_SENDS_LIMIT_HEADERS) {
        headers = limitHeaders(portal, portal.rateLimit.max) as unknown as Record<string, number>;
      }
    }
    const apiReq = req as ApiRequest;
    apiReq.portal = portal;
    apiReq.actor = actor;
    const handled = await settle(() => dispatch(api.router, apiReq));
    // never mutate a handler's response: some are shared constants (204)
    const res = headers ? { status: handled.status, body: handled.body, headers: handled.headers ? Object.assign(headers, handled.headers) : headers } : handled;
    if (apiReq.route) portal.stats.byRoute[apiReq.route] = (portal.stats.byRoute[apiReq.route] ?? 0) + 1;
    return count(portal, res);
  }

  function count(portal: Portal, res: SandboxResponse): SandboxResponse {
    portal.stats.requests++;
    const k = String(res.status);
    portal.stats.byStatus[k] = (portal.stats.byStatus[k] ?? 0) + 1;
    return res;
  }

  async function handle(req: SandboxRequest): Promise<SandboxResponse> {
    let res: SandboxResponse;
    if (req.path.startsWith('/_sandbox')) res = await settle(() => dispatch(control, req));
    else if (req.path.startsWith('/oauth/')) res = await settle(() => dispatch(oauth, req));
    else res = await handleApi(req);
    const headers: Record<string, string | number> = { 'X-HubSpot-Correlation-Id': randomUUID() };
    if (res.headers) Object.assign(headers, res.headers);
    return { status: res.status, body: res.body, headers };
  }

  const server = createSandboxServer({ handle, maxBodyBytes: 64 * 1024 * 1024 });
  dispatcher.start();

  const sandbox: HubspotSandbox = {
    server,
    baseUrl: '',
    async listen(port: number, host = '127.0.0.1') {
      const bound = await listenServer(server, port, host);
      const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      sandbox.baseUrl = `http://${h}:${bound}`;
      return bound;
    },
    async close() {
      dispatcher.stop();
      faults.clear();
      await closeServer(server);
    },
    reset,
    snapshot,
    restore,
  };
  return sandbox;
}
