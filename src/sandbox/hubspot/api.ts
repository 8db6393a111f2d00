// What route handlers of the CRM API get: the request, the portal its token belongs to, who acts,
// and the sandbox services. Handlers stay thin: parse, call records / search / associations, reply.
import { Router, type SandboxRequest, type SandboxResponse } from '../common/http';
import { badRequest } from './errors';
import type { Actor } from './model';
import type { Portal } from './portal';
import type { SandboxState, WriteCtx } from './state';
import type { WebhookDispatcher } from './webhooks';

export interface Services {
  state(): SandboxState;
  now(): number;
  dispatcher: WebhookDispatcher;
}

export interface ApiRequest extends SandboxRequest {
  portal: Portal;
  actor: Actor;
  /** `METHOD /pattern` of the matched route, for per-route stats. */
  route?: string;
}

export type ApiHandler = (req: ApiRequest) => SandboxResponse | Promise<SandboxResponse>;

export class ApiRoutes {
  readonly router = new Router();

  add(method: string, pattern: string, handler: ApiHandler): this {
    const route = `${method} ${pattern}`;
    this.router.add(method, pattern, (req) => {
      const r = req as ApiRequest;
      r.route = route;
      return handler(r);
    });
    return this;
  }

  get(p: string, h: ApiHandler): this { return this.add('GET', p, h); }
  post(p: string, h: ApiHandler): this { return this.add('POST', p, h); }
  patch(p: string, h: ApiHandler): this { return this.add('PATCH', p, h); }
  put(p: string, h: ApiHandler): this { return this.add('PUT', p, h); }
  delete(p: string, h: ApiHandler): this { return this.add('DELETE', p, h); }
}

export function writeCtx(svc: Services, req: ApiRequest): WriteCtx {
  const { portal, actor } = req;
  return { state: svc.state(), portal, actor, now: svc.now(), emit: (d) => svc.dispatcher.emit(portal, actor, d) };
}

export function ok(body: unknown, status = 200): SandboxResponse {
  return { status, body };
}

export const noContent: SandboxResponse = Object.freeze({ status: 204 });

/** The JSON body as an object; HubSpot answers 400 for anything else. */
export function bodyObject(req: SandboxRequest): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) badRequest('Invalid input JSON on line 1, column 1: expected an object');
  return b as Record<string, unknown>;
}

/** A batch body's `inputs`, enforcing HubSpot's 100-input limit. */
export function batchInputs(req: SandboxRequest, max = 100): unknown[] {
  const inputs = bodyObject(req).inputs;
  if (!Array.isArray(inputs)) badRequest('Invalid input JSON on line 1: "inputs" must be an array');
  if (inputs.length > max) badRequest(`Batch input limit exceeded: ${inputs.length} inputs were sent but at most ${max} are allowed.`, { context: { inputs: [String(inputs.length)], maxInputs: [String(max)] } });
  return inputs;
}

export function queryBool(q: URLSearchParams, name: string): boolean {
  return q.get(name) === 'true';
}

export function isoNow(svc: Services): string {
  return new Date(svc.now()).toISOString();
}

/** `link` for a next page, built from the request's host like HubSpot's absolute links. */
export function nextLink(req: SandboxRequest, after: string): string {
  const host = req.headers.host ?? '127.0.0.1';
  const q = new URLSearchParams(req.query);
  q.set('after', after);
  return `http://${host}${req.path}?${q.toString()}`;
}
