// First to register wins, also under a race (issue 2, item 7): enforced by the database, not in memory.
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, putPolicy, reasonCodes } from '../helpers/api-fixtures';
import { verifyLedger } from '../../src/data/ledger';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const partnersNamed = (n: number, stem: string) => Array.from({ length: n }, (_, i) => ({ name: `${stem} ${String(i + 1).padStart(2, '0')}` }));

describe('concurrent registrations of one account', () => {
  it('when 20 partners register race-target.com at once, exactly one is protected and the 19 others are rejected as duplicates', async () => {
    const ws = await seedWorkspace(h, partnersNamed(20, 'Racer'));
    const responses = await Promise.all(ws.partners.map((p) => h.api.post('/v1/registrations', p.apiKey, dealFor('https://www.race-target.com'))));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));

    const approved = responses.filter((r) => r.body.status === 'approved');
    const rejected = responses.filter((r) => r.body.status === 'rejected');
    expect(approved).toHaveLength(1);
    expect(rejected).toHaveLength(19);
    for (const r of rejected) expect(reasonCodes(r.body)).toEqual(['DUPLICATE_REGISTRATION']);

    const winner = approved[0]!.body;
    const holds = await h.prisma.accountHold.findMany({ where: { workspaceId: ws.workspaceId } });
    expect(holds).toEqual([expect.objectContaining({ domain: 'race-target.com', registrationId: winner.id, partnerId: winner.partnerId })]);
    expect(await h.prisma.registration.count({ where: { workspaceId: ws.workspaceId } })).toBe(20);
    expect(await h.prisma.registration.count({ where: { workspaceId: ws.workspaceId, status: { in: ['approved', 'pending_review'] } } })).toBe(1);

    // The rejections cite the winner as the holder.
    const staffView = await h.api.get(`/v1/registrations/${rejected[0]!.body.id}`, ws.pmToken);
    expect(staffView.body.verdict.reasons[0].evidence.registration.id).toBe(winner.id);

    // Every registration wrote exactly one ledger event and one outbox row, and the chain is intact.
    const regIds = responses.map((r) => r.body.id as string);
    expect(await h.prisma.ledgerEvent.count({ where: { registrationId: { in: regIds } } })).toBe(20);
    expect(await h.prisma.outboxMessage.count({ where: { registrationId: { in: regIds } } })).toBe(20);
    const verify = await verifyLedger(h.prisma, { workspaceId: ws.workspaceId });
    expect(verify.problems).toEqual([]);
  });

  it('when 20 partners race while review is required, exactly one registration is pending and holds the account', async () => {
    const ws = await seedWorkspace(h, partnersNamed(20, 'Reviewed Racer'));
    await putPolicy(h, ws.revopsToken, { autoApprove: false });
    const responses = await Promise.all(ws.partners.map((p) => h.api.post('/v1/registrations', p.apiKey, dealFor('pending-race.com'))));
    const statuses = responses.map((r) => r.body.status as string);
    expect(statuses.filter((s) => s === 'pending_review')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'rejected')).toHaveLength(19);
    expect(await h.prisma.accountHold.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('when one partner sends the same request with the same Idempotency-Key 10 times at once, one registration is created and all answers name it', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Impatient Partner' }]);
    const key = ws.partners[0]!.apiKey;
    const body = dealFor('retry-storm.com', { amount: { value: 9900, currency: 'EUR' } });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => h.api.post('/v1/registrations', key, body, { 'Idempotency-Key': 'storm-0001' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(responses.every((r) => r.body.status === 'approved')).toBe(true);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);

    expect(await h.prisma.registration.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
    expect(await h.prisma.accountHold.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
    const [id] = [...ids] as [string];
    expect(await h.prisma.ledgerEvent.count({ where: { registrationId: id } })).toBe(1);
    expect(await h.prisma.outboxMessage.count({ where: { registrationId: id } })).toBe(1);
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('when one partner races itself with different Idempotency-Keys, it gets one protected registration and duplicates for the rest', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Double Clicker' }]);
    const key = ws.partners[0]!.apiKey;
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => h.api.post('/v1/registrations', key, dealFor('double-click.com'), { 'Idempotency-Key': `click-${i}` })),
    );
    expect(responses.map((r) => r.body.status).sort()).toEqual(['approved', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect(await h.prisma.accountHold.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
  });
});

describe('concurrent changes to one registration', () => {
  it('when a partner manager approves while the partner withdraws, exactly one wins and the other gets 409 INVALID_TRANSITION', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Torn Partner' }]);
    await putPolicy(h, ws.revopsToken, { autoApprove: false });
    const key = ws.partners[0]!.apiKey;
    for (let i = 0; i < 5; i++) {
      const reg = await h.api.post('/v1/registrations', key, dealFor(`torn-${i}-deal.com`));
      const id = reg.body.id as string;
      const [approve, withdraw] = await Promise.all([
        h.api.post(`/v1/registrations/${id}/approve`, ws.pmToken, {}),
        h.api.post(`/v1/registrations/${id}/withdraw`, key),
      ]);
      const statuses = [approve.status, withdraw.status].sort();
      // Either order is legal (approve then withdraw is allowed too), but never two conflicting writes.
      const row = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
      const events = await h.prisma.ledgerEvent.findMany({ where: { registrationId: id }, orderBy: { seq: 'asc' } });
      if (statuses[0] === 200 && statuses[1] === 200) {
        expect(events.map((e) => e.type)).toEqual(['registration.submitted', 'registration.approved', 'registration.withdrawn']);
        expect(row.status).toBe('withdrawn');
      } else {
        expect(statuses).toEqual([200, 409]);
        expect(events).toHaveLength(2);
        expect(row.status).toBe(approve.status === 200 ? 'approved' : 'withdrawn');
      }
      expect(row.version).toBe(events.length);
    }
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('when a partner asks for an extension twice at once, only one request is recorded and the other gets 409', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Eager Extender' }]);
    const key = ws.partners[0]!.apiKey;
    const start = h.clock.now;
    const reg = await h.api.post('/v1/registrations', key, dealFor('eager-extend.com'));
    h.clock.advanceDays(70);
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, key, {})));
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
      expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'EXTENSION_ALREADY_REQUESTED')).toBe(true);
      expect(await h.prisma.extensionRequest.count({ where: { registrationId: reg.body.id } })).toBe(1);
      expect(await h.prisma.ledgerEvent.count({ where: { registrationId: reg.body.id, type: 'registration.extension_requested' } })).toBe(1);
    } finally {
      h.clock.set(start);
    }
  });

  it('when two partner managers approve the same extension request at once, it extends once', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Double Approved' }]);
    const key = ws.partners[0]!.apiKey;
    const start = h.clock.now;
    const reg = await h.api.post('/v1/registrations', key, dealFor('double-approved.com'));
    h.clock.advanceDays(70);
    try {
      const req = await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, key, {});
      const answers = await Promise.all([ws.pmToken, ws.adminToken, ws.pmToken].map((t) => h.api.post(`/v1/registrations/${reg.body.id}/extension-requests/${req.body.id}/approve`, t, {})));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
      const row = await h.prisma.registration.findUniqueOrThrow({ where: { id: reg.body.id } });
      expect(row.extensionsUsed).toBe(1);
      expect(row.protectionEndsAt!.getTime() - row.protectionStartsAt!.getTime()).toBe(120 * 86_400_000);
      expect(await h.prisma.ledgerEvent.count({ where: { registrationId: reg.body.id, type: 'registration.extended' } })).toBe(1);
    } finally {
      h.clock.set(start);
    }
  });
});
