// The HubSpot app project (crm-cards/hubspot) must ask for the scopes dealreg uses and subscribe to every
// deal property the default mapping reads back; otherwise changes would only arrive with the reconcile sweep.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HUBSPOT_SCOPES } from '../../../src/crm/hubspot/hubspot-connector';
import { defaultHubspotMapping } from '../../../src/crm/hubspot/hubspot-mapping-defaults';
import { syncMappingSchema } from '../../../src/domain/sync-mapping';

const project = path.resolve(__dirname, '..', '..', '..', 'crm-cards', 'hubspot');
const read = (p: string) => JSON.parse(readFileSync(path.join(project, p), 'utf8'));

test('the app declares exactly the OAuth scopes dealreg requests at install', () => {
  const app = read('src/app/app-hsmeta.json');
  expect(app.type).toBe('app');
  expect([...app.config.auth.requiredScopes].sort()).toEqual([...HUBSPOT_SCOPES].sort());
  expect(read('hsproject.json').platformVersion).toBe('2026.03');
});

test('every deal property the default mapping reads back, and the stage, owner and deletions, have a webhook subscription', () => {
  const subs = read('src/app/webhooks/webhooks-hsmeta.json').config.subscriptions.legacyCrmObjects as { subscriptionType: string; propertyName?: string; active: boolean }[];
  const dealProps = new Set(subs.filter((s) => s.subscriptionType === 'deal.propertyChange' && s.active).map((s) => s.propertyName));
  const mapping = syncMappingSchema.parse(defaultHubspotMapping());
  const inbound = mapping.fields.filter((f) => f.direction !== 'to_crm' || f.owner === 'dealreg').map((f) => f.crmField);
  for (const p of [...inbound, 'dealstage', 'hubspot_owner_id']) expect({ p, subscribed: dealProps.has(p) }).toEqual({ p, subscribed: true });
  const types = new Set(subs.map((s) => s.subscriptionType));
  for (const t of ['deal.creation', 'deal.deletion', 'deal.merge', 'company.creation', 'company.deletion', 'company.merge']) expect(types.has(t)).toBe(true);
});
