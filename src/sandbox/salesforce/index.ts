// The Salesforce sandbox: a stateful, wire-compatible fake of the parts of Salesforce dealreg uses.
// See README.md in this folder for what is served, the control API and the change-event feed.
import { SalesforceSandboxImpl, type SalesforceSandbox, type SalesforceSandboxOptions } from './sandbox';

export type { SalesforceSandbox, SalesforceSandboxOptions, CreateOrgOptions, CreatedOrg } from './sandbox';
export type { ChangeEvent, ChangeEventHeader, ChangeType } from './change-events';

export const SALESFORCE_SANDBOX_DEFAULT_PORT = 4020;

export function createSalesforceSandbox(options: SalesforceSandboxOptions = {}): SalesforceSandbox {
  return new SalesforceSandboxImpl(options);
}
