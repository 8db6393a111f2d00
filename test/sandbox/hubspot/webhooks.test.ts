// Webhooks: every deal and company change reaches a local receiver in HubSpot's v3 payload shape,
// signed (checked with the SDK's Signature.isValid and with our own HMAC), in batches of at most 100,
// retried after failures, and — when asked — duplicated and out of order.
import { createHash, createHmac } from 'node:crypto';
import { Signature, type Client } from '@hubspot/api-client';
import { allEvents, startReceiver, startSandbox, type Harness, type Receiver } from './harness';
import type { PortalCreated } from '../../../src/sandbox/hubspot';

let h: Harness;

beforeAll(async () => {
  h = await startSandbox({ webhookDispatchIntervalMs: 20 });
});
afterAll(() => h.close());

async function portalWithReceiver(extra: Record<string, unknown> = {}, status?: Parameters<typeof startReceiver>[0]): Promise<{ portal: PortalCreated; rx: Receiver; hs: Client }> {
  const rx = await startReceiver(status);
  const portal = await h.createPortal({ webhookTargetUrl: rx.url, webhookRetry: { initialDelayMs: 20, maxDelayMs: 100 }, ...extra });
  return { portal, rx, hs: h.client(portal.accessToken) };
}

async function flush(portalId: number): Promise<void> {
  const r = await h.control<{ drained: boolean }>('POST', `/_sandbox/portals/${portalId}/webhooks/flush`, { timeoutMs: 10_000 });
  expect(r.body.drained).toBe(true);
}

