// Test harness for the HubSpot sandbox: starts it on port 0, talks to its control API, builds real
// @hubspot/api-client clients against it, and runs a local webhook receiver.
import http from 'node:http';
import { Client } from '@hubspot/api-client';
import { createHubspotSandbox, type HubspotSandbox, type HubspotSandboxOptions, type PortalCreated, type PortalOptions } from '../../../src/sandbox/hubspot';

export interface Harness {
  sandbox: HubspotSandbox;
  baseUrl: string;
  control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createPortal(options?: PortalOptions): Promise<PortalCreated>;
  /** A real SDK client for the portal's token; `headers` become default headers (e.g. X-Sandbox-Actor). */
  client(accessToken: string, extra?: { headers?: Record<string, string>; numberOfApiCallRetries?: number }): Client;
  close(): Promise<void>;
}

export async function startSandbox(options: HubspotSandboxOptions = {}): Promise<Harness> {
  const sandbox = createHubspotSandbox({ webhookDispatchIntervalMs: 20, ...options });
  await sandbox.listen(0);
  const baseUrl = sandbox.baseUrl;
  const control = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    sandbox,
    baseUrl,
    control,
    async createPortal(o: PortalOptions = {}) {
      const r = await control<PortalCreated>('POST', '/_sandbox/portals', o);
      if (r.status !== 201) throw new Error(`portal creation failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    client(accessToken, extra = {}) {
      return new Client({ accessToken, basePath: baseUrl, defaultHeaders: extra.headers, numberOfApiCallRetries: extra.numberOfApiCallRetries });
    },
    close: () => sandbox.close(),
  };
}

/** The ApiException an SDK call rejects with (fails the test if it resolves). */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown; headers?: Record<string, string> };
    if (typeof err.code !== 'number') throw e;
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Record<string, unknown>) : (err.body as Record<string, unknown>);
    return { code: err.code, body, headers: err.headers ?? {} };
  }
  throw new Error('expected the SDK call to fail');
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  events: Array<Record<string, unknown>>;
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves when `pred` holds for what was received (polls; rejects after `timeoutMs`). */
  waitFor(pred: (r: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A local webhook target. `status(n)` decides the answer to the n-th request (0-based); default 204. */
export async function startReceiver(status: (n: number, r: Received) => number = () => 204, path = '/webhooks/hubspot'): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody, events: JSON.parse(rawBody) as Array<Record<string, unknown>>, answered: 0 };
      r.answered = status(received.length, r);
      received.push(r);
      res.writeHead(r.answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    async waitFor(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms (${received.length} requests received)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** All events received so far, flattened. */
export function allEvents(received: Received[]): Array<Record<string, unknown>> {
  return received.flatMap((r) => r.events);
}
