// The CRM configuration API against the HubSpot sandbox: connections (admin) and sync mappings (revops):
// clear 4xx errors with stable codes, validation against the portal's real properties and stages,
// previews that write nothing, and roles.
import { registrationBody } from '../helpers/harness';
import { connect, dealsFor, eventually, startHubspotE2E, type HubspotE2E } from './crm-e2e-kit';

jest.setTimeout(60_000);

let e: HubspotE2E;

beforeAll(async () => {
  e = await startHubspotE2E();
});

afterAll(async () => {
  await e?.close();
});

describe('connections', () => {
  test('bad connection requests are refused with a code and nothing is stored', async () => {
    const admin = e.ws.adminToken;
    const cases: [unknown, number, string][] = [
      [{ portalId: 'abc', accessToken: e.portal.accessToken }, 422, 'VALIDATION_FAILED'],
      [{ portalId: e.portal.portalId }, 422, 'VALIDATION_FAILED'],
      [{ portalId: e.portal.portalId, accessToken: e.portal.accessToken, extra: 1 }, 422, 'VALIDATION_FAILED'],
      [{ portalId: e.portal.portalId, accessToken: 'pat-na1-not-a-real-token-000' }, 422, 'CRM_CREDENTIALS_REJECTED'],
      [{ portalId: 999999, accessToken: e.portal.accessToken }, 422, 'ACCOUNT_MISMATCH'],
    ];
    for (const [body, status, code] of cases) {
      const r = await e.h.api.post('/v1/connections/hubspot', admin, body);
      expect({ body, status: r.status, code: r.body.error?.code }).toEqual({ body, status, code });
      expect(r.body.error.message.length).toBeGreaterThan(10);
    }
    expect(await e.h.prisma.crmConnection.count()).toBe(0);
  });

  test('only admins manage connections', async () => {
    for (const token of [e.ws.pmToken, e.ws.revopsToken, e.ws.partners[0]!.apiKey]) {
      const r = await e.h.api.post('/v1/connections/hubspot', token, { portalId: e.portal.portalId, accessToken: e.portal.accessToken });
      expect(r.status).toBe(403);
      expect((await e.h.api.get('/v1/connections', token)).status).toBe(403);
    }
  });

  test('HubSpot answering 503 while connecting is a 502 CRM_UNAVAILABLE, and a retry works', async () => {
    await e.hs('POST', '/_sandbox/faults', { portalId: e.portal.portalId, status: 503, count: 1 });
    const r = await e.h.api.post('/v1/connections/hubspot', e.ws.adminToken, { portalId: e.portal.portalId, accessToken: e.portal.accessToken });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('CRM_UNAVAILABLE');
    expect(await e.h.prisma.crmConnection.count()).toBe(0);
  });

  test('registrations approved before HubSpot was connected get their deals once it is', async () => {
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('early-bird.com', 'Early Bird'));
    expect(reg.body.status).toBe('approved');
    await connect(e);
    await eventually('the early deal', async () => (await dealsFor(e, reg.body.id))[0]);
  });

  test('a second portal for the same workspace is a 409 CONNECTION_EXISTS', async () => {
    const other = await e.hs<{ portalId: number; accessToken: string }>('POST', '/_sandbox/portals', {});
    const r = await e.h.api.post('/v1/connections/hubspot', e.ws.adminToken, { portalId: other.body.portalId, accessToken: other.body.accessToken });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONNECTION_EXISTS');
  });
});

