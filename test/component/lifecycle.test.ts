// After submission: extension requests and decisions, and the protection sweep (expiry + reminders).
import { startHarness, seedWorkspace, type Harness } from '../helpers/harness';
import { dealFor, expectError, putPolicy, rowCounts, uniqueDomain } from '../helpers/api-fixtures';
import { runProtectionSweep } from '../../src/use-cases/registration-lifecycle';
import { verifyLedger } from '../../src/data/ledger';

const T0 = '2026-06-01T12:00:00.000Z';
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.parse(T0) + days * DAY).toISOString();

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

/** A workspace with one partner holding one approved registration made at T0 (ends at T0 + 90 days). */
async function approvedRegistration(partners = [{ name: 'Clockwork Partners' }, { name: 'Second Partner' }]) {
  const ws = await seedWorkspace(h, partners);
  const partner = ws.partners[0]!;
  const reg = await h.api.post('/v1/registrations', partner.apiKey, dealFor(uniqueDomain('clock')));
  expect(reg.body).toMatchObject({ status: 'approved', protection: { startsAt: T0, endsAt: at(90) } });
  return { ws, partner, id: reg.body.id as string, domain: reg.body.company.domain as string };
}

describe('extension requests', () => {
  it('refuses a request made outside the extension window with 409 EXTENSION_NOT_ALLOWED, writing nothing', async () => {
    const { ws, partner, id } = await approvedRegistration();
    h.clock.advanceDays(59); // 31 days left; the window is the last 30
    const before = await rowCounts(h, ws.workspaceId);
    const res = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, { reason: 'procurement is slow' });
    expectError(res, 409, 'EXTENSION_NOT_ALLOWED');
    expect(res.body.error.message).toMatch(/last 30 days/);
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('records a request inside the window as pending, and a partner manager\'s approval moves the end by extensionDays', async () => {
    const { ws, partner, id } = await approvedRegistration();
    h.clock.advanceDays(61);
    const req = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, { reason: 'legal review' });
    expect(req.status).toBe(201);
    expect(req.body).toMatchObject({ registrationId: id, status: 'pending', requestedDays: 30, reason: 'legal review', decidedAt: null });
    expect(req.body.registration.protection).toMatchObject({ endsAt: at(90), extensionsUsed: 0 });

    const listed = await h.api.get(`/v1/registrations/${id}/extension-requests`, partner.apiKey);
    expect(listed.body).toEqual({ data: [expect.objectContaining({ id: req.body.id, status: 'pending' })], nextCursor: null });

    expectError(await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/approve`, ws.revopsToken, {}), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/approve`, partner.apiKey, {}), 403, 'FORBIDDEN');

    h.clock.advanceDays(1);
    const approved = await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/approve`, ws.pmToken, { note: 'ok this once' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: req.body.id, status: 'approved', decidedAt: at(62) });
    expect(approved.body.registration).toMatchObject({ status: 'approved', protection: { startsAt: T0, endsAt: at(120), extensionsUsed: 1 } });
    const row = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
    expect(row.protectionEndsAt?.toISOString()).toBe(at(120));

    const events = await h.api.get(`/v1/registrations/${id}/events`, ws.pmToken);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['registration.submitted', 'registration.extension_requested', 'registration.extended']);
    // Deciding it again is refused.
    expectError(await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/approve`, ws.pmToken, {}), 409, 'INVALID_TRANSITION');
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('refuses a second request while one is pending, and a rejected request leaves the end where it was', async () => {
    const { ws, partner, id } = await approvedRegistration();
    h.clock.advanceDays(70);
    const req = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, {});
    expect(req.status).toBe(201);
    expectError(await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, {}), 409, 'EXTENSION_ALREADY_REQUESTED');
    const rejected = await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/reject`, ws.pmToken, { note: 'no' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', registration: { protection: { endsAt: at(90), extensionsUsed: 0 } } });
  });

  it('enforces the maximum number of extensions', async () => {
    const { ws, partner, id } = await approvedRegistration();
    const extend = async () => {
      const r = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, {});
      expect(r.status).toBe(201);
      const a = await h.api.post(`/v1/registrations/${id}/extension-requests/${r.body.id}/approve`, ws.pmToken, {});
      expect(a.status).toBe(200);
      return a.body.registration.protection;
    };
    h.clock.set(at(80));
    expect(await extend()).toMatchObject({ endsAt: at(120), extensionsUsed: 1 });
    h.clock.set(at(110));
    expect(await extend()).toMatchObject({ endsAt: at(150), extensionsUsed: 2 });
    h.clock.set(at(140));
    const before = await rowCounts(h, ws.workspaceId);
    const third = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, {});
    expectError(third, 409, 'EXTENSION_NOT_ALLOWED');
    expect(third.body.error.message).toMatch(/already been extended 2 times/);
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('extends at once when the policy auto-approves extensions', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Auto Extend Partners' }]);
    await putPolicy(h, ws.revopsToken, { protection: { autoApproveExtensions: true, extensionDays: 20 } });
    const partner = ws.partners[0]!;
    const reg = await h.api.post('/v1/registrations', partner.apiKey, dealFor(uniqueDomain('auto-ext')));
    h.clock.advanceDays(75);
    const res = await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, partner.apiKey, {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'approved', requestedDays: 20 });
    expect(res.body.registration.protection).toMatchObject({ endsAt: at(110), extensionsUsed: 1 });
    const events = await h.api.get(`/v1/registrations/${reg.body.id}/events`, ws.adminToken);
    expect(events.body.data.slice(-1)[0]).toMatchObject({ type: 'registration.extended', actor: { type: 'system' }, source: 'policy' });
  });

  it('refuses extensions for a registration that is not approved, for staff tokens and for other partners', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Pending Partner' }, { name: 'Other Partner' }]);
    await putPolicy(h, ws.revopsToken, { autoApprove: false });
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('pending-ext')));
    expect(reg.body.status).toBe('pending_review');
    const before = await rowCounts(h, ws.workspaceId);
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, ws.partners[0]!.apiKey, {}), 409, 'EXTENSION_NOT_ALLOWED');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, ws.pmToken, {}), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, ws.partners[1]!.apiKey, {}), 404, 'NOT_FOUND');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/extension-requests`, ws.partners[0]!.apiKey, { days: 'ten' }), 422, 'VALIDATION_FAILED');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });
});