describe('webhook payloads', () => {
  it('a deal created through the API arrives as deal.creation plus a propertyChange per property, marked as the integration’s', async () => {
    const { portal, rx, hs } = await portalWithReceiver();
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Hooked', amount: '42' }, associations: [] });
    await flush(portal.portalId);
    const events = allEvents(rx.received);
    const creation = events.find((e) => e.subscriptionType === 'deal.creation')!;
    expect(creation).toEqual({
      eventId: expect.any(Number),
      subscriptionId: expect.any(Number),
      portalId: portal.portalId,
      appId: portal.appId,
      occurredAt: expect.any(Number),
      subscriptionType: 'deal.creation',
      attemptNumber: 0,
      objectId: Number(deal.id),
      changeFlag: 'CREATED',
      changeSource: 'INTEGRATION',
      sourceId: String(portal.appId),
    });
    const changes = events.filter((e) => e.subscriptionType === 'deal.propertyChange');
    expect(changes).toEqual(expect.arrayContaining([
      expect.objectContaining({ objectId: Number(deal.id), propertyName: 'dealname', propertyValue: 'Hooked', changeSource: 'INTEGRATION', sourceId: String(portal.appId) }),
      expect.objectContaining({ propertyName: 'amount', propertyValue: '42' }),
    ]));
    expect(rx.received.every((r) => r.method === 'POST' && r.headers['content-type'] === 'application/json')).toBe(true);
    await rx.close();
  });

  it('an edit with X-Sandbox-Actor is a person’s edit in the UI: changeSource CRM_UI, sourceId userId:<id>', async () => {
    const { portal, rx, hs } = await portalWithReceiver();
    const company = await hs.crm.companies.basicApi.create({ properties: { name: 'UI Co' }, associations: [] });
    const rep = h.client(portal.accessToken, { headers: { 'X-Sandbox-Actor': 'user:4242' } });
    await rep.crm.companies.basicApi.update(company.id, { properties: { lifecyclestage: 'customer', country: 'FR' } });
    await flush(portal.portalId);
    const ui = allEvents(rx.received).filter((e) => e.changeSource === 'CRM_UI');
    expect(ui.map((e) => [e.subscriptionType, e.propertyName, e.propertyValue, e.sourceId]).sort()).toEqual([
      ['company.propertyChange', 'country', 'FR', 'userId:4242'],
      ['company.propertyChange', 'lifecyclestage', 'customer', 'userId:4242'],
    ]);
    await rx.close();
  });

  it('a UI edit needs no API token and does not count against the app’s rate limit', async () => {
    const { portal, rx, hs } = await portalWithReceiver({ rateLimit: { max: 2, intervalMs: 60_000 } });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Quota' }, associations: [] });
    const res = await fetch(`${h.baseUrl}/crm/v3/objects/deals/${deal.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-sandbox-actor': 'user:7', 'x-sandbox-portal-id': String(portal.portalId) },
      body: JSON.stringify({ properties: { dealstage: 'closedwon' } }),
    });
    expect(res.status).toBe(200);
    await expect(hs.crm.deals.basicApi.getById(deal.id)).resolves.toBeDefined(); // 2nd app call: still within max 2
    await rx.close();
  });

  it('deletions, association changes and merges have their own event types', async () => {
    const { portal, rx, hs } = await portalWithReceiver();
    const company = await hs.crm.companies.basicApi.create({ properties: { name: 'Assoc Co' }, associations: [] });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Assoc deal' }, associations: [] });
    await hs.crm.associations.v4.basicApi.create('deals', deal.id, 'companies', company.id, [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }]);
    await hs.crm.associations.v4.basicApi.archive('deals', deal.id, 'companies', company.id);
    const dup = await hs.crm.companies.basicApi.create({ properties: { name: 'Assoc Co dup' }, associations: [] });
    await hs.crm.companies.basicApi.merge({ primaryObjectId: company.id, objectIdToMerge: dup.id });
    await hs.crm.deals.basicApi.archive(deal.id);
    await flush(portal.portalId);
    const events = allEvents(rx.received);

    const assoc = events.filter((e) => e.subscriptionType === 'deal.associationChange');
    expect(assoc).toEqual(expect.arrayContaining([
      expect.objectContaining({ associationType: 'DEAL_TO_COMPANY', fromObjectId: Number(deal.id), toObjectId: Number(company.id), associationRemoved: false, isPrimaryAssociation: true }),
      expect.objectContaining({ associationType: 'DEAL_TO_COMPANY', associationRemoved: false, isPrimaryAssociation: false }),
      expect.objectContaining({ associationType: 'DEAL_TO_COMPANY', associationRemoved: true }),
    ]));
    expect(events.filter((e) => e.subscriptionType === 'company.associationChange').map((e) => e.associationType)).toContain('COMPANY_TO_DEAL');
    expect(events.find((e) => e.subscriptionType === 'company.merge')).toMatchObject({ primaryObjectId: Number(company.id), mergedObjectIds: [Number(dup.id)], newObjectId: Number(company.id) });
    expect(events.find((e) => e.subscriptionType === 'deal.deletion')).toMatchObject({ objectId: Number(deal.id), changeFlag: 'DELETED' });
    await rx.close();
  });
});

describe('webhook signatures', () => {
  it('every delivery verifies with the SDK’s Signature.isValid (v3 and v2) and with an independent HMAC', async () => {
    const { portal, rx, hs } = await portalWithReceiver();
    await hs.crm.companies.basicApi.create({ properties: { name: 'Signed Co', domain: 'signed.example' }, associations: [] });
    await flush(portal.portalId);
    expect(rx.received.length).toBeGreaterThan(0);
    for (const r of rx.received) {
      const timestamp = String(r.headers['x-hubspot-request-timestamp']);
      const v3 = String(r.headers['x-hubspot-signature-v3']);
      const v2 = String(r.headers['x-hubspot-signature']);
      expect(r.headers['x-hubspot-signature-version']).toBe('v2');
      expect(timestamp).toMatch(/^\d{13}$/);

      // The SDK's check (it throws on a stale timestamp, compares the exact URL it is given)
      expect(Signature.isValid({ signatureVersion: 'v3', signature: v3, clientSecret: portal.clientSecret, requestBody: r.rawBody, url: rx.url, method: 'POST', timestamp: Number(timestamp) })).toBe(true);
      expect(Signature.isValid({ signatureVersion: 'v2', signature: v2, clientSecret: portal.clientSecret, requestBody: r.rawBody, url: rx.url, method: 'POST' })).toBe(true);

      // Our own computation, from HubSpot's documented recipe
      const expectedV3 = createHmac('sha256', portal.clientSecret).update(`POST${rx.url}${r.rawBody}${timestamp}`).digest('base64');
      const expectedV2 = createHash('sha256').update(`${portal.clientSecret}POST${rx.url}${r.rawBody}`).digest('hex');
      expect(v3).toBe(expectedV3);
      expect(v2).toBe(expectedV2);

      // a tampered body or another app's secret does not verify
      expect(Signature.isValid({ signatureVersion: 'v3', signature: v3, clientSecret: portal.clientSecret, requestBody: `${r.rawBody} `, url: rx.url, method: 'POST', timestamp: Number(timestamp) })).toBe(false);
      expect(Signature.isValid({ signatureVersion: 'v3', signature: v3, clientSecret: 'other-secret', requestBody: r.rawBody, url: rx.url, method: 'POST', timestamp: Number(timestamp) })).toBe(false);
    }
    await rx.close();
  });

  it('signs the target URI with HubSpot’s percent-escapes decoded (query strings included)', async () => {
    const rx = await startReceiver(() => 204, '/hooks/hubspot?tenant=a%3Ab');
    const portal = await h.createPortal({ webhookTargetUrl: rx.url });
    await h.client(portal.accessToken).crm.deals.basicApi.create({ properties: { dealname: 'Escaped' }, associations: [] });
    await flush(portal.portalId);
    const r = rx.received[0]!;
    expect(r.url).toBe('/hooks/hubspot?tenant=a%3Ab');
    const decoded = rx.url.replace('%3A', ':');
    const expected = createHmac('sha256', portal.clientSecret).update(`POST${decoded}${r.rawBody}${String(r.headers['x-hubspot-request-timestamp'])}`).digest('base64');
    expect(r.headers['x-hubspot-signature-v3']).toBe(expected);
    await rx.close();
  });
});

describe('webhook delivery', () => {
  it('sends at most 100 events per request and every event exactly once when the target is healthy', async () => {
    const { portal, rx } = await portalWithReceiver();
    await h.control('POST', `/_sandbox/portals/${portal.portalId}/seed`, { companies: Array.from({ length: 150 }, (_, i) => ({ properties: { name: `Seeded ${i}` } })), emitWebhooks: true });
    await flush(portal.portalId);
    expect(rx.received.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...rx.received.map((r) => r.events.length))).toBeLessThanOrEqual(100);
    const creations = allEvents(rx.received).filter((e) => e.subscriptionType === 'company.creation');
    expect(new Set(creations.map((e) => e.objectId)).size).toBe(150);
    const ids = allEvents(rx.received).map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    await rx.close();
  });

  it('a seed without emitWebhooks sends nothing', async () => {
    const { portal, rx } = await portalWithReceiver();
    await h.control('POST', `/_sandbox/portals/${portal.portalId}/seed`, { companies: [{ properties: { name: 'Quiet' } }] });
    await flush(portal.portalId);
    expect(rx.received).toEqual([]);
    await rx.close();
  });

  it('retries a failing target with backoff; attemptNumber counts up and the same events arrive again', async () => {
    const { portal, rx, hs } = await portalWithReceiver({}, (n) => (n < 2 ? 500 : 200));
    await hs.crm.deals.basicApi.create({ properties: { dealname: 'Retry me' }, associations: [] });
    await flush(portal.portalId);
    expect(rx.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(rx.received.map((r) => r.events[0]!.attemptNumber)).toEqual([0, 1, 2]);
    const idsPerAttempt = rx.received.map((r) => r.events.map((e) => e.eventId));
    expect(idsPerAttempt[1]).toEqual(idsPerAttempt[0]);
    expect(idsPerAttempt[2]).toEqual(idsPerAttempt[0]);

    const log = await h.control<{ results: Array<{ attemptNumber: number; outcome: string; status: number }> }>('GET', `/_sandbox/portals/${portal.portalId}/webhook-deliveries`);
    expect(log.body.results.map((e) => [e.attemptNumber, e.outcome, e.status])).toEqual([[0, 'failed', 500], [1, 'failed', 500], [2, 'delivered', 200]]);
    await rx.close();
  });

  it('retries after connection errors too, and delivers once the target is reachable', async () => {
    const rx = await startReceiver();
    const portal = await h.createPortal({ webhookTargetUrl: 'http://127.0.0.1:1/unreachable', webhookRetry: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 10 } });
    await h.client(portal.accessToken).crm.companies.basicApi.create({ properties: { name: 'Unreachable' }, associations: [] });
    const deadline = Date.now() + 5_000;
    let failed = 0;
    while (failed < 2 && Date.now() < deadline) {
      const log = await h.control<{ results: Array<{ outcome: string; error?: string }> }>('GET', `/_sandbox/portals/${portal.portalId}/webhook-deliveries`);
      failed = log.body.results.filter((e) => e.outcome === 'failed' && e.error).length;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(failed).toBeGreaterThanOrEqual(2);
    await h.control('PATCH', `/_sandbox/portals/${portal.portalId}`, { webhookTargetUrl: rx.url });
    await rx.waitFor((r) => r.length > 0);
    expect(Number(rx.received[0]!.events[0]!.attemptNumber)).toBeGreaterThanOrEqual(2);
    await rx.close();
  });

  it('gives up after maxAttempts and says so in the delivery log', async () => {
    const { portal, rx, hs } = await portalWithReceiver({ webhookRetry: { initialDelayMs: 10, maxAttempts: 3 } }, () => 503);
    await hs.crm.deals.basicApi.create({ properties: { dealname: 'Never delivered' }, associations: [] });
    await flush(portal.portalId);
    expect(rx.received).toHaveLength(3);
    const log = await h.control<{ results: Array<{ outcome: string }> }>('GET', `/_sandbox/portals/${portal.portalId}/webhook-deliveries`);
    expect(log.body.results.map((e) => e.outcome)).toEqual(['failed', 'failed', 'gave_up']);
    const stats = await h.control<{ webhooks: { gaveUp: number } }>('GET', `/_sandbox/portals/${portal.portalId}/stats`);
    expect(stats.body.webhooks.gaveUp).toBe(1);
    await rx.close();
  });

  it('with duplicateProbability 1, every batch arrives twice with the same eventIds', async () => {
    const { portal, rx, hs } = await portalWithReceiver({ webhookChaos: { duplicateProbability: 1 } });
    await hs.crm.deals.basicApi.create({ properties: { dealname: 'Twice' }, associations: [] });
    await flush(portal.portalId);
    const ids = allEvents(rx.received).map((e) => e.eventId as number);
    const counts = new Map<number, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    await rx.close();
  });

  it('with shuffle, events arrive out of order (all of them, once each)', async () => {
    const { portal, rx } = await portalWithReceiver({ webhookChaos: { shuffle: true, seed: 7 } });
    await h.control('POST', `/_sandbox/portals/${portal.portalId}/seed`, { companies: Array.from({ length: 40 }, (_, i) => ({ properties: { name: `Shuffled ${i}` } })), emitWebhooks: true });
    await flush(portal.portalId);
    const ids = allEvents(rx.received).map((e) => e.eventId as number);
    const sorted = [...ids].sort((a, b) => a - b);
    expect(ids).not.toEqual(sorted);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(40 * 3); // creation + name + createdate changes
    await rx.close();
  });

  it('drops events while the portal has no target URL, like an app without subscriptions', async () => {
    const portal = await h.createPortal();
    await h.client(portal.accessToken).crm.deals.basicApi.create({ properties: { dealname: 'Unheard' }, associations: [] });
    const stats = await h.control<{ webhooks: { eventsEmitted: number; eventsDroppedNoTarget: number } }>('GET', `/_sandbox/portals/${portal.portalId}/stats`);
    expect(stats.body.webhooks.eventsEmitted).toBeGreaterThan(0);
    expect(stats.body.webhooks.eventsDroppedNoTarget).toBe(stats.body.webhooks.eventsEmitted);
  });
});
