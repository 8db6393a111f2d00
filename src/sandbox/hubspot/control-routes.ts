// The control API under `/_sandbox`: no auth, no rate limit. The names in DESIGN.md ("CRM sandboxes")
// are a contract: reset, portals, faults, expire-tokens. The rest serves seeding, tests and benchmarks.
import { Router, type SandboxRequest, type SandboxResponse } from '../common/http';
import type { FaultQueue } from '../common/faults';
import { badRequest, fail } from './errors';
import type { Actor } from './model';
import { publicOwner } from './owners-pipelines-routes';
import type { Portal } from './portal';
import { addOwners, configurePortal, createPortal, describePortal, expireTokens, rotatePrivateToken, seed, type PortalOptions } from './portals';
import type { SandboxState } from './state';
import type { WebhookDispatcher } from './webhooks';

export interface Settings {
  rateLimitsEnabled: boolean;
  webhookDispatchIntervalMs: number;
}

export interface ControlDeps {
  state(): SandboxState;
  now(): number;
  dispatcher: WebhookDispatcher;
  faults: FaultQueue;
  settings: Settings;
  reset(): void;
  snapshot(): object;
  restore(snapshot: object): void;
}

const json = (body: unknown, status = 200): SandboxResponse => ({ status, body });

function obj(req: SandboxRequest): Record<string, unknown> {
  if (req.body === undefined) return {};
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) badRequest('expected a JSON object body');
  return req.body as Record<string, unknown>;
}

/** `user:<id>` → a person acting in the UI; anything else → the integration. */
export function parseActor(value: unknown): Actor | null {
  if (typeof value !== 'string') return null;
  const m = /^user:(\d+)$/.exec(value.trim());
  return m ? { kind: 'user', userId: Number(m[1]) } : null;
}

