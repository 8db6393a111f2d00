// `npx dealreg demo`: the whole loop on embedded defaults, printed step by step.
// No configuration: without DATABASE_URL an embedded PostgreSQL is started (and thrown away at the end);
// Redis defaults to 127.0.0.1:6379. Everything goes through the real HTTP API and the real workers.
import { randomBytes } from 'node:crypto';
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
  const prefix = `dealreg-demo-${randomBytes(3).toString('hex')}`;
  let offsetMs = 0;
  try {
    const env = { ...process.env, QUEUE_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
    let cfg = loadConfig(env);

    out.title('dealreg demo — partner deal registration, rules of engagement, protection windows');
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
    out.section('2. What the CRM knows (the local account mirror)');
    await seedMirror(service, ws.workspaceId);
    out.item('globex.com     owned by Dana Direct (direct sales)');
    out.item('initech.com    an existing customer');
    out.item('umbrella.com   has an open opportunity "Umbrella renewal" (Proposal, 120,000)');
    out.note('(the CRM connectors fill this mirror from HubSpot / Salesforce; here it is seeded directly)');

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
    out.note(`staff see the evidence: Umbrella's conflict is opportunity "${ev?.opportunity?.name}" (${ev?.opportunity?.stage}); the partner only sees "${umbrella.body.verdict.reasons[0]?.message}"`);

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
      await deleteRedisKeys(service.redis, `${prefix}:*`).catch(() => undefined);
      await service.close().catch(() => undefined);
    }
    await embedded?.stop();
  }
}

async function seedMirror(service: Service, workspaceId: string): Promise<void> {
  const p = service.ctx.prisma;
  const account = async (externalId: string, name: string, domain: string, o: { ownerName?: string; ownerRole?: string; isCustomer?: boolean }) => {
    const a = await p.mirrorAccount.create({
      data: { workspaceId, crm: 'hubspot', externalId, name, nameKey: name.toLowerCase(), ownerName: o.ownerName ?? null, ownerRole: o.ownerRole ?? 'unknown', isCustomer: o.isCustomer ?? false },
    });
    await p.mirrorAccountDomain.create({ data: { workspaceId, domain, accountId: a.id } });
  };
  await account('1001', 'Globex', 'globex.com', { ownerName: 'Dana Direct', ownerRole: 'direct' });
  await account('1002', 'Initech', 'initech.com', { isCustomer: true });
  await account('1003', 'Umbrella Corp', 'umbrella.com', {});
  await p.mirrorOpportunity.create({
    data: { workspaceId, crm: 'hubspot', externalId: '9001', accountExternalId: '1003', name: 'Umbrella renewal', stage: 'Proposal', amount: 120_000, ownerName: 'Sam Seller' },
  });
  await p.mirrorState.create({ data: { workspaceId, crm: 'hubspot', syncedAt: new Date(), accountsCount: 3 } });
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
