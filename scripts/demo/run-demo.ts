// `npx dealreg demo`: the whole loop on embedded defaults, printed step by step.
// No configuration: without DATABASE_URL an embedded PostgreSQL is started (and thrown away at the end);
// Redis defaults to 127.0.0.1:6379; the built-in HubSpot sandbox plays HubSpot (a portal with owners,
// companies and a deal, signed webhooks, rate limits). Everything goes through the real HTTP API, the
// real workers and the real @hubspot/api-client. The built-in Salesforce sandbox plays a Salesforce org
// connected to the same workspace (real jsforce, change events read from its feed).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from '../../src/data/embedded-postgres';
import { createHubspotSandbox, type HubspotSandbox } from '../../src/sandbox/hubspot';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../src/sandbox/salesforce';
import { loadConfig, ConfigError } from '../../src/config';
import { createLogger } from '../../src/lib/logger';
import { migrate } from '../../src/data/migrate';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/data/embedded-postgres';
import { startService, StartupError, type Service } from '../../src/main';
import { createWorkspace } from '../../src/use-cases/workspaces';
import { verifyLedger } from '../../src/data/ledger';
import { MAINTENANCE_JOBS } from '../../src/jobs/queues';
import { deleteRedisKeys, Printer, type Api, makeApi } from './demo-support';

