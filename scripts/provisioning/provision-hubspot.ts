// Creates what dealreg needs in a HubSpot portal: the "dealreg" property group and its deal properties
// (dealreg_registration_id, a unique value used as the upsert key, and the partner, status, protection and
// verdict properties). Idempotent: re-running it creates nothing and says what is already there.
// dealreg does the same on connect; this script is for provisioning ahead of time or checking a portal.
//
//   HUBSPOT_ACCESS_TOKEN=pat-... npm run provision:hubspot -- --portal-id 12345678 [--base-url https://api.hubapi.com]
//
// Webhook subscriptions are declared in crm-cards/hubspot/src/app/webhooks/webhooks-hsmeta.json and
// deployed with `hs project upload` (developer platform 2026.03): see crm-cards/hubspot/README.md.
import { Command } from 'commander';
import { createHubspotAdapter } from '../../src/crm/hubspot/hubspot-adapter';
import { DEALREG_DEAL_PROPERTIES, DEALREG_PROPERTY_GROUP } from '../../src/crm/hubspot/hubspot-schema';
import { CrmError, type CallGate } from '../../src/crm/crm-adapter';

/** One process, a handful of calls: a simple spacing limiter is enough here (10 per second). */
function spacingGate(): CallGate {
  let next = 0;
  return {
    acquire: async () => {
      const wait = next - Date.now();
      next = Math.max(Date.now(), next) + 100;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    },
    rateLimited: async (ms) => {
      next = Date.now() + ms;
    },
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--portal-id <id>', 'the HubSpot portal (hub) id')
    .option('--base-url <url>', 'HubSpot API base URL (a sandbox for tests)', process.env.HUBSPOT_API_BASE_URL ?? 'https://api.hubapi.com')
    .option('--dry-run', 'only list what would be created')
    .parse()
    .opts<{ portalId: string; baseUrl: string; dryRun?: boolean }>();
  const token = process.env.HUBSPOT_ACCESS_TOKEN;
  if (!token) throw new Error('set HUBSPOT_ACCESS_TOKEN to a private-app token of the portal (scopes crm.schemas.deals.read and .write); it is read from the environment so that it stays out of your shell history');
  const adapter = createHubspotAdapter({ portalId: o.portalId, baseUrl: o.baseUrl, tokens: { current: async () => token, refresh: async () => { throw new CrmError('hubspot', 'AUTH', 'HubSpot rejected the token'); } }, gate: spacingGate() });
  const who = await adapter.verifyCredentials();
  if (who.accountId && who.accountId !== o.portalId) throw new Error(`this token belongs to portal ${who.accountId}, not ${o.portalId}`);
  console.error(`portal ${o.portalId}: property group "${DEALREG_PROPERTY_GROUP.name}" and ${DEALREG_DEAL_PROPERTIES.length} deal properties`);
  if (o.dryRun) {
    const d = await adapter.describe();
    const have = new Set(d.opportunityFields.map((f) => f.name));
    for (const p of DEALREG_DEAL_PROPERTIES) console.log(`${have.has(p.name) ? 'present ' : 'missing '} ${p.name}`);
    return;
  }
  const r = await adapter.ensureSchema();
  for (const n of r.created) console.log(`created  ${n}`);
  for (const n of r.present) console.log(`present  ${n}`);
  for (const n of r.missing) console.log(`MISSING  ${n}`);
  console.error(r.created.length === 0 ? 'nothing to do: the portal already has everything' : `created ${r.created.length}`);
  if (r.missing.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof CrmError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
  process.exit(1);
});
