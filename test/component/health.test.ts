// Operations endpoints: liveness, readiness (database and Redis), Prometheus metrics.
import http from 'node:http';
import { Redis } from 'ioredis';
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, uniqueDomain } from '../helpers/api-fixtures';
import { createApp } from '../../src/http/app';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('health and metrics', () => {
  it('answers /healthz with 200 and no credentials', async () => {
    const res = await h.api.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 when the database and Redis answer', async () => {
    const res = await h.api.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: expect.arrayContaining([{ name: 'database', ok: true }, { name: 'redis', ok: true }]) });
  });

  it('answers /readyz with 503 naming Redis when Redis is unreachable', async () => {
    // A real client pointed at a port where nothing listens (no mock): commands fail at once.
    const deadRedis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    deadRedis.on('error', () => undefined);
    const server = http.createServer(createApp({ ...h.ctx, redis: deadRedis }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
      expect(body.status).toBe('not_ready');
      expect(body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'database', ok: true }), expect.objectContaining({ name: 'redis', ok: false })]));
    } finally {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      deadRedis.disconnect();
    }
  });

  it('exposes verdicts by outcome and request latency by route template on /metrics', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Metered Partner' }]);
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('metered')));
    await h.api.get(`/v1/registrations/${reg.body.id}`, ws.pmToken);
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^dealreg_verdicts_total\{outcome="approve"\} [1-9]\d*$/m);
    expect(text).toContain('# TYPE dealreg_http_request_duration_seconds histogram');
    expect(text).toMatch(/^dealreg_http_request_duration_seconds_count\{method="POST",route="\/v1\/registrations\/",status="201"\} [1-9]\d*$/m);
    // Route templates, never raw ids (which would explode label cardinality).
    expect(text).toContain('route="/v1/registrations/:id"');
    expect(text).not.toContain(reg.body.id);
  });
});
