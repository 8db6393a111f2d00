import { startHarness, seedWorkspace, registrationBody, type ApiResponse, type Harness } from '../helpers/harness';
import { dealFor, expectError, mirrorAccount, putPolicy, rawRequest, reasonCodes, rowCounts, uniqueDomain } from '../helpers/api-fixtures';
import { verifyLedger } from '../../src/data/ledger';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
beforeEach(() => {
  h.clock.set('2026-06-01T12:00:00.000Z');
});
afterAll(async () => {
  await h?.close();
});

/** A workspace whose clean registrations wait for a partner manager (policy autoApprove: false). */
async function reviewWorkspace(partners = [{ name: 'Reviewed Resellers' }]) {
  const ws = await seedWorkspace(h, partners);
  await putPolicy(h, ws.revopsToken, { autoApprove: false });
  return ws;
}

describe('registering a deal', () => {
  it('approves a clean registration, protects it for the default 90 days and records it in the ledger', async () => {
    const ws = await seedWorkspace(h);
    const partner = ws.partners[0]!;
    const res = await h.api.post('/v1/registrations', partner.apiKey, registrationBody('https://www.EU.Acme.co.uk/x', 'Acme Ltd', { amount: { value: 50000, currency: 'eur' }, expectedCloseDate: '2026-09-30' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      partnerId: partner.id,
      status: 'approved',
      company: { name: 'Acme Ltd', domain: 'acme.co.uk' },
      amount: { value: 50000, currency: 'EUR' },
      expectedCloseDate: '2026-09-30',
      verdict: { outcome: 'approve', reasons: [], policyVersion: 1 },
      protection: { startsAt: '2026-06-01T12:00:00.000Z', endsAt: '2026-08-30T12:00:00.000Z', daysLeft: 90 },
    });
    const events = await h.api.get(`/v1/registrations/${res.body.id}/events`, partner.apiKey);
    expect(events.status).toBe(200);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['registration.submitted']);
    const outbox = await h.prisma.outboxMessage.count({ where: { registrationId: res.body.id } });
    expect(outbox).toBe(1);
    const verify = await verifyLedger(h.prisma, { workspaceId: ws.workspaceId });
    expect(verify.problems).toEqual([]);
  });

  it('answers 201 with the registration in the DESIGN.md shape, optional fields null when not sent', async () => {
    const ws = await seedWorkspace(h);
    const res = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('shape-check.io', { notes: 'met at the fair' }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      partnerId: ws.partners[0]!.id,
      status: 'approved',
      source: 'api',
      company: { name: 'Shape-check Holdings', domain: 'shape-check.io' },
      contact: { name: 'Jane Buyer', email: 'jane.buyer@buyer-mail.net' },
      amount: null,
      expectedCloseDate: null,
      notes: 'met at the fair',
      verdict: { outcome: 'approve', reasons: [], policyVersion: 1 },
      protection: { startsAt: '2026-06-01T12:00:00.000Z', endsAt: '2026-08-30T12:00:00.000Z', daysLeft: 90, extensionsUsed: 0 },
      crm: {},
      createdAt: '2026-06-01T12:00:00.000Z',
      updatedAt: expect.any(String),
    });
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('Idempotency-Key', () => {
  it('replays the same registration for the same key and body, with Idempotent-Replayed: true, writing one row, one event and one outbox row', async () => {
    const ws = await seedWorkspace(h);
    const key = ws.partners[0]!.apiKey;
    const body = dealFor(uniqueDomain('idem'), { amount: { value: 1200, currency: 'usd' } });
    const first = await h.api.post('/v1/registrations', key, body, { 'Idempotency-Key': 'order-7781' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await rowCounts(h, ws.workspaceId);

    const second = await h.api.post('/v1/registrations', key, body, { 'Idempotency-Key': 'order-7781' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.status).toBe('approved');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    expect(await h.prisma.registration.count({ where: { workspaceId: ws.workspaceId } })).toBe(1);
    expect(await h.prisma.ledgerEvent.count({ where: { registrationId: first.body.id } })).toBe(1);
    expect(await h.prisma.outboxMessage.count({ where: { registrationId: first.body.id } })).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED when the same key comes with a different body, writing nothing', async () => {
    const ws = await seedWorkspace(h);
    const key = ws.partners[0]!.apiKey;
    const first = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('reuse')), { 'Idempotency-Key': 'k-1' });
    expect(first.status).toBe(201);
    const before = await rowCounts(h, ws.workspaceId);
    const res = await h.api.post('/v1/registrations', key, dealFor(uniqueDomain('other')), { 'Idempotency-Key': 'k-1' });
    expectError(res, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('refuses an Idempotency-Key with control characters or over 255 characters with 400 INVALID_IDEMPOTENCY_KEY', async () => {
    const ws = await seedWorkspace(h);
    const key = ws.partners[0]!.apiKey;
    const before = await rowCounts(h, ws.workspaceId);
    expectError(await h.api.post('/v1/registrations', key, dealFor(uniqueDomain()), { 'Idempotency-Key': 'x'.repeat(256) }), 400, 'INVALID_IDEMPOTENCY_KEY');
    expectError(await h.api.post('/v1/registrations', key, dealFor(uniqueDomain()), { 'Idempotency-Key': 'has space' }), 400, 'INVALID_IDEMPOTENCY_KEY');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });
});

describe('the availability pre-check', () => {
  it('answers only { availability }: available, needs_review or blocked, without writing anything', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Holder Partner' }, { name: 'Asker Partner' }]);
    const [holder, asker] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    await h.api.post('/v1/registrations', holder.apiKey, dealFor('held-account.com'));
    await mirrorAccount(h, ws.workspaceId, { domain: 'working-opp.com', name: 'Working Opp', ownerName: 'Sam Seller', ownerRole: 'partner', openOpportunity: { name: 'Q3 expansion', ownerName: 'Sam Seller' } });
    const before = await rowCounts(h, ws.workspaceId);

    const check = (domain: string) => h.api.post('/v1/registrations/check', asker.apiKey, { company: { name: 'Whoever', domain } });
    expect((await check('fresh-account.com')).body).toEqual({ availability: 'available' });
    expect((await check('working-opp.com')).body).toEqual({ availability: 'needs_review' });
    expect((await check('www.held-account.com')).body).toEqual({ availability: 'blocked' });
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
  });

  it('never reveals who owns the account or which partner holds it (raw response text)', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Secretive Holder GmbH' }, { name: 'Nosy Asker' }]);
    const [holder, asker] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const held = await h.api.post('/v1/registrations', holder.apiKey, dealFor('contested-co.com'));
    const acct = await mirrorAccount(h, ws.workspaceId, { domain: 'direct-co.com', name: 'Direct Co', ownerName: 'Olivia Owner', ownerRole: 'direct', openOpportunity: { name: 'Olivia big deal', ownerName: 'Olivia Owner' } });

    for (const domain of ['contested-co.com', 'direct-co.com']) {
      const res = await rawRequest(h, 'POST', '/v1/registrations/check', { token: asker.apiKey, body: { company: { name: 'Anything', domain } } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"availability":"blocked"}');
      for (const secret of ['Secretive', holder.id, held.body.id as string, 'Olivia', acct.externalId, acct.opportunityExternalId!]) {
        expect(res.text).not.toContain(secret);
      }
    }
  });

  it('is for partners only: a staff token gets 403', async () => {
    const ws = await seedWorkspace(h);
    expectError(await h.api.post('/v1/registrations/check', ws.pmToken, { company: { name: 'X', domain: 'x-corp.com' } }), 403, 'FORBIDDEN');
  });
});

describe('reading registrations', () => {
  it('shows a partner its own registration and answers 404 for another partner\'s', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Owner Partner' }, { name: 'Stranger Partner' }]);
    const [owner, stranger] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const created = await h.api.post('/v1/registrations', owner.apiKey, dealFor(uniqueDomain('own')));
    const mine = await h.api.get(`/v1/registrations/${created.body.id}`, owner.apiKey);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(created.body);
    expectError(await h.api.get(`/v1/registrations/${created.body.id}`, stranger.apiKey), 404, 'NOT_FOUND');
    expectError(await h.api.get(`/v1/registrations/${created.body.id}/events`, stranger.apiKey), 404, 'NOT_FOUND');
  });

  it('shows staff the evidence behind each reason and hides it from partners', async () => {
    const ws = await seedWorkspace(h, [{ name: 'First Come Partners' }, { name: 'Second Come Partners' }]);
    const [first, second] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const won = await h.api.post('/v1/registrations', first.apiKey, dealFor('evidence-co.com'));
    const lost = await h.api.post('/v1/registrations', second.apiKey, dealFor('evidence-co.com'));
    expect(lost.body.status).toBe('rejected');

    const staff = await h.api.get(`/v1/registrations/${lost.body.id}`, ws.pmToken);
    expect(staff.status).toBe(200);
    expect(staff.body.verdict.reasons).toEqual([
      expect.objectContaining({
        code: 'DUPLICATE_REGISTRATION',
        evidence: expect.objectContaining({ registration: expect.objectContaining({ id: won.body.id, partnerId: first.id, partnerName: 'First Come Partners' }) }),
      }),
    ]);
    expect(staff.body.partner).toMatchObject({ id: second.id, name: 'Second Come Partners' });

    const partnerView = await rawRequest(h, 'GET', `/v1/registrations/${lost.body.id}`, { token: second.apiKey });
    expect(partnerView.status).toBe(200);
    const parsed = JSON.parse(partnerView.text);
    expect(parsed.verdict.reasons).toEqual([{ code: 'DUPLICATE_REGISTRATION', message: expect.any(String) }]);
    for (const secret of ['"evidence"', 'First Come', first.id, won.body.id as string]) expect(partnerView.text).not.toContain(secret);
    // The create answer (also a partner view) does not leak either.
    for (const secret of ['"evidence"', 'First Come', first.id, won.body.id as string]) expect(JSON.stringify(lost.body)).not.toContain(secret);
  });

  it('lists registrations filtered by a comma list of statuses, paging by cursor with no duplicates and no gaps', async () => {
    const ws = await reviewWorkspace([{ name: 'Lister A' }, { name: 'Lister B' }]);
    const [a, b] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const ids: Record<string, string[]> = { pending_review: [], approved: [], rejected: [], withdrawn: [] };
    for (let i = 0; i < 9; i++) {
      const r = await h.api.post('/v1/registrations', i % 3 === 2 ? b.apiKey : a.apiKey, dealFor(`list-${i}-acct.com`));
      expect(r.body.status).toBe('pending_review');
      ids.pending_review!.push(r.body.id);
    }
    // Move some along: 3 approved, 2 rejected, 1 withdrawn.
    for (const id of ids.pending_review!.splice(0, 3)) {
      expect((await h.api.post(`/v1/registrations/${id}/approve`, ws.pmToken, {})).status).toBe(200);
      ids.approved!.push(id);
    }
    for (const id of ids.pending_review!.splice(0, 2)) {
      expect((await h.api.post(`/v1/registrations/${id}/reject`, ws.pmToken, { reason: 'not a fit' })).status).toBe(200);
      ids.rejected!.push(id);
    }
    const wid = ids.pending_review![0]!;
    const owner = (await h.prisma.registration.findUniqueOrThrow({ where: { id: wid } })).partnerId === a.id ? a : b;
    expect((await h.api.post(`/v1/registrations/${wid}/withdraw`, owner.apiKey)).status).toBe(200);
    ids.pending_review = ids.pending_review!.filter((x) => x !== wid);
    ids.withdrawn!.push(wid);

    const collect = async (query: string, token: string) => {
      const out: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 20; pages++) {
        const res: ApiResponse = await h.api.get(`/v1/registrations?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, token);
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
        out.push(...res.body.data.map((r: { id: string }) => r.id));
        cursor = res.body.nextCursor;
        if (cursor === null) break;
      }
      return out;
    };
    const approvedOrRejected = await collect('status=approved,rejected', ws.pmToken);
    expect(new Set(approvedOrRejected).size).toBe(approvedOrRejected.length);
    expect(approvedOrRejected.sort()).toEqual([...ids.approved!, ...ids.rejected!].sort());

    const all = await collect('status=', ws.adminToken);
    expect(new Set(all).size).toBe(9);
    expect(all).toHaveLength(9);

    const pending = await collect('status=pending_review', ws.revopsToken);
    expect(pending.sort()).toEqual([...ids.pending_review!].sort());

    // A partner sees only its own, whatever partnerId it asks for; staff can filter by partner.
    const own = await collect(`partnerId=${a.id}`, b.apiKey);
    const bIds = (await h.prisma.registration.findMany({ where: { partnerId: b.id }, select: { id: true } })).map((r) => r.id);
    expect(own.sort()).toEqual(bIds.sort());
    const staffForB = await collect(`partnerId=${b.id}`, ws.pmToken);
    expect(staffForB.sort()).toEqual(bIds.sort());
  });
});

describe('withdraw, approve and reject', () => {
  it('lets the partner withdraw its own registration, and refuses staff (403) and other partners (404)', async () => {
    const ws = await seedWorkspace(h, [{ name: 'Withdrawer' }, { name: 'Bystander' }]);
    const [owner, other] = ws.partners as [typeof ws.partners[0], typeof ws.partners[0]];
    const reg = await h.api.post('/v1/registrations', owner.apiKey, dealFor(uniqueDomain('wd')));
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, ws.pmToken), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, ws.adminToken), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, other.apiKey), 404, 'NOT_FOUND');
    const res = await h.api.post(`/v1/registrations/${reg.body.id}/withdraw`, owner.apiKey);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('withdrawn');
    expect(await h.prisma.accountHold.count({ where: { registrationId: reg.body.id } })).toBe(0);
  });

  it('lets a partner manager approve a pending registration (protection starts then) and refuses revops with 403', async () => {
    const ws = await reviewWorkspace();
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('appr')));
    expect(reg.body).toMatchObject({ status: 'pending_review', protection: null, verdict: { outcome: 'review', reasons: [], policyVersion: 2 } });
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/approve`, ws.revopsToken, {}), 403, 'FORBIDDEN');
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/approve`, ws.partners[0]!.apiKey, {}), 403, 'FORBIDDEN');
    h.clock.advanceDays(2);
    const res = await h.api.post(`/v1/registrations/${reg.body.id}/approve`, ws.pmToken, { note: 'good fit' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'approved', protection: { startsAt: '2026-06-03T12:00:00.000Z', endsAt: '2026-09-01T12:00:00.000Z' } });
  });

  it('lets a partner manager reject with a reason (releasing the hold), and answers 422 when the reason is missing', async () => {
    const ws = await reviewWorkspace();
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor(uniqueDomain('rej')));
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/reject`, ws.revopsToken, { reason: 'nope' }), 403, 'FORBIDDEN');
    const before = await rowCounts(h, ws.workspaceId);
    const noReason = await h.api.post(`/v1/registrations/${reg.body.id}/reject`, ws.pmToken, {});
    expectError(noReason, 422, 'VALIDATION_FAILED');
    expect(noReason.body.error.details.issues).toEqual([expect.objectContaining({ path: 'reason' })]);
    expectError(await h.api.post(`/v1/registrations/${reg.body.id}/reject`, ws.pmToken, { reason: '   ' }), 422, 'VALIDATION_FAILED');
    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);

    const res = await h.api.post(`/v1/registrations/${reg.body.id}/reject`, ws.pmToken, { reason: 'The customer already buys direct.' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    expect(await h.prisma.accountHold.count({ where: { registrationId: reg.body.id } })).toBe(0);
  });

  it.each([
    ['approve an approved registration', 'approved', 'approve'],
    ['reject an approved registration', 'approved', 'reject'],
    ['approve a rejected registration', 'rejected', 'approve'],
    ['approve a withdrawn registration', 'withdrawn', 'approve'],
    ['withdraw a withdrawn registration', 'withdrawn', 'withdraw'],
    ['withdraw a rejected registration', 'rejected', 'withdraw'],
  ] as const)('answers 409 INVALID_TRANSITION and writes nothing when asked to %s', async (_title, state, action) => {
    const ws = await reviewWorkspace();
    const partner = ws.partners[0]!;
    const reg = await h.api.post('/v1/registrations', partner.apiKey, dealFor(uniqueDomain('illegal')));
    const id = reg.body.id as string;
    if (state === 'approved') await h.api.post(`/v1/registrations/${id}/approve`, ws.pmToken, {});
    if (state === 'rejected') await h.api.post(`/v1/registrations/${id}/reject`, ws.pmToken, { reason: 'no' });
    if (state === 'withdrawn') await h.api.post(`/v1/registrations/${id}/withdraw`, partner.apiKey);
    const row = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe(state);
    const before = await rowCounts(h, ws.workspaceId);

    const res =
      action === 'withdraw'
        ? await h.api.post(`/v1/registrations/${id}/withdraw`, partner.apiKey)
        : await h.api.post(`/v1/registrations/${id}/${action}`, ws.pmToken, action === 'reject' ? { reason: 'again' } : {});
    expectError(res, 409, 'INVALID_TRANSITION');
    expect(res.body.error.details).toMatchObject({ from: state });

    expect(await rowCounts(h, ws.workspaceId)).toEqual(before);
    const after = await h.prisma.registration.findUniqueOrThrow({ where: { id } });
    expect({ status: after.status, version: after.version, updatedAt: after.updatedAt }).toEqual({ status: row.status, version: row.version, updatedAt: row.updatedAt });
  });
});

describe('the audit trail of a registration', () => {
  it('lists events in order; staff see actor ids and notes, the partner sees neither', async () => {
    const ws = await reviewWorkspace([{ name: 'Trail Partner' }]);
    const partner = ws.partners[0]!;
    const reg = await h.api.post('/v1/registrations', partner.apiKey, dealFor(uniqueDomain('trail')));
    const id = reg.body.id as string;
    h.clock.advanceDays(1);
    await h.api.post(`/v1/registrations/${id}/approve`, ws.pmToken, { note: 'internal: CFO is a friend of Pat' });
    h.clock.advanceDays(1);
    await h.api.post(`/v1/registrations/${id}/withdraw`, partner.apiKey);
    const pmTokenRow = await h.prisma.staffToken.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, role: 'partner_manager' } });

    const staff = await h.api.get(`/v1/registrations/${id}/events`, ws.revopsToken);
    expect(staff.status).toBe(200);
    expect(staff.body.nextCursor).toBeNull();
    expect(staff.body.data.map((e: { type: string }) => e.type)).toEqual(['registration.submitted', 'registration.approved', 'registration.withdrawn']);
    const seqs = staff.body.data.map((e: { seq: number }) => e.seq);
    expect([...seqs].sort((x: number, y: number) => x - y)).toEqual(seqs);
    expect(staff.body.data.map((e: { createdAt: string }) => e.createdAt)).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-02T12:00:00.000Z', '2026-06-03T12:00:00.000Z']);
    expect(staff.body.data[1]).toMatchObject({ actor: { type: 'staff', id: pmTokenRow.id }, data: { note: 'internal: CFO is a friend of Pat' } });
    expect(staff.body.data[0]).toMatchObject({ actor: { type: 'partner', id: partner.id } });

    const mine = await rawRequest(h, 'GET', `/v1/registrations/${id}/events`, { token: partner.apiKey });
    expect(mine.status).toBe(200);
    const parsed = JSON.parse(mine.text);
    expect(parsed.data.map((e: { type: string }) => e.type)).toEqual(['registration.submitted', 'registration.approved', 'registration.withdrawn']);
    expect(parsed.data[1].actor).toEqual({ type: 'staff' });
    expect(mine.text).not.toContain('CFO');
    expect(mine.text).not.toContain(pmTokenRow.id);

    // Paging through the events one at a time gives the same trail.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res: ApiResponse = await h.api.get(`/v1/registrations/${id}/events?limit=1${cursor ? `&cursor=${cursor}` : ''}`, ws.adminToken);
      paged.push(...res.body.data.map((e: { type: string }) => e.type));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(paged).toEqual(['registration.submitted', 'registration.approved', 'registration.withdrawn']);
  });

  it('keeps reason codes for partners on every registration and records the verdict codes in the ledger', async () => {
    const ws = await seedWorkspace(h);
    await mirrorAccount(h, ws.workspaceId, { domain: 'customer-co.com', name: 'Customer Co', isCustomer: true });
    const reg = await h.api.post('/v1/registrations', ws.partners[0]!.apiKey, dealFor('customer-co.com'));
    expect(reg.body.status).toBe('pending_review');
    expect(reasonCodes(reg.body)).toEqual(['EXISTING_CUSTOMER']);
    const events = await h.api.get(`/v1/registrations/${reg.body.id}/events`, ws.partners[0]!.apiKey);
    expect(events.body.data[0].data).toMatchObject({ status: 'pending_review', verdict: { outcome: 'review', codes: ['EXISTING_CUSTOMER'], policyVersion: 1 } });
  });
});
