// Attribution through the API: the default model, staff edits (validation, roles, the ledger), what a
// partner may see, the CRM-record lookup, and the freeze when a registration is won.
import { randomUUID } from 'node:crypto';
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, putPolicy, rawRequest, rowCounts, uniqueDomain } from '../helpers/api-fixtures';
import { closeRegistration, runProtectionSweep } from '../../src/use-cases/registration-lifecycle';
import { attributionFor } from '../../src/use-cases/attribution';
import type { SystemPrincipal } from '../../src/use-cases/context';
import { verifyLedger } from '../../src/data/ledger';

const T0 = '2026-06-01T12:00:00.000Z';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ start: T0 });
});
beforeEach(() => {
  h.clock.set(T0);
});
afterAll(async () => {
  await h?.close();
});

const PARTNERS = [{ name: 'Northwind Resellers' }, { name: 'Contoso Referrals', type: 'referral' }, { name: 'Fabrikam Alliances' }];

async function registered(amount: { value: number; currency: string } | null = { value: 12_000, currency: 'EUR' }) {
  const ws = await seedWorkspace(h, PARTNERS);
  const [sourcing, second, third] = ws.partners as [(typeof ws.partners)[0], (typeof ws.partners)[0], (typeof ws.partners)[0]];
  const reg = await h.api.post('/v1/registrations', sourcing.apiKey, dealFor(uniqueDomain('attr'), amount ? { amount } : {}));
  expect(reg.status).toBe(201);
  return { ws, sourcing, second, third, id: reg.body.id as string };
}

const split = (sourcingId: string, otherId: string, reason = 'Contoso ran the technical evaluation') => ({
  partners: [
    { partnerId: sourcingId, role: 'sourcing', percent: 70 },
    { partnerId: otherId, role: 'influencing', percent: 30, evidence: { touchedAt: '2026-05-20', note: 'ran the POC' } },
  ],
  reason,
});

const attributionRows = (workspaceId: string) => h.prisma.registrationAttribution.count({ where: { workspaceId } });
const system = (workspaceId: string): SystemPrincipal => ({ kind: 'system', workspaceId, source: 'crm:hubspot' });

