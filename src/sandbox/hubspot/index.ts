// The HubSpot sandbox: a stateful, wire-compatible fake of the parts of HubSpot dealreg uses.
// See README.md for what is served and how it maps to real HubSpot.
export { createHubspotSandbox, type HubspotSandbox, type HubspotSandboxOptions } from './sandbox';
export { signatureV2, signatureV3, signedUri } from './webhook-signature';
export type { PortalCreated, PortalOptions } from './portals';
export type { WebhookEvent, DeliveryLogEntry } from './model';