export async function runDemo(): Promise<boolean> {
  const out = new Printer();
  let embedded: EmbeddedDatabase | null = null;
  let service: Service | null = null;
  let hubspot: HubspotSandbox | null = null;
  let salesforce: SalesforceSandbox | null = null;
  const prefix = `dealreg-demo-${randomBytes(3).toString('hex')}`;
  let offsetMs = 0;
  try {
    out.title('dealreg demo — partner deal registration, rules of engagement, protection windows, HubSpot and Salesforce sync');
    out.step('Starting the HubSpot sandbox (a wire-compatible fake of the HubSpot APIs dealreg uses)');
    hubspot = createHubspotSandbox({ webhookDispatchIntervalMs: 50 });
    await hubspot.listen(0);
    const port = await freePort();
    const app = { appId: 3_000_123, clientId: 'dealreg-demo-app', clientSecret: randomBytes(16).toString('hex') };
    const hs = sandboxClient(hubspot.baseUrl);
    const portal = (await hs('POST', '/_sandbox/portals', { ...app, webhookTargetUrl: `http://127.0.0.1:${port}/webhooks/hubspot` })).body as { portalId: number; accessToken: string };
    out.ok(`HubSpot sandbox on ${hubspot.baseUrl}: portal ${portal.portalId}, signed webhooks to dealreg, 110 requests / 10 s`);
    out.step('Starting the Salesforce sandbox (a wire-compatible fake of the Salesforce REST API, OAuth and change events)');
    salesforce = createSalesforceSandbox();
    await salesforce.listen(0);
    const sfc = sandboxClient(salesforce.baseUrl);
    const org = (await sfc('POST', '/_sandbox/orgs', { dailyApiLimit: 15_000, name: 'Demo Co (Salesforce)' })).body as { orgId: string; instanceUrl: string; accessToken: string; refreshToken: string; clientId: string; clientSecret: string; integrationUserId: string };
    out.ok(`Salesforce sandbox on ${salesforce.baseUrl}: org ${org.orgId} with the dealreg fields deployed, ${(15_000).toLocaleString('en-US')} API calls a day`);
    const env = {
      ...process.env,
      QUEUE_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      HUBSPOT_API_BASE_URL: hubspot.baseUrl,
      HUBSPOT_APP_BASE_URL: hubspot.baseUrl,
      HUBSPOT_APP_ID: String(app.appId),
      HUBSPOT_CLIENT_ID: app.clientId,
      HUBSPOT_CLIENT_SECRET: app.clientSecret,
      SALESFORCE_LOGIN_URL: salesforce.baseUrl,
      SALESFORCE_CLIENT_ID: org.clientId,
      SALESFORCE_CLIENT_SECRET: org.clientSecret,
      // Short long polls: the demo's shutdown waits for the one in flight.
      SALESFORCE_FEED_WAIT_MS: '2000',
      // A key for this run only: CRM tokens are encrypted at rest even in the demo.
      ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? randomBytes(32).toString('hex'),
      CRM_SWEEP_MS: '500',
    };
    let cfg = loadConfig(env);

    if (!cfg.DATABASE_URL) {
      out.step('Starting an embedded PostgreSQL (DATABASE_URL is not set)');
      embedded = await startEmbeddedPostgres();
      cfg = loadConfig({ ...env, DATABASE_URL: embedded.url });
      out.ok('PostgreSQL 18 running on a temporary data directory (removed at the end)');
    } else {
      out.step('Using the PostgreSQL at DATABASE_URL');
    }
    const applied = await migrate(cfg.DATABASE_URL!);
    out.ok(`database schema ready (${applied.applied.length} migration(s) applied)`);

    out.step(`Connecting to Redis at ${cfg.REDIS_URL}`);
    const log = createLogger({ level: cfg.LOG_LEVEL });
    service = await startService(cfg, { role: 'all', log, clock: () => new Date(Date.now() + offsetMs) });
    const api = makeApi(`http://127.0.0.1:${service.port}`);
    out.ok(`dealreg API and workers running in this process on port ${service.port}`);

    // ── Workspace, people, partners ────────────────────────────────────────────────────────────────
    out.section('1. A workspace, its staff and its partners');
    const ws = await createWorkspace(service.ctx, { name: 'Demo Co' });
    out.ok(`workspace ${ws.workspaceId} created (admin token shown once, as \`dealreg workspace create\` does)`);
    const pm = await api.call('POST', '/v1/staff-tokens', ws.adminToken, { role: 'partner_manager', name: 'Paula (partner manager)' });
    const revops = await api.call('POST', '/v1/staff-tokens', ws.adminToken, { role: 'revops', name: 'Ravi (RevOps)' });
    out.ok(`staff tokens: partner_manager for Paula, revops for Ravi`);
    const partnerSpecs = [
      { key: 'northwind', name: 'Northwind Resellers', type: 'reseller', tier: 'gold' },
      { key: 'contoso', name: 'Contoso Referrals', type: 'referral', tier: 'silver' },
      { key: 'fabrikam', name: 'Fabrikam Affiliates', type: 'affiliate', tier: 'registered' },
      { key: 'tailspin', name: 'Tailspin Tech Alliance', type: 'technology', tier: 'silver' },
      { key: 'wingtip', name: 'Wingtip (lapsed)', type: 'reseller', tier: 'registered' },
    ] as const;
    const partners: Record<string, { id: string; apiKey: string; name: string }> = {};
    for (const p of partnerSpecs) {
      const res = await api.call('POST', '/v1/partners', pm.body.token, { name: p.name, type: p.type, tier: p.tier });
      partners[p.key] = { id: res.body.partner.id, apiKey: res.body.apiKey, name: p.name };
      out.item(`${p.name.padEnd(24)} ${p.type.padEnd(10)} tier ${p.tier.padEnd(10)} → API key ${res.body.apiKey.slice(0, 8)}… (shown once)`);
    }
    await api.call('PATCH', `/v1/partners/${partners.wingtip!.id}`, pm.body.token, { status: 'inactive' });
    out.item('Wingtip is set inactive (its agreement lapsed)');

    // ── CRM knowledge ──────────────────────────────────────────────────────────────────────────────
    out.section('2. HubSpot: what the CRM knows, and connecting it');
    const ui = { 'x-sandbox-actor': 'user:701', 'x-sandbox-portal-id': String(portal.portalId) };
    const owners = await hs('POST', `/_sandbox/portals/${portal.portalId}/owners`, { owners: [{ email: 'dana.direct@demo.test', firstName: 'Dana', lastName: 'Direct', userId: 701 }] });
    const dana = owners.body.results[0].id as string;
    await hs('POST', `/_sandbox/portals/${portal.portalId}/seed`, {
      companies: [
        { properties: { name: 'Globex', domain: 'globex.com', hubspot_owner_id: dana } },
        { properties: { name: 'Initech', domain: 'initech.com', lifecyclestage: 'customer' } },
        { properties: { name: 'Umbrella Corp', domain: 'umbrella.com' } },
        { properties: { name: 'Acme Inc.', domain: 'acme.com' } },
      ],
      deals: [{ properties: { dealname: 'Umbrella renewal', amount: '120000', dealstage: 'presentationscheduled' }, companies: ['#2'] }],
    });
    out.item('globex.com     owned by Dana Direct (direct sales)');
    out.item('initech.com    lifecycle stage "customer"');
    out.item('umbrella.com   has an open deal "Umbrella renewal" (Presentation scheduled, 120,000)');
    out.item('acme.com       a company nobody works yet');
    const connected = await api.call('POST', '/v1/connections/hubspot', ws.adminToken, { portalId: portal.portalId, accessToken: portal.accessToken });
    if (connected.status !== 201) throw new Error(`connecting HubSpot failed: ${connected.status} ${JSON.stringify(connected.body)}`);
    out.ok(`connected portal ${portal.portalId} with a private-app token (stored encrypted); created the deal properties ${connected.body.schema.created.join(', ')}`);
    const backfilled = await waitFor(async () => {
      const l = await api.call('GET', '/v1/connections', ws.adminToken);
      return l.body.data[0]?.backfill?.state === 'done' ? l.body.data[0] : undefined;
    });
    out.ok(`backfill: ${backfilled.backfill.accounts} companies and ${backfilled.backfill.opportunities} deal(s) copied into the local account mirror (conflict checks never call HubSpot)`);

    out.section('2b. Salesforce: the same workspace also connects an org');
    const sfApi = '/services/data/v66.0';
    // The demo's own Lightning session (a person's reads and edits: not dealreg's API allowance).
    const sfViewer = (await sfc('POST', `/_sandbox/orgs/${org.orgId}/tokens`, { userId: org.integrationUserId })).body.accessToken as string;
    const sfUi = (userId: string) => ({ authorization: `Bearer ${sfViewer}`, 'x-sandbox-actor': `user:${userId}` });
    const sfQuery = async (soql: string) => (await sfc('GET', `${sfApi}/query?q=${encodeURIComponent(soql)}`, undefined, sfUi(org.integrationUserId))).body.records as Record<string, any>[];
    const sfSeed = await sfc('POST', `/_sandbox/orgs/${org.orgId}/seed`, {
      users: [
        { _ref: 'sam', Username: `sam.seller@${org.orgId.toLowerCase()}.demo`, FirstName: 'Sam', LastName: 'Seller', Email: 'sam.seller@demo.test', Alias: 'sseller' },
        { _ref: 'pat', Username: `pat.partner@${org.orgId.toLowerCase()}.demo`, FirstName: 'Pat', LastName: 'Partner', Email: 'pat@northwind.test', Alias: 'ppartner', UserType: 'PowerPartner' },
      ],
      accounts: [
        { _ref: 'acme', Name: 'Acme Inc.', Website: 'https://www.acme.com', OwnerId: { $ref: 'pat' } },
        { _ref: 'northwind', Name: 'Northwind Resellers', Website: 'northwind-resellers.test', Type: 'Partner', OwnerId: { $ref: 'pat' } },
      ],
    });
    const sam = sfSeed.body.refs.sam as string;
    out.item('Account "Acme Inc." (Website https://www.acme.com), owned by a partner community user (not direct sales)');
    out.item('Account "Northwind Resellers", the partner\'s own account: its registrations get it as OpportunityPartner');
    await api.call('PATCH', `/v1/partners/${partners.northwind!.id}`, pm.body.token, { crmRefs: { salesforceAccountId: sfSeed.body.refs.northwind } });
    const sfConnected = await api.call('POST', '/v1/connections/salesforce', ws.adminToken, { instanceUrl: org.instanceUrl, accessToken: org.accessToken, refreshToken: org.refreshToken });
    if (sfConnected.status !== 201) throw new Error(`connecting Salesforce failed: ${sfConnected.status} ${JSON.stringify(sfConnected.body)}`);
    out.ok(`connected org ${org.orgId} (OAuth tokens, stored encrypted); dealreg fields present: ${sfConnected.body.schema.present.length}, missing: ${sfConnected.body.schema.missing.length ? sfConnected.body.schema.missing.join(', ') : 'none'}`);
    const sfBackfilled = await waitFor(async () => {
      const l = await api.call('GET', '/v1/connections', ws.adminToken);
      const c = l.body.data.find((x: { crm: string }) => x.crm === 'salesforce');
      return c?.backfill?.state === 'done' ? c : undefined;
    });
    out.ok(`backfill: ${sfBackfilled.backfill.accounts} accounts into the same mirror; from now on Salesforce changes arrive through its change-event feed`);

    // ── Policy ─────────────────────────────────────────────────────────────────────────────────────
    out.section('3. RevOps sets the rules of engagement');
    const current = await api.call('GET', '/v1/policy', revops.body.token);
    const policy = {
      ...current.body.policy,
      reserved: { domains: [{ domain: 'hooli.com', note: 'named account of the enterprise team' }], territories: [{ country: 'JP', note: 'direct-only territory' }] },
      partnerCaps: { registered: 2, silver: 100, gold: null },
    };
    const put = await api.call('PUT', '/v1/policy', revops.body.token, policy);
    out.ok(`policy version ${put.body.version}: protect ${policy.protection.defaultDays} days (max ${policy.protection.maxDays}), reserve hooli.com and Japan, cap 'registered' partners at 2 active registrations`);
    const bad = await api.call('PUT', '/v1/policy', revops.body.token, { ...policy, protection: { ...policy.protection, defaultDays: 400 } });
    out.item(`an invalid policy is refused: ${bad.status} ${bad.body.error.code} — ${bad.body.error.details.issues[0].path}: ${bad.body.error.details.issues[0].message}`);

    // ── Pre-checks ─────────────────────────────────────────────────────────────────────────────────
    out.section('4. Partners ask "is this account available?" (answers never reveal owners or other partners)');
    for (const [domain, name] of [['acme.com', 'Acme'], ['umbrella.com', 'Umbrella Corp'], ['globex.com', 'Globex']] as const) {
      const r = await api.call('POST', '/v1/registrations/check', partners.northwind!.apiKey, { company: { name, domain } });
      out.item(`${domain.padEnd(14)} → ${r.body.availability}   (response: ${JSON.stringify(r.body)})`);
    }

    // ── Registrations ──────────────────────────────────────────────────────────────────────────────
    out.section('5. Registrations, each decided by the rules with its evidence');
    const show = (label: string, r: { status: number; body: any }) => {
      if (r.status >= 400) {
        out.item(`${label.padEnd(44)} → ${r.status} ${r.body.error.code}: ${r.body.error.message}`);
        return;
      }
      const reasons = r.body.verdict.reasons.map((x: { code: string }) => x.code).join(', ') || '—';
      const prot = r.body.protection ? ` protected until ${r.body.protection.endsAt.slice(0, 10)}` : '';
      out.item(`${label.padEnd(44)} → ${r.body.status.padEnd(14)} ${reasons}${prot}`);
    };
    const reg = (partner: string, domain: string, name: string, extra: Record<string, unknown> = {}) =>
      api.call('POST', '/v1/registrations', partners[partner]!.apiKey, {
        company: { name, domain, ...(extra.country ? { country: extra.country } : {}) },
        contact: { name: 'Jordan Buyer', email: 'jordan@example.org' },
        amount: { value: 48_000, currency: 'USD' },
        expectedCloseDate: '2026-12-31',
      });
    const acme = await reg('northwind', 'https://www.Acme.com/about', 'Acme Inc.');
    show('Northwind: Acme Inc. (https://www.Acme.com/about)', acme);
    show('Contoso: acme.com again', await reg('contoso', 'acme.com', 'Acme'));
    show('Tailspin: "ACME, Incorporated" at acme-inc.io', await reg('tailspin', 'acme-inc.io', 'ACME, Incorporated'));
    show('Northwind: Globex (direct-owned)', await reg('northwind', 'globex.com', 'Globex'));
    const umbrella = await reg('contoso', 'umbrella.com', 'Umbrella Corp');
    show('Contoso: Umbrella (open opportunity)', umbrella);
    show('Tailspin: Initech (existing customer)', await reg('tailspin', 'initech.com', 'Initech'));
    show('Northwind: Hooli (reserved named account)', await reg('northwind', 'hooli.com', 'Hooli'));
    show('Northwind: Kaisha KK in Japan (territory)', await reg('northwind', 'kaisha.jp', 'Kaisha KK', { country: 'JP' }));
    show('Wingtip (inactive partner): Vandelay', await reg('wingtip', 'vandelay.com', 'Vandelay Industries'));
    show('Fabrikam: Soylent (1 of cap 2)', await reg('fabrikam', 'soylent.com', 'Soylent'));
    show('Fabrikam: Stark (2 of cap 2)', await reg('fabrikam', 'stark.com', 'Stark Industries'));
    show('Fabrikam: Wayne (over the cap)', await reg('fabrikam', 'wayne.com', 'Wayne Enterprises'));
    show('Contoso: "not a domain"', await reg('contoso', 'not a domain', 'Nobody'));
    show('Contoso: gmail.com', await reg('contoso', 'gmail.com', 'Some Person'));
    const staffView = await api.call('GET', `/v1/registrations/${umbrella.body.id}`, pm.body.token);
    const ev = staffView.body.verdict.reasons[0]?.evidence;
    out.note(`staff see the evidence: Umbrella's conflict is HubSpot deal ${ev?.opportunity?.externalId} "${ev?.opportunity?.name}" (${ev?.opportunity?.stage}); the partner only sees "${umbrella.body.verdict.reasons[0]?.message}"`);
    const acmeDeal = await waitFor(async () => {
      const r = await api.call('GET', `/v1/registrations/${acme.body.id}`, pm.body.token);
      return r.body.crm?.hubspot?.dealId as string | undefined;
    });
    const deal = (await hs('GET', `/crm/v3/objects/deals/${acmeDeal}?properties=dealname,amount,dealstage,dealreg_partner_name,dealreg_status,dealreg_protection_end&associations=companies`, undefined, ui)).body;
    out.ok(`in HubSpot: approved Acme is deal ${acmeDeal} "${deal.properties.dealname}", stage ${deal.properties.dealstage}, amount ${deal.properties.amount}, partner ${deal.properties.dealreg_partner_name}, protected until ${deal.properties.dealreg_protection_end}, on company acme.com`);
    const acmeOppId = await waitFor(async () => (await api.call('GET', `/v1/registrations/${acme.body.id}`, pm.body.token)).body.crm?.salesforce?.opportunityId as string | undefined);
    const [acmeOpp] = await sfQuery(`SELECT Name, StageName, Amount, CloseDate, Account.Name, Dealreg_Status__c, Dealreg_Protection_End__c FROM Opportunity WHERE Id = '${acmeOppId}'`);
    const [acmePartner] = await waitFor(async () => {
      const rows = await sfQuery(`SELECT AccountTo.Name, Role, IsPrimary FROM OpportunityPartner WHERE OpportunityId = '${acmeOppId}'`);
      return rows.length > 0 ? rows : undefined;
    });
    out.ok(`in Salesforce: the same registration is Opportunity ${acmeOppId} "${acmeOpp!.Name}", ${acmeOpp!.StageName}, ${acmeOpp!.Amount}, on Account ${acmeOpp!.Account?.Name}, partner ${acmePartner!.AccountTo?.Name} (${acmePartner!.Role}, primary), protected until ${acmeOpp!.Dealreg_Protection_End__c}`);

    // ── Race ───────────────────────────────────────────────────────────────────────────────────────
    out.section('6. A race: 20 partners register the same new account at the same instant');
    const racers: { apiKey: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await api.call('POST', '/v1/partners', pm.body.token, { name: `Racer ${String(i + 1).padStart(2, '0')}`, type: 'referral', tier: 'silver' });
      racers.push({ apiKey: r.body.apiKey });
    }
    const results = await Promise.all(
      racers.map((p) =>
        api.call('POST', '/v1/registrations', p.apiKey, { company: { name: 'Initrode', domain: 'initrode.com' }, contact: { name: 'Bob Porter', email: 'bob@initrode.com' } }),
      ),
    );
    const tally = new Map<string, number>();
    for (const r of results) {
      const k = `${r.body.status} ${r.body.verdict.reasons.map((x: { code: string }) => x.code).join(',')}`.trim();
      tally.set(k, (tally.get(k) ?? 0) + 1);
    }
    for (const [k, n] of tally) out.item(`${String(n).padStart(2)} × ${k}`);
    const winners = results.filter((r) => r.body.status === 'approved').length;
    out.check(winners === 1, `exactly one protected registration (enforced by a unique hold in PostgreSQL), ${20 - winners} duplicates`);

    // ── Decisions ──────────────────────────────────────────────────────────────────────────────────
    out.section('7. Paula (partner manager) decides the ones waiting for review');
    const waiting = await api.call('GET', '/v1/registrations?status=pending_review', pm.body.token);
    for (const r of waiting.body.data) {
      const approve = r.company.domain === 'umbrella.com';
      const res = approve
        ? await api.call('POST', `/v1/registrations/${r.id}/approve`, pm.body.token, { note: 'coordinated with the Umbrella account team' })
        : await api.call('POST', `/v1/registrations/${r.id}/reject`, pm.body.token, { reason: 'Initech is an existing customer managed by customer success' });
      out.item(`${r.company.name.padEnd(20)} ${approve ? 'approved' : 'rejected'} → status ${res.body.status}${res.body.protection ? `, protected until ${res.body.protection.endsAt.slice(0, 10)}` : ''}`);
    }
    // ── The CRM talks back ─────────────────────────────────────────────────────────────────────────
    const umbrellaDeal = await waitFor(async () => (await api.call('GET', `/v1/registrations/${umbrella.body.id}`, pm.body.token)).body.crm?.hubspot?.dealId as string | undefined);
    out.item(`Umbrella is now HubSpot deal ${umbrellaDeal}`);
    out.section('7b. In HubSpot, Dana the sales rep works the deals');
    const t0 = Date.now();
    await hs('PATCH', `/crm/v3/objects/deals/${acmeDeal}`, { properties: { amount: '52000', dealreg_partner_name: 'not the partner' } }, ui);
    const acmeBack = await waitFor(async () => {
      const r = await api.call('GET', `/v1/registrations/${acme.body.id}`, pm.body.token);
      return r.body.amount?.value === 52000 ? r.body : undefined;
    });
    out.item(`Dana raises Acme's amount to 52,000 → the registration's amount is ${acmeBack.amount.value} ${acmeBack.amount.currency} (${Date.now() - t0} ms; amount is "latest change wins")`);
    const restored = await waitFor(async () => {
      const d = (await hs('GET', `/crm/v3/objects/deals/${acmeDeal}?properties=dealreg_partner_name`, undefined, ui)).body;
      return d.properties.dealreg_partner_name === 'Northwind Resellers' ? d : undefined;
    });
    out.item(`Dana also overwrote the partner name → dealreg owns that property and put back "${restored.properties.dealreg_partner_name}"`);
    const t1 = Date.now();
    await hs('PATCH', `/crm/v3/objects/deals/${umbrellaDeal}`, { properties: { dealstage: 'closedwon' } }, ui);
    const won = await waitFor(async () => {
      const r = await api.call('GET', `/v1/registrations/${umbrella.body.id}`, pm.body.token);
      return r.body.status === 'won' ? r.body : undefined;
    });
    const wonEvents = await api.call('GET', `/v1/registrations/${won.id}/events`, pm.body.token);
    const wonEvent = wonEvents.body.data.find((x: { type: string }) => x.type === 'registration.won');
    out.ok(`Dana moves Umbrella to Closed Won → registration ${won.status} in ${Date.now() - t1} ms, by ${wonEvent.actor.type} ${wonEvent.actor.id} via ${wonEvent.source}; attribution: ${wonEvent.data.attribution.partners.map((p: { percent: number; amount: number }) => `${p.percent}% of ${p.amount}`).join(', ')} to Contoso`);
    await hs('POST', `/_sandbox/portals/${portal.portalId}/webhooks/flush`, {});
    await new Promise((r) => setTimeout(r, 800));
    const quiet0 = (await hs('GET', `/_sandbox/portals/${portal.portalId}/stats`)).body;
    await new Promise((r) => setTimeout(r, 1500));
    const quiet1 = (await hs('GET', `/_sandbox/portals/${portal.portalId}/stats`)).body;
    const counted = (await service.ctx.metrics.webhookEvents.get()).values;
    const n = (result: string) => counted.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0);
    out.check(
      quiet1.requests - quiet0.requests <= 1,
      `no ping-pong: of ${quiet0.webhooks.eventsEmitted} webhook events, ${n('echo')} were dealreg's own writes (recognised by changeSource/sourceId and dropped), ${n('stored')} were stored and applied; ${quiet1.requests - quiet0.requests} API calls in the last 1.5 s`,
    );

    const umbrellaOpp = await waitFor(async () => {
      const id = (await api.call('GET', `/v1/registrations/${umbrella.body.id}`, pm.body.token)).body.crm?.salesforce?.opportunityId as string | undefined;
      const [o] = id ? await sfQuery(`SELECT Id, StageName, IsWon, Dealreg_Status__c FROM Opportunity WHERE Id = '${id}'`) : [];
      return o?.StageName === 'Closed Won' && o.Dealreg_Status__c === 'won' ? o : undefined;
    });
    out.ok(`the win made in HubSpot reached Salesforce too: Opportunity ${umbrellaOpp.Id} is ${umbrellaOpp.StageName} (IsWon ${umbrellaOpp.IsWon}), Dealreg status ${umbrellaOpp.Dealreg_Status__c}`);

    out.section('7c. In Salesforce, Sam the sales rep works Acme');
    const t2 = Date.now();
    await sfc('PATCH', `${sfApi}/sobjects/Opportunity/${acmeOppId}`, { StageName: 'Negotiation/Review', CloseDate: '2027-02-26', Dealreg_Partner__c: 'not the partner' }, sfUi(sam));
    const acmeClose = await waitFor(async () => {
      const r = await api.call('GET', `/v1/registrations/${acme.body.id}`, pm.body.token);
      return r.body.expectedCloseDate === '2027-02-26' ? r.body : undefined;
    });
    out.item(`Sam moves Acme to Negotiation/Review and its close date to 2027-02-26 → the registration's expected close date is ${acmeClose.expectedCloseDate} (${Date.now() - t2} ms, through the change-event feed; the CRM owns the close date)`);
    const sfRestored = await waitFor(async () => {
      const [o] = await sfQuery(`SELECT Dealreg_Partner__c FROM Opportunity WHERE Id = '${acmeOppId}'`);
      return o?.Dealreg_Partner__c === 'Northwind Resellers' ? o : undefined;
    });
    out.item(`Sam also overwrote the partner → dealreg owns Dealreg_Partner__c and put back "${sfRestored.Dealreg_Partner__c}"`);
    const hsClose = (await hs('GET', `/crm/v3/objects/deals/${acmeDeal}?properties=closedate`, undefined, ui)).body.properties.closedate as string;
    out.item(`HubSpot's deal keeps its own close date (${hsClose.slice(0, 10)}): each CRM owns its close date once the deal exists`);
    await new Promise((r) => setTimeout(r, 1500));
    const sfStats0 = (await sfc('GET', `/_sandbox/orgs/${org.orgId}/stats`)).body;
    await new Promise((r) => setTimeout(r, 1500));
    const sfStats1 = (await sfc('GET', `/_sandbox/orgs/${org.orgId}/stats`)).body;
    out.check(
      sfStats1.apiUsage.used - sfStats0.apiUsage.used <= 1,
      `no ping-pong with Salesforce: ${sfStats1.apiUsage.used - sfStats0.apiUsage.used} API calls in the last 1.5 s; dealreg's own writes come back as change events with changeOrigin client=dealreg and are dropped`,
    );

    const illegal = await api.call('POST', `/v1/registrations/${acme.body.id}/approve`, pm.body.token, {});
    out.item(`approving an already approved registration: ${illegal.status} ${illegal.body.error.code}`);
    const notOwn = await api.call('GET', `/v1/registrations/${acme.body.id}`, partners.contoso!.apiKey);
    out.item(`Contoso reading Northwind's registration: ${notOwn.status} ${notOwn.body.error.code}`);

    // ── Time passes ────────────────────────────────────────────────────────────────────────────────
    out.section('8. Time passes: reminders, an extension, an expiry');
    offsetMs += 76 * 86_400_000;
    await runSweep(service);
    out.item(`⏩ 76 days later the protection sweep reminds: ${await countEvents(service, ws.workspaceId, 'registration.reminder')} reminder(s) (14 days before the end)`);
    const ext = await api.call('POST', `/v1/registrations/${acme.body.id}/extension-requests`, partners.northwind!.apiKey, { reason: 'procurement needs another month' });
    out.item(`Northwind asks to extend Acme: ${ext.status} request ${ext.body.status}`);
    const extOk = await api.call('POST', `/v1/registrations/${acme.body.id}/extension-requests/${ext.body.id}/approve`, pm.body.token, {});
    out.item(`Paula approves: Acme now protected until ${extOk.body.registration.protection.endsAt.slice(0, 10)} (+${policy.protection.extensionDays} days)`);
    offsetMs += 15 * 86_400_000;
    await runSweep(service);
    const after = await api.call('GET', '/v1/registrations?status=expired', pm.body.token);
    out.item(`⏩ 15 more days: ${after.body.data.length} registration(s) expired, e.g. ${after.body.data.map((r: { company: { name: string } }) => r.company.name).slice(0, 4).join(', ')}; Acme (extended) is still ${(await api.call('GET', `/v1/registrations/${acme.body.id}`, pm.body.token)).body.status}`);
    const reRegister = await reg('contoso', 'soylent.com', 'Soylent');
    out.item(`Soylent's protection lapsed, so Contoso may now register it: ${reRegister.body.status}`);

    // ── Evidence trail ─────────────────────────────────────────────────────────────────────────────
    out.section('9. The audit trail');
    const events = await api.call('GET', `/v1/registrations/${acme.body.id}/events`, pm.body.token);
    for (const e of events.body.data) out.item(`#${String(e.seq).padEnd(4)} ${e.createdAt.slice(0, 10)} ${e.type.padEnd(36)} by ${e.actor.type} via ${e.source}`);
    const verify = await verifyLedger(service.ctx.prisma, { workspaceId: ws.workspaceId });
    out.check(verify.problems.length === 0, `ledger verify: ${verify.events} hash-chained events, ${verify.problems.length} problems`);
    await waitForOutbox(service);
    const counts = await service.jobs.queues.registrationEvents.getJobCounts('completed', 'failed', 'waiting', 'active');
    const outbox = await service.ctx.prisma.outboxMessage.count({ where: { workspaceId: ws.workspaceId } });
    out.check(counts.completed === outbox, `outbox → BullMQ: ${outbox} outbox rows, ${counts.completed} jobs completed, ${counts.failed} failed`);

    const deals = (await hs('POST', '/crm/v3/objects/deals/search', { filterGroups: [{ filters: [{ propertyName: 'dealreg_registration_id', operator: 'HAS_PROPERTY' }] }], properties: ['dealreg_status'], limit: 100 }, ui)).body;
    const byStatus = new Map<string, number>();
    for (const d of deals.results) byStatus.set(d.properties.dealreg_status, (byStatus.get(d.properties.dealreg_status) ?? 0) + 1);
    out.ok(`HubSpot now holds ${deals.total} registration deals: ${[...byStatus].map(([k, n]) => `${n} ${k}`).join(', ')} (expiries and the win were written back)`);
    const opps = await sfQuery(`SELECT Dealreg_Status__c FROM Opportunity WHERE Dealreg_Registration_Id__c != null`);
    const sfByStatus = new Map<string, number>();
    for (const o of opps) sfByStatus.set(o.Dealreg_Status__c, (sfByStatus.get(o.Dealreg_Status__c) ?? 0) + 1);
    const sfUsage = (await sfc('GET', `/_sandbox/orgs/${org.orgId}/stats`)).body.apiUsage;
    out.ok(`Salesforce holds ${opps.length} registration opportunities: ${[...sfByStatus].map(([k, n]) => `${n} ${k}`).join(', ')}; dealreg used ${sfUsage.used} of the org's ${sfUsage.max.toLocaleString('en-US')} daily API calls`);

    out.section('Done');
    out.note('Next: `npm test` runs the test suite; `npx dealreg serve` runs the service (see README).');
    return out.failures === 0;
  } catch (err) {
    if (err instanceof StartupError || err instanceof ConfigError) {
      out.fail(err.message);
      return false;
    }
    out.fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return false;
  } finally {
    if (service) {
      // Close first (workers finish their jobs, the change feed's long poll included), then forget the
      // run's Redis keys: deleting them under running workers makes BullMQ lose its job locks.
      const keys = new Redis(service.redis.options);
      await service.close().catch(() => undefined);
      await deleteRedisKeys(keys, `${prefix}:*`).catch(() => undefined);
      keys.disconnect();
    }
    await embedded?.stop();
    await hubspot?.close().catch(() => undefined);
    await salesforce?.close().catch(() => undefined);
  }
}

function sandboxClient(baseUrl: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: body !== undefined ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Polls (every 50 ms, up to 15 s) until fn gives a value. */
async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the CRM sync (is the worker running?)');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runSweep(service: Service): Promise<void> {
  const job = await service.jobs.queues.maintenance.add(MAINTENANCE_JOBS.protectionSweep, {});
  for (let i = 0; i < 200; i++) {
    const state = await job.getState();
    if (state === 'completed') return;
    if (state === 'failed') throw new Error(`protection sweep failed: ${(await service.jobs.queues.maintenance.getJob(job.id!))?.failedReason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('protection sweep did not finish within 10 s');
}

async function countEvents(service: Service, workspaceId: string, type: string): Promise<number> {
  return service.ctx.prisma.ledgerEvent.count({ where: { workspaceId, type } });
}

async function waitForOutbox(service: Service): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const pending = await service.ctx.prisma.outboxMessage.count({ where: { dispatchedAt: null } });
    const c = await service.jobs.queues.registrationEvents.getJobCounts('waiting', 'active', 'delayed');
    if (pending === 0 && (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type { Api };
