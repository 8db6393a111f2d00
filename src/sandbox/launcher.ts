// Starts both CRM sandboxes (`npx dealreg sandbox`), prints what they serve, stops cleanly on SIGINT/SIGTERM,
// optionally loading a snapshot at start and saving one at stop.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHubspotSandbox, type HubspotSandbox } from './hubspot';
import { createSalesforceSandbox, type SalesforceSandbox } from './salesforce';

export interface Sandboxes {
  hubspot: HubspotSandbox;
  salesforce: SalesforceSandbox;
  hubspotUrl: string;
  salesforceUrl: string;
  snapshot(): { hubspot: object; salesforce: object };
  restore(s: { hubspot?: object; salesforce?: object }): void;
  close(): Promise<void>;
}

export async function startSandboxes(opts: { hubspotPort?: number; salesforcePort?: number; host?: string; limits?: boolean } = {}): Promise<Sandboxes> {
  const host = opts.host ?? '127.0.0.1';
  const limits = opts.limits ?? true;
  const hubspot = createHubspotSandbox({ rateLimitsEnabled: limits });
  const salesforce = createSalesforceSandbox({ limitsEnabled: limits });
  const hubspotPort = await hubspot.listen(opts.hubspotPort ?? 4010, host);
  let salesforcePort: number;
  try {
    salesforcePort = await salesforce.listen(opts.salesforcePort ?? 4020, host);
  } catch (err) {
    await hubspot.close();
    throw err;
  }
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    hubspot,
    salesforce,
    hubspotUrl: `http://${shownHost}:${hubspotPort}`,
    salesforceUrl: `http://${shownHost}:${salesforcePort}`,
    snapshot: () => ({ hubspot: hubspot.snapshot(), salesforce: salesforce.snapshot() }),
    restore: (s) => {
      if (s.hubspot) hubspot.restore(s.hubspot);
      if (s.salesforce) salesforce.restore(s.salesforce);
    },
    close: async () => {
      await Promise.all([hubspot.close(), salesforce.close()]);
    },
  };
}

export async function runSandboxCommand(o: { hubspotPort: number; salesforcePort: number; host: string; load?: string; save?: string; limits: boolean }): Promise<void> {
  for (const [name, port] of [['--hubspot-port', o.hubspotPort], ['--salesforce-port', o.salesforcePort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (got ${port})`);
  }
  let sandboxes: Sandboxes;
  try {
    sandboxes = await startSandboxes({ hubspotPort: o.hubspotPort, salesforcePort: o.salesforcePort, host: o.host, limits: o.limits });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(`dealreg sandbox: port in use (${e.message}). Pick others with --hubspot-port / --salesforce-port.`);
      process.exit(2);
    }
    throw err;
  }
  if (o.load) {
    sandboxes.restore(JSON.parse(readFileSync(o.load, 'utf8')) as { hubspot?: object; salesforce?: object });
    console.log(`loaded snapshot ${o.load}`);
  }
  console.log(`HubSpot sandbox     ${sandboxes.hubspotUrl}   (CRM v3 objects, search, batch, associations v4, properties, owners, pipelines, OAuth, webhooks)`);
  console.log(`Salesforce sandbox  ${sandboxes.salesforceUrl}   (/services/data/vNN.0: sObjects, collections, SOQL, limits, OAuth, change events)`);
  console.log(`Control API on both: POST /_sandbox/reset, /_sandbox/portals (HubSpot), /_sandbox/orgs (Salesforce), /_sandbox/faults, /_sandbox/expire-tokens`);
  console.log(`Rate limits ${o.limits ? 'on (real values)' : 'OFF'}. Ctrl-C to stop${o.save ? ` (snapshot saved to ${o.save})` : ''}.`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (o.save) {
    writeFileSync(o.save, JSON.stringify(sandboxes.snapshot()));
    console.log(`saved snapshot to ${o.save}`);
  }
  await sandboxes.close();
  console.log('sandboxes stopped');
}
