// A deliberately small HTTP core for the CRM sandboxes: node:http, a path router with :params,
// raw-body capture (webhook and signature work needs the exact bytes) and JSON replies.
// Express would do, but the sandboxes must sustain thousands of requests a second on two cores.
import http from 'node:http';

export interface SandboxRequest {
  method: string;
  /** Path without the query string, e.g. `/crm/v3/objects/deals/12`. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON body when the request had one (undefined otherwise). */
  body: unknown;
  params: Record<string, string>;
  /** The full request URL as received (path + query), for signature checks. */
  url: string;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string | number>;
  /** Serialised as JSON unless it is a string or Buffer, sent as is. Omit for an empty body. */
  body?: unknown;
}

export type Handler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), segments: split(pattern), handler });
    return this;
  }

  get(p: string, h: Handler): this { return this.add('GET', p, h); }
  post(p: string, h: Handler): this { return this.add('POST', p, h); }
  patch(p: string, h: Handler): this { return this.add('PATCH', p, h); }
  put(p: string, h: Handler): this { return this.add('PUT', p, h); }
  delete(p: string, h: Handler): this { return this.add('DELETE', p, h); }

  /** Finds the handler for a method and path; `methodMismatch` tells 405 from 404. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { methodMismatch: boolean } {
    const parts = split(path);
    let methodMismatch = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { handler: route.handler, params };
    }
    return { methodMismatch };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  // Check literals first so that a mismatch allocates nothing (this runs for every route, every request).
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.charCodeAt(0) !== 58 /* ':' */ && p !== parts[i]) return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.charCodeAt(0) === 58) params[p.slice(1)] = safeDecode(parts[i]!);
  }
  return params;
}

function safeDecode(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

export class HttpProblem extends Error {
  constructor(readonly response: SandboxResponse) {
    super(`sandbox http problem ${response.status}`);
  }
}

export interface ServerOptions {
  /** Called for every request before routing; may answer early (faults, auth, limits). */
  handle: (req: SandboxRequest) => Promise<SandboxResponse>;
  maxBodyBytes?: number;
  /** The answer to a body that is not valid JSON (default: a HubSpot-style VALIDATION_ERROR). */
  invalidJsonResponse?: SandboxResponse;
}

const EMPTY_BODY = Buffer.alloc(0);

/** Creates (does not listen) an HTTP server that buffers the body, parses JSON and calls `handle`. */
export function createSandboxServer(opts: ServerOptions): http.Server {
  const maxBody = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const server = http.createServer((req, res) => {
    const dispatch = (rawBody: Buffer): void => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      let body: unknown;
      if (rawBody.length > 0 && isJson(req.headers['content-type'])) {
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          send(res, opts.invalidJsonResponse ?? { status: 400, body: { status: 'error', message: 'Invalid JSON body', category: 'VALIDATION_ERROR' } });
          return;
        }
      }
      const sreq: SandboxRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, rawBody, body, params: {}, url };
      // A handler that throws synchronously, or a reply that cannot be serialised, must not take the
      // process down: both end up as a 500 (or the HttpProblem's response).
      let pending: Promise<SandboxResponse>;
      try {
        pending = opts.handle(sreq);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending
        .then((r) => send(res, r))
        .catch((err: unknown) => {
          if (err instanceof HttpProblem) return send(res, err.response);
          send(res, { status: 500, body: { status: 'error', message: err instanceof Error ? err.message : String(err) } });
        });
    };
    // No body announced (most GETs and DELETEs): answer without waiting for the stream to end; Node
    // discards the empty body. This saves several ticks per request on the hot read paths.
    const length = req.headers['content-length'];
    if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) {
      dispatch(EMPTY_BODY);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        aborted = true;
        send(res, { status: 413, body: { status: 'error', message: 'Request body too large' } });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!aborted) dispatch(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

function isJson(ct: string | undefined): boolean {
  if (!ct) return true; // many clients omit it on JSON posts; be lenient like the real services
  return ct.includes('json');
}

export function send(res: http.ServerResponse, r: SandboxResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (r.body === undefined || r.body === null) {
    payload = undefined;
  } else if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) {
    payload = r.body;
  } else {
    payload = JSON.stringify(r.body);
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json;charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(r.status, headers);
  res.end(payload);
}

function hasHeader(h: Record<string, unknown>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name);
}

/** Resolves once the server listens; returns the bound port (use port 0 in tests). */
export function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Closes the server and its idle keep-alive sockets. */
export function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections?.();
    setTimeout(() => server.closeAllConnections?.(), 200).unref();
  });
}