export function controlRouter(d: ControlDeps): Router {
  const router = new Router();
  const portalOf = (id: unknown): Portal => {
    const p = d.state().portal(id);
    if (!p) fail(404, 'OBJECT_NOT_FOUND', `portal ${String(id)} does not exist`);
    return p;
  };

  router.get('/_sandbox', () => json({
    name: 'dealreg HubSpot sandbox',
    portals: d.state().portals.size,
    settings: d.settings,
    control: [
      'POST /_sandbox/reset', 'POST /_sandbox/portals', 'GET /_sandbox/portals', 'GET|PATCH /_sandbox/portals/:portalId',
      'POST /_sandbox/portals/:portalId/owners', 'POST /_sandbox/portals/:portalId/seed', 'POST /_sandbox/portals/:portalId/rotate-token',
      'GET /_sandbox/portals/:portalId/webhook-deliveries', 'POST /_sandbox/portals/:portalId/webhooks/flush', 'GET /_sandbox/portals/:portalId/stats',
      'POST /_sandbox/faults', 'DELETE /_sandbox/faults', 'POST /_sandbox/expire-tokens', 'GET /_sandbox/snapshot', 'POST /_sandbox/restore', 'PATCH /_sandbox/settings',
    ],
  }));

  router.post('/_sandbox/reset', () => {
    d.reset();
    return json({ ok: true });
  });

  router.patch('/_sandbox/settings', (req) => {
    const b = obj(req);
    if (b.rateLimitsEnabled !== undefined) d.settings.rateLimitsEnabled = b.rateLimitsEnabled === true;
    if (b.webhookDispatchIntervalMs !== undefined) {
      const ms = Number(b.webhookDispatchIntervalMs);
      if (!Number.isInteger(ms) || ms <= 0) badRequest('webhookDispatchIntervalMs must be a positive integer');
      d.settings.webhookDispatchIntervalMs = ms;
      d.dispatcher.setInterval(ms);
    }
    return json(d.settings);
  });

  router.post('/_sandbox/portals', (req) => json(createPortal(d.state(), obj(req) as PortalOptions, d.now()), 201));
  router.get('/_sandbox/portals', () => json({ results: [...d.state().portals.values()].map(describePortal) }));
  router.get('/_sandbox/portals/:portalId', (req) => json(describePortal(portalOf(req.params.portalId))));
  router.patch('/_sandbox/portals/:portalId', (req) => {
    const portal = portalOf(req.params.portalId);
    configurePortal(portal, obj(req) as PortalOptions);
    d.dispatcher.tick();
    return json(describePortal(portal));
  });

  router.post('/_sandbox/portals/:portalId/owners', (req) => {
    const owners = addOwners(d.state(), portalOf(req.params.portalId), obj(req), d.now());
    return json({ results: owners.map(publicOwner) }, 201);
  });

  router.post('/_sandbox/portals/:portalId/seed', (req) => {
    const portal = portalOf(req.params.portalId);
    const b = obj(req);
    const actor = parseActor(b.actor) ?? { kind: 'integration' as const };
    const emit = b.emitWebhooks === true ? (draft: Parameters<WebhookDispatcher['emit']>[2]) => d.dispatcher.emit(portal, actor, draft) : null;
    return json(seed(d.state(), portal, b, d.now(), emit, actor), 201);
  });

  router.post('/_sandbox/portals/:portalId/rotate-token', (req) => json({ accessToken: rotatePrivateToken(d.state(), portalOf(req.params.portalId)) }));

  router.get('/_sandbox/portals/:portalId/webhook-deliveries', (req) => {
    const portal = portalOf(req.params.portalId);
    const since = Number(req.query.get('since') ?? 0);
    const limit = Math.max(1, Number(req.query.get('limit')) || 500);
    const results = portal.deliveryLog.filter((e) => e.deliveryId > since).slice(-limit);
    return json({ results, ...d.dispatcher.pending(portal.portalId) });
  });

  router.post('/_sandbox/portals/:portalId/webhooks/flush', async (req) => {
    const portal = portalOf(req.params.portalId);
    const timeoutMs = Number(obj(req).timeoutMs ?? 10_000);
    const drained = await d.dispatcher.drain(portal.portalId, timeoutMs);
    return json({ drained, ...d.dispatcher.pending(portal.portalId) });
  });

  router.get('/_sandbox/portals/:portalId/stats', (req) => {
    const portal = portalOf(req.params.portalId);
    return json({ portalId: portal.portalId, ...portal.stats, webhookPending: d.dispatcher.pending(portal.portalId) });
  });

  router.post('/_sandbox/faults', (req) => {
    const b = obj(req);
    const portal = portalOf(b.portalId);
    const count = Number(b.count ?? 1);
    if (!Number.isInteger(count) || count <= 0) badRequest('count must be a positive integer');
    const status = b.status === undefined || b.status === null ? undefined : Number(b.status);
    const latencyMs = b.latencyMs === undefined || b.latencyMs === null ? undefined : Number(b.latencyMs);
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) badRequest('status must be an HTTP error status (4xx or 5xx)');
    if (latencyMs !== undefined && (!Number.isFinite(latencyMs) || latencyMs < 0)) badRequest('latencyMs must be a non-negative number');
    if (status === undefined && latencyMs === undefined) badRequest('a fault needs a status, a latencyMs, or both');
    d.faults.add(String(portal.portalId), { status, count, latencyMs });
    return json({ ok: true }, 201);
  });

  router.delete('/_sandbox/faults', (req) => {
    const id = req.query.get('portalId') ?? obj(req).portalId;
    if (id === undefined || id === null) d.faults.clear();
    else d.faults.clear(String(portalOf(id).portalId));
    return { status: 204 };
  });

  router.post('/_sandbox/expire-tokens', (req) => {
    const portal = portalOf(obj(req).portalId);
    return json({ expired: expireTokens(d.state(), portal.portalId, d.now()) });
  });

  router.get('/_sandbox/snapshot', () => json(d.snapshot()));
  router.post('/_sandbox/restore', (req) => {
    try {
      d.restore(obj(req));
    } catch (e) {
      badRequest(e instanceof Error ? e.message : String(e));
    }
    return json({ ok: true });
  });

  return router;
}