describe('the protection sweep', () => {
  it('sends the 14-day and 3-day reminders once each, however often it runs', async () => {
    const { ws, id } = await approvedRegistration();
    const reminders = () => h.prisma.ledgerEvent.findMany({ where: { registrationId: id, type: 'registration.reminder' }, orderBy: { seq: 'asc' } });

    h.clock.set(at(70)); // 20 days left: nothing due
    await runProtectionSweep(h.ctx);
    expect(await reminders()).toHaveLength(0);

    h.clock.set(at(76)); // 14 days left
    await runProtectionSweep(h.ctx);
    await runProtectionSweep(h.ctx);
    expect((await reminders()).map((e) => e.data)).toEqual([{ daysBefore: 14, endsAt: at(90) }]);

    h.clock.set(at(87)); // 3 days left
    await runProtectionSweep(h.ctx);
    await runProtectionSweep(h.ctx);
    expect((await reminders()).map((e) => (e.data as { daysBefore: number }).daysBefore)).toEqual([14, 3]);
    expect(await h.prisma.outboxMessage.count({ where: { registrationId: id } })).toBe(3); // submitted + 2 reminders
    const row = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
    expect({ status: row.status, remindersSent: row.remindersSent }).toEqual({ status: 'approved', remindersSent: [14, 3] });
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('expires a lapsed registration once: status expired, hold released, one ledger event and one outbox row', async () => {
    const { ws, id, domain } = await approvedRegistration();
    h.clock.set(at(89.5));
    await runProtectionSweep(h.ctx);
    expect((await h.prisma.registration.findUniqueOrThrow({ where: { id } })).status).toBe('approved');

    h.clock.set(at(90.01));
    await runProtectionSweep(h.ctx);
    await runProtectionSweep(h.ctx);
    const row = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'expired', endedAt: new Date(at(90.01)) });
    expect(await h.prisma.accountHold.count({ where: { registrationId: id } })).toBe(0);
    const expired = await h.prisma.ledgerEvent.findMany({ where: { registrationId: id, type: 'registration.expired' } });
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ actorType: 'system', source: 'job', data: { from: 'approved', endsAt: at(90) } });
    const outbox = await h.prisma.outboxMessage.findMany({ where: { registrationId: id }, orderBy: { id: 'asc' } });
    // The sweep at day 89.5 found both reminders due at once and sent one, naming the nearest threshold.
    expect(outbox.map((m) => m.payload)).toEqual([{ event: 'registration.submitted' }, { event: 'registration.reminder' }, { event: 'registration.expired' }]);
    const reminders = await h.prisma.ledgerEvent.findMany({ where: { registrationId: id, type: 'registration.reminder' } });
    expect(reminders.map((e) => e.data)).toEqual([{ daysBefore: 3, endsAt: at(90) }]);

    const view = await h.api.get(`/v1/registrations/${id}`, ws.pmToken);
    expect(view.body).toMatchObject({ status: 'expired', protection: { endsAt: at(90), daysLeft: 0 } });
    // The account is free again.
    const next = await h.api.post('/v1/registrations', ws.partners[1]!.apiKey, dealFor(domain));
    expect(next.body.status).toBe('approved');
    expect((await verifyLedger(h.prisma, { workspaceId: ws.workspaceId })).problems).toEqual([]);
  });

  it('sends the reminders afresh after an extension moves the end', async () => {
    const { ws, partner, id } = await approvedRegistration();
    h.clock.set(at(80));
    await runProtectionSweep(h.ctx);
    const req = await h.api.post(`/v1/registrations/${id}/extension-requests`, partner.apiKey, {});
    await h.api.post(`/v1/registrations/${id}/extension-requests/${req.body.id}/approve`, ws.pmToken, {});
    h.clock.set(at(106)); // 14 days before the new end (day 120)
    await runProtectionSweep(h.ctx);
    await runProtectionSweep(h.ctx);
    const reminders = await h.prisma.ledgerEvent.findMany({ where: { registrationId: id, type: 'registration.reminder' }, orderBy: { seq: 'asc' } });
    expect(reminders.map((e) => e.data)).toEqual([
      { daysBefore: 14, endsAt: at(90) },
      { daysBefore: 14, endsAt: at(120) },
    ]);
  });

  it('neither reminds nor expires a registration that was withdrawn', async () => {
    const { partner, id } = await approvedRegistration();
    await h.api.post(`/v1/registrations/${id}/withdraw`, partner.apiKey);
    h.clock.set(at(95));
    await runProtectionSweep(h.ctx);
    expect((await h.prisma.registration.findUniqueOrThrow({ where: { id } })).status).toBe('withdrawn');
    expect(await h.prisma.ledgerEvent.count({ where: { registrationId: id, type: { in: ['registration.reminder', 'registration.expired'] } } })).toBe(0);
  });
});