describe('reading attribution', () => {
  it('gives the sourcing partner 100% of the registration\'s amount by default, with nothing stored', async () => {
    const { ws, sourcing, id } = await registered();
    const res = await h.api.get(`/v1/registrations/${id}/attribution`, ws.revopsToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      registrationId: id,
      frozen: false,
      frozenAt: null,
      amount: { value: 12_000, currency: 'EUR' },
      source: 'default',
      partners: [{ partnerId: sourcing.id, partnerName: 'Northwind Resellers', role: 'sourcing', percent: 100, amount: 12_000, evidence: null }],
      updatedAt: null,
    });
    expect(await attributionRows(ws.workspaceId)).toBe(0);
  });

  it('reads a batch in one call, leaving out ids of other workspaces and unknown ids', async () => {
    const a = await registered();
    const b = await registered(null);
    const views = await attributionFor(h.ctx, a.ws.workspaceId, [a.id, b.id, randomUUID(), 'not-a-uuid', a.id]);
    expect([...views.keys()]).toEqual([a.id]);
    const other = await attributionFor(h.ctx, b.ws.workspaceId, [b.id]);
    expect(other.get(b.id)).toMatchObject({ amount: null, partners: [{ partnerId: b.sourcing.id, percent: 100, amount: null }] });
  });

  it('answers 404 for an unknown registration, and for another workspace\'s', async () => {
    const { ws } = await registered();
    const other = await registered();
    expectError(await h.api.get(`/v1/registrations/${randomUUID()}/attribution`, ws.pmToken), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/registrations/${other.id}/attribution`, ws.pmToken), 404, 'NOT_FOUND');
    expectError(await h.api.get('/v1/registrations/nope/attribution', ws.pmToken), 404, 'NOT_FOUND');
  });

  it('with influencers in the policy, another partner that registered the company in the window shares the rest, with its registration as evidence', async () => {
    const ws = await seedWorkspace(h, PARTNERS);
    await putPolicy(h, ws.revopsToken, { protection: { defaultDays: 10 }, attribution: { sourcingPercent: 80, influencers: 'other_registrations', influenceWindowDays: 30 } });
    const domain = uniqueDomain('influenced');
    const first = await h.api.post('/v1/registrations', ws.partners[1]!.apiKey, dealFor(domain));
    expect(first.body.status).toBe('approved');
    h.clock.advanceDays(11);
    await runProtectionSweep(h.ctx); // Contoso's protection lapses: Northwind may register the company
    h.clock.advanceDays(1);
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(domain, { amount: { value: 1000, currency: 'USD' } }));
    expect(reg.body.status).toBe('approved');
    const res = await h.api.get(`/v1/registrations/${reg.body.id}/attribution`, ws.pmToken);
    expect(res.body).toMatchObject({
      source: 'default',
      partners: [
        { partnerId: ws.partners[0]!.id, partnerName: 'Northwind Resellers', role: 'sourcing', percent: 80, amount: 800, evidence: null },
        { partnerId: ws.partners[1]!.id, partnerName: 'Contoso Referrals', role: 'influencing', percent: 20, amount: 200, evidence: { registrationId: first.body.id, touchedAt: T0.slice(0, 10) } },
      ],
    });
    // Contoso's registration came first: nobody influenced it.
    const earlier = await h.api.get(`/v1/registrations/${first.body.id}/attribution`, ws.pmToken);
    expect(earlier.body.partners).toEqual([expect.objectContaining({ partnerId: ws.partners[1]!.id, percent: 100 })]);
    // Outside the window, the sourcing partner takes everything.
    await putPolicy(h, ws.revopsToken, { protection: { defaultDays: 10 }, attribution: { sourcingPercent: 80, influencers: 'other_registrations', influenceWindowDays: 5 } });
    const narrow = await h.api.get(`/v1/registrations/${reg.body.id}/attribution`, ws.pmToken);
    expect(narrow.body.partners).toEqual([expect.objectContaining({ partnerId: ws.partners[0]!.id, percent: 100 })]);
  });
});

describe('staff editing the split', () => {
  it('a partner manager replaces the split: the row and a registration.attribution_changed event, and the ledger still verifies', async () => {
    const { ws, sourcing, second, id } = await registered();
    h.clock.advanceDays(2);
    const res = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, second.id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      registrationId: id,
      frozen: false,
      frozenAt: null,
      amount: { value: 12_000, currency: 'EUR' },
      source: 'staff',
      partners: [
        { partnerId: sourcing.id, partnerName: 'Northwind Resellers', role: 'sourcing', percent: 70, amount: 8400, evidence: null },
        { partnerId: second.id, partnerName: 'Contoso Referrals', role: 'influencing', percent: 30, amount: 3600, evidence: { touchedAt: '2026-05-20', note: 'ran the POC' } },
      ],
      updatedAt: '2026-06-03T12:00:00.000Z',
    });
    expect((await h.api.get(`/v1/registrations/${id}/attribution`, ws.revopsToken)).body).toEqual(res.body);

    const events = await h.prisma.ledgerEvent.findMany({ where: { registrationId: id, type: 'registration.attribution_changed' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: 'staff', source: 'api' });
    expect(events[0]!.data).toEqual({
      from: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100, evidence: null }],
      to: [
        { partnerId: sourcing.id, role: 'sourcing', percent: 70, evidence: null },
        { partnerId: second.id, role: 'influencing', percent: 30, evidence: { touchedAt: '2026-05-20', note: 'ran the POC' } },
      ],
      reason: 'Contoso ran the technical evaluation',
    });
    // The same split again writes nothing; an admin may edit too, and `from` is then the staff split.
    const before = await rowCounts(h, ws.workspaceId);
    expect((await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, second.id, 'again'))).status).toBe(200);
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    const back = await h.api.put(`/v1/registrations/${id}/attribution`, ws.adminToken, { partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100 }], reason: 'POC was not theirs' });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ source: 'staff', partners: [{ partnerId: sourcing.id, percent: 100, amount: 12_000 }] });
    const last = await h.prisma.ledgerEvent.findFirstOrThrow({ where: { registrationId: id, type: 'registration.attribution_changed' }, orderBy: { seq: 'desc' } });
    expect((last.data as { from: unknown[] }).from).toHaveLength(2);
    // No CRM field depends on attribution: no outbox row.
    expect(await h.prisma.outboxMessage.count({ where: { registrationId: id } })).toBe(1);
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('refuses a split that does not add up to 100 (422 INVALID_ATTRIBUTION with paths), writing nothing', async () => {
    const { ws, sourcing, second, third, id } = await registered();
    const before = { ...(await rowCounts(h, ws.workspaceId)), attributions: await attributionRows(ws.workspaceId) };
    const res = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, {
      partners: [
        { partnerId: sourcing.id, role: 'sourcing', percent: 60 },
        { partnerId: second.id, role: 'influencing', percent: 30 },
        { partnerId: third.id, role: 'influencing', percent: 0.001 },
      ],
      reason: 'three-way',
    });
    expectError(res, 422, 'INVALID_ATTRIBUTION');
    expect(res.body.error.details.issues).toEqual([{ path: 'partners.2.percent', code: 'PERCENT_TOO_PRECISE', message: expect.stringMatching(/more than 2 decimals/) }]);
    const sum = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, {
      partners: [
        { partnerId: sourcing.id, role: 'sourcing', percent: 60 },
        { partnerId: second.id, role: 'influencing', percent: 30 },
      ],
      reason: 'does not add up',
    });
    expectError(sum, 422, 'INVALID_ATTRIBUTION');
    expect(sum.body.error.details.issues).toEqual([{ path: 'partners', code: 'SUM_NOT_100', message: 'the percents add up to 90, they must add up to exactly 100' }]);
    const wrongSourcing = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, { partners: [{ partnerId: second.id, role: 'sourcing', percent: 100 }], reason: 'x' });
    expectError(wrongSourcing, 422, 'INVALID_ATTRIBUTION');
    expect(wrongSourcing.body.error.details.issues).toEqual([expect.objectContaining({ path: 'partners.0.partnerId', code: 'SOURCING_NOT_REGISTRANT' })]);
    expect({ ...(await rowCounts(h, ws.workspaceId)), attributions: await attributionRows(ws.workspaceId) }).toEqual(before);
  });

  it('refuses partners that are not in the workspace (422, at their path), including another workspace\'s partner', async () => {
    const { ws, sourcing, id } = await registered();
    const other = await registered();
    for (const stranger of [randomUUID(), other.second.id]) {
      const res = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, stranger));
      expectError(res, 422, 'INVALID_ATTRIBUTION');
      expect(res.body.error.details.issues).toEqual([{ path: 'partners.1.partnerId', code: 'UNKNOWN_PARTNER', message: 'no partner with this id in this workspace' }]);
    }
    const evidence = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, {
      partners: [
        { partnerId: sourcing.id, role: 'sourcing', percent: 90 },
        { partnerId: ws.partners[1]!.id, role: 'influencing', percent: 10, evidence: { registrationId: other.id } },
      ],
      reason: 'evidence from elsewhere',
    });
    expectError(evidence, 422, 'INVALID_ATTRIBUTION');
    expect(evidence.body.error.details.issues).toEqual([expect.objectContaining({ path: 'partners.1.evidence.registrationId', code: 'UNKNOWN_REGISTRATION' })]);
    expect(await attributionRows(ws.workspaceId)).toBe(0);
  });

  it('refuses bodies of the wrong shape with 422 VALIDATION_FAILED', async () => {
    const { ws, sourcing, second, id } = await registered();
    const bodies = [
      { partners: split(sourcing.id, second.id).partners }, // no reason
      { ...split(sourcing.id, second.id), extra: true },
      { partners: [{ partnerId: sourcing.id, role: 'owner', percent: 100 }], reason: 'x' },
      { partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: '100' }], reason: 'x' },
      { partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100, evidence: { touchedAt: 'yesterday' } }], reason: 'x' },
      { partners: [], reason: 'x' },
    ];
    for (const b of bodies) {
      const res = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, b);
      expectError(res, 422, 'VALIDATION_FAILED');
      expect(res.body.error.details.issues.length).toBeGreaterThan(0);
    }
    expect(await attributionRows(ws.workspaceId)).toBe(0);
  });

  it('only partner managers and admins may edit: revops and partners get 403; an unknown registration is 404', async () => {
    const { ws, sourcing, second, id } = await registered();
    const revops = await h.api.put(`/v1/registrations/${id}/attribution`, ws.revopsToken, split(sourcing.id, second.id));
    expectError(revops, 403, 'FORBIDDEN');
    expect(revops.body.error.details).toMatchObject({ role: 'revops' });
    expectError(await h.api.put(`/v1/registrations/${id}/attribution`, sourcing.apiKey, split(sourcing.id, second.id)), 403, 'FORBIDDEN');
    expectError(await h.api.put(`/v1/registrations/${randomUUID()}/attribution`, ws.pmToken, split(sourcing.id, second.id)), 404, 'NOT_FOUND');
    expect(await attributionRows(ws.workspaceId)).toBe(0);
  });
});

describe('what a partner sees', () => {
  it('the registering partner sees its own share, the others only as "another partner"; other partners get 404', async () => {
    const { ws, sourcing, second, third, id } = await registered();
    expect((await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, second.id))).status).toBe(200);
    const res = await rawRequest(h, 'GET', `/v1/registrations/${id}/attribution`, { token: sourcing.apiKey });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body.partners).toEqual([
      { partnerId: sourcing.id, partnerName: 'Northwind Resellers', role: 'sourcing', percent: 70, amount: 8400, evidence: null, you: true },
      { partnerId: null, partnerName: 'Another partner', role: 'influencing', percent: 30, amount: 3600, evidence: null, you: false },
    ]);
    expect(res.text).not.toContain('Contoso');
    expect(res.text).not.toContain(second.id);
    expect(res.text).not.toContain('ran the POC');
    // The influencing partner is not the registration's partner: as for the registration itself, 404.
    expectError(await h.api.get(`/v1/registrations/${id}/attribution`, second.apiKey), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/registrations/${id}/attribution`, third.apiKey), 404, 'NOT_FOUND');
  });
});

