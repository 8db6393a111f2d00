// The HubSpot app project (crm-cards/hubspot) must ask for the scopes dealreg uses and subscribe to every
// deal property the default mapping reads back; otherwise changes would only arrive with the reconcile sweep.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEALREG_BASE_URL } from '../../../crm-cards/hubspot/src/app/cards/config';
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

// The partner attribution card (crm-cards/hubspot/src/app/cards): valid card metadata, and it may only
// fetch what the app permits. `hs project validate` needs a HubSpot account; these checks run offline.
const cardsDir = path.join(project, 'src', 'app', 'cards');
const cardMetas = () => readdirSync(cardsDir).filter((f) => f.endsWith('-hsmeta.json')).map((f) => read(path.join('src', 'app', 'cards', f)));

test('every card is a card on the deal record whose entrypoint exists under src/ and registers with hubspot.extend', () => {
  const cards = cardMetas();
  expect(cards.map((c) => c.uid)).toEqual(['dealreg_partner_attribution_card']);
  for (const card of cards) {
    expect(card.type).toBe('card');
    expect(card.config.name).toEqual(expect.any(String));
    expect(['crm.record.tab', 'crm.record.sidebar']).toContain(card.config.location);
    expect(card.config.objectTypes).toEqual(['deals']);
    expect(card.config.entrypoint).toMatch(/^\/app\/cards\/[\w-]+\.tsx$/);
    const entrypoint = readFileSync(path.join(project, 'src', card.config.entrypoint), 'utf8');
    expect(entrypoint).toMatch(/hubspot\.extend<'crm\.record\.(tab|sidebar)'>/);
    expect(entrypoint).toContain(`hubspot.extend<'${card.config.location}'>`);
  }
  // The card reads deals: the app must ask for it.
  expect(read('src/app/app-hsmeta.json').config.auth.requiredScopes).toContain('crm.objects.deals.read');
});

test('the card fetches dealreg at a URL the app permits, over HTTPS, the same dealreg as the OAuth redirect and the webhooks', () => {
  const app = read('src/app/app-hsmeta.json');
  const permitted = app.config.permittedUrls.fetch as string[];
  expect(permitted).toContain(DEALREG_BASE_URL);
  for (const url of permitted) expect(new URL(url).protocol).toBe('https:');
  expect(DEALREG_BASE_URL).not.toMatch(/\/$/); // the card appends /cards/hubspot/...
  const origin = new URL(DEALREG_BASE_URL).origin;
  expect(app.config.auth.redirectUrls.map((u: string) => new URL(u).origin)).toEqual([origin]);
  expect(new URL(read('src/app/webhooks/webhooks-hsmeta.json').config.settings.targetUrl).origin).toBe(origin);
});

test('the card’s package.json pins the @hubspot/ui-extensions and react that the card tests run against', () => {
  const root = JSON.parse(readFileSync(path.resolve(project, '..', '..', 'package.json'), 'utf8'));
  const cards = JSON.parse(readFileSync(path.join(cardsDir, 'package.json'), 'utf8'));
  for (const dep of ['@hubspot/ui-extensions', 'react']) expect({ dep, version: cards.dependencies[dep] }).toEqual({ dep, version: root.devDependencies[dep] });
  expect(cards.devDependencies['@types/react']).toBe(root.devDependencies['@types/react']);
});

test('the card and its tests type-check with the card’s own tsconfig (this repo’s tsconfig.json excludes crm-cards/)', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(cardsDir, 'tsconfig.json')], { encoding: 'utf8' });
  expect({ status: run.status, output: `${run.stdout}${run.stderr}`.trim() }).toEqual({ status: 0, output: '' });
});