describe('sync mappings', () => {
  test('with nothing saved, GET answers the defaults, checked against the portal', async () => {
    const r = await e.h.api.get('/v1/mappings/hubspot', e.ws.revopsToken);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ crm: 'hubspot', version: 0, isDefault: true, validation: { issues: [] } });
    expect(r.body.validation.checkedAgainst.externalAccountId).toBe(String(e.portal.portalId));
    expect(r.body.mapping.stages.pipelineId).toBe('default');
  });

  test('a mapping that does not fit the portal is refused with every problem named', async () => {
    const current = (await e.h.api.get('/v1/mappings/hubspot', e.ws.revopsToken)).body.mapping;
    const bad = {
      ...current,
      fields: [...current.fields, { registrationField: 'notes', crmField: 'deal_notes_typo', direction: 'to_crm' }, { registrationField: 'contact.email', crmField: 'hs_is_closed', direction: 'to_crm' }],
      stages: { ...current.stages, onCreate: 'closedwon', byStatus: { won: 'qualifiedtobuy' } },
    };
    const r = await e.h.api.put('/v1/mappings/hubspot', e.ws.revopsToken, bad);
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('MAPPING_INVALID');
    const messages = (r.body.error.details.issues as { path: string; message: string }[]).map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(messages).toMatch(/deal_notes_typo/);
    expect(messages).toMatch(/stages.onCreate: .*closed stage/);
    expect(messages).toMatch(/stages.byStatus.won: .*not a closed-won stage/);
    expect(messages).toMatch(/hs_is_closed" is read-only/);
    expect((await e.h.api.get('/v1/mappings/hubspot', e.ws.revopsToken)).body.version).toBe(0);
  });

  test('a shape error is a 422 VALIDATION_FAILED with paths', async () => {
    const r = await e.h.api.put('/v1/mappings/hubspot', e.ws.revopsToken, { fields: [{ registrationField: 'status', crmField: 'x', direction: 'both' }], stages: {} });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    const paths = (r.body.error.details.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['fields.0.direction', 'stages.pipelineId']));
  });

  test('RevOps saves a mapping (a new version, audited); a partner manager may read but not write it', async () => {
    const current = (await e.h.api.get('/v1/mappings/hubspot', e.ws.revopsToken)).body.mapping;
    const next = { ...current, fields: [...current.fields, { registrationField: 'notes', crmField: 'description', direction: 'to_crm', owner: 'crm' }] };
    expect((await e.h.api.put('/v1/mappings/hubspot', e.ws.pmToken, next)).status).toBe(403);
    const saved = await e.h.api.put('/v1/mappings/hubspot', e.ws.revopsToken, next);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ version: 1, isDefault: false });
    expect((await e.h.api.get('/v1/mappings/hubspot', e.ws.pmToken)).body.version).toBe(1);
    const audited = await e.h.prisma.ledgerEvent.findMany({ where: { type: 'mapping.updated' } });
    expect(audited).toHaveLength(1);
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[0]!.apiKey, registrationBody('noted.com', 'Noted', { notes: 'Met at the trade fair' }));
    const deal = await eventually('the deal with its description', async () => (await e.hs<{ properties: Record<string, string> }>('GET', `/crm/v3/objects/deals/${reg.body.id}?idProperty=dealreg_registration_id&properties=description`, undefined, { 'x-sandbox-actor': 'user:1', 'x-sandbox-portal-id': String(e.portal.portalId) })).body?.properties?.description);
    expect(deal).toBe('Met at the trade fair');
  });

  test('a preview shows what a registration would write, and writes nothing', async () => {
    const reg = await e.h.api.post('/v1/registrations', e.ws.partners[1]!.apiKey, registrationBody('preview-only.com', 'Preview Only'));
    // Pending review registrations are not synced by default: preview a proposed mapping that creates them.
    const current = (await e.h.api.get('/v1/mappings/hubspot', e.ws.revopsToken)).body.mapping;
    const before = (await e.hs<{ requests: number }>('GET', `/_sandbox/portals/${e.portal.portalId}/stats`)).body.requests;
    const r = await e.h.api.post('/v1/mappings/hubspot/preview', e.ws.revopsToken, { registrationId: reg.body.id, mapping: { ...current, fields: current.fields.slice(0, 2) } });
    expect(r.status).toBe(200);
    expect(r.body.fields).toMatchObject({ dealname: 'Preview Only (Contoso Referrals)', dealreg_registration_id: reg.body.id });
    expect(Object.keys(r.body.fields)).not.toContain('dealreg_partner_name');
    expect(r.body.pipelineId).toBe('default');
    const after = (await e.hs<{ requests: number }>('GET', `/_sandbox/portals/${e.portal.portalId}/stats`)).body.requests;
    expect(after - before).toBeLessThanOrEqual(0 + 2); // at most a cached describe refresh, never a write
    const missing = await e.h.api.post('/v1/mappings/hubspot/preview', e.ws.revopsToken, { registrationId: '01a2342d-68c1-71fa-9154-a7c953f15463' });
    expect(missing.status).toBe(404);
    expect((await e.h.api.get('/v1/mappings/pipedrive', e.ws.revopsToken)).status).toBe(404);
  });
});