describe('looking attribution up by CRM record', () => {
  async function linked() {
    const r = await registered();
    const connection = await h.prisma.crmConnection.create({
      data: { workspaceId: r.ws.workspaceId, crm: 'hubspot', externalAccountId: String(Math.floor(Math.random() * 1e9)), authType: 'private_app', createdBy: 'test' },
    });
    const dealId = String(Math.floor(Math.random() * 1e12));
    await h.prisma.crmLink.create({ data: { connectionId: connection.id, registrationId: r.id, workspaceId: r.ws.workspaceId, crm: 'hubspot', externalId: dealId, state: 'synced', wantedVersion: 1, pushedVersion: 1 } });
    return { ...r, connection, dealId };
  }

  it('finds the registration behind a HubSpot deal id and answers the same document', async () => {
    const { ws, sourcing, id, dealId } = await linked();
    const res = await h.api.get(`/v1/attribution?crm=hubspot&recordId=${dealId}`, ws.revopsToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual((await h.api.get(`/v1/registrations/${id}/attribution`, ws.revopsToken)).body);
    expect(res.body).toMatchObject({ registrationId: id, partners: [{ partnerId: sourcing.id, partnerName: 'Northwind Resellers', percent: 100 }] });
  });

  it('answers 404 NOT_FOUND for an unknown record, another CRM, a deleted link or another workspace; staff only; a bad query is 422', async () => {
    const { ws, sourcing, id, dealId, connection } = await linked();
    const other = await registered();
    expectError(await h.api.get(`/v1/attribution?crm=hubspot&recordId=999${dealId}`, ws.pmToken), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/attribution?crm=salesforce&recordId=${dealId}`, ws.pmToken), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/attribution?crm=hubspot&recordId=${dealId}`, other.ws.pmToken), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/attribution?crm=hubspot&recordId=${dealId}`, sourcing.apiKey), 403, 'FORBIDDEN');
    expectError(await h.api.get('/v1/attribution?crm=pipedrive&recordId=1', ws.pmToken), 422, 'VALIDATION_FAILED');
    expectError(await h.api.get('/v1/attribution?crm=hubspot', ws.pmToken), 422, 'VALIDATION_FAILED');
    await h.prisma.crmLink.update({ where: { connectionId_registrationId: { connectionId: connection.id, registrationId: id } }, data: { state: 'deleted' } });
    expectError(await h.api.get(`/v1/attribution?crm=hubspot&recordId=${dealId}`, ws.pmToken), 404, 'NOT_FOUND');
  });
});

describe('won freezes the attribution', () => {
  it('freezes the staff split with the won amount, records it in the won event, and refuses later edits with 409 ATTRIBUTION_FROZEN', async () => {
    const { ws, sourcing, second, id } = await registered();
    expect((await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, second.id))).status).toBe(200);
    h.clock.advanceDays(30);
    await closeRegistration(h.ctx, system(ws.workspaceId), id, 'won', { crm: 'hubspot', externalId: 'd-1' }, 'crm:hubspot', { value: 10_000.01, currency: 'USD' });

    const row = await h.prisma.registrationAttribution.findUniqueOrThrow({ where: { registrationId: id } });
    expect(row.frozenAt?.toISOString()).toBe('2026-07-01T12:00:00.000Z');
    expect(Number(row.frozenAmount)).toBe(10_000.01);
    expect(row.frozenCurrency).toBe('USD');
    const won = await h.prisma.ledgerEvent.findFirstOrThrow({ where: { registrationId: id, type: 'registration.won' } });
    expect(won.data).toMatchObject({
      from: 'approved',
      crm: 'hubspot',
      attribution: {
        partners: [
          { partnerId: sourcing.id, role: 'sourcing', percent: 70, amount: 7000.01 },
          { partnerId: second.id, role: 'influencing', percent: 30, amount: 3000 },
        ],
      },
    });

    // The registration's amount may still change (e.g. in the CRM): the frozen split keeps the won amount.
    await h.prisma.registration.update({ where: { id }, data: { amountValue: 1 } });
    const view = await h.api.get(`/v1/registrations/${id}/attribution`, ws.pmToken);
    expect(view.body).toMatchObject({ frozen: true, frozenAt: '2026-07-01T12:00:00.000Z', amount: { value: 10_000.01, currency: 'USD' }, source: 'staff' });
    expect(view.body.partners.map((p: { amount: number }) => p.amount)).toEqual([7000.01, 3000]);

    const before = await rowCounts(h, ws.workspaceId);
    const late = await h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, { partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100 }], reason: 'too late' });
    expectError(late, 409, 'ATTRIBUTION_FROZEN');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('with nothing stored, freezes the default model (created from the policy) with the registration\'s amount', async () => {
    const { ws, sourcing, id } = await registered({ value: 4321.5, currency: 'EUR' });
    await closeRegistration(h.ctx, system(ws.workspaceId), id, 'won');
    const row = await h.prisma.registrationAttribution.findUniqueOrThrow({ where: { registrationId: id } });
    expect(row).toMatchObject({ source: 'default', frozenCurrency: 'EUR', partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100, evidence: null }] });
    expect(Number(row.frozenAmount)).toBe(4321.5);
    const won = await h.prisma.ledgerEvent.findFirstOrThrow({ where: { registrationId: id, type: 'registration.won' } });
    expect((won.data as { attribution: unknown }).attribution).toEqual({ partners: [{ partnerId: sourcing.id, role: 'sourcing', percent: 100, amount: 4321.5 }] });
    // Closing again is a no-op; lost never freezes.
    await closeRegistration(h.ctx, system(ws.workspaceId), id, 'won');
    expect(await h.prisma.ledgerEvent.count({ where: { registrationId: id, type: 'registration.won' } })).toBe(1);
    const lost = await registered();
    await closeRegistration(h.ctx, system(lost.ws.workspaceId), lost.id, 'lost');
    expect(await attributionRows(lost.ws.workspaceId)).toBe(0);
    const lostEvent = await h.prisma.ledgerEvent.findFirstOrThrow({ where: { registrationId: lost.id, type: 'registration.lost' } });
    expect(lostEvent.data).not.toHaveProperty('attribution');
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('when an edit and the win race, the won event and the frozen row always hold the same split', async () => {
    for (let i = 0; i < 6; i++) {
      const { ws, sourcing, second, id } = await registered();
      const [put] = await Promise.all([
        h.api.put(`/v1/registrations/${id}/attribution`, ws.pmToken, split(sourcing.id, second.id)),
        closeRegistration(h.ctx, system(ws.workspaceId), id, 'won', {}, 'crm:hubspot', { value: 100, currency: 'EUR' }),
      ]);
      expect([200, 409]).toContain(put.status);
      const row = await h.prisma.registrationAttribution.findUniqueOrThrow({ where: { registrationId: id } });
      const won = await h.prisma.ledgerEvent.findFirstOrThrow({ where: { registrationId: id, type: 'registration.won' } });
      const frozen = (row.partners as { partnerId: string; percent: number }[]).map((p) => [p.partnerId, p.percent]);
      const announced = (won.data as { attribution: { partners: { partnerId: string; percent: number }[] } }).attribution.partners.map((p) => [p.partnerId, p.percent]);
      expect(announced).toEqual(frozen);
      expect(row.frozenAt).not.toBeNull();
      // An edit that succeeded came before the win, so the win froze it.
      if (put.status === 200) expect(frozen).toEqual([[sourcing.id, 70], [second.id, 30]]);
      else expect(put.body.error.code).toBe('ATTRIBUTION_FROZEN');
      expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
    }
  });
});
