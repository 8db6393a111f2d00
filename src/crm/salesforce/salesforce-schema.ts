// What dealreg needs in a Salesforce org, as data: the custom fields on Opportunity and the permission set
// that grants them. Salesforce fields cannot be created through the REST API we use, so they ship as an
// SFDX source project (crm-cards/salesforce/, deployed with `sf project deploy start`); on connect,
// ensureSchema() compares the org's describe with this list and reports what is missing. The SFDX
// metadata is checked against this list by test/unit/crm/salesforce-project.test.ts.
import { REGISTRATION_STATUSES } from '../../domain/types';

/** The external-id field that ties an Opportunity to its registration (the upsert key). */
export const SALESFORCE_REGISTRATION_ID_FIELD = 'Dealreg_Registration_Id__c';

/** The permission set (API name) in crm-cards/salesforce that grants read/edit on the fields below. */
export const SALESFORCE_PERMISSION_SET = 'Dealreg_Integration';

export interface DealregFieldSpec {
  /** API name on Opportunity. */
  name: string;
  label: string;
  description: string;
  /** Salesforce field type as describe reports it. */
  type: 'string' | 'picklist' | 'date';
  length?: number;
  externalId?: boolean;
  unique?: boolean;
  /** Restricted picklist values. */
  values?: readonly string[];
}

export const DEALREG_OPPORTUNITY_FIELDS: readonly DealregFieldSpec[] = [
  {
    name: SALESFORCE_REGISTRATION_ID_FIELD,
    label: 'Dealreg Registration ID',
    description: 'The dealreg registration this opportunity belongs to (external id; dealreg upserts by it).',
    type: 'string',
    length: 36,
    externalId: true,
    unique: true,
  },
  { name: 'Dealreg_Partner__c', label: 'Dealreg Partner', description: 'The partner that registered the deal.', type: 'string', length: 255 },
  { name: 'Dealreg_Partner_Tier__c', label: 'Dealreg Partner Tier', description: "The partner's tier when the registration was last synced.", type: 'string', length: 80 },
  { name: 'Dealreg_Status__c', label: 'Dealreg Status', description: 'The registration status in dealreg.', type: 'picklist', values: REGISTRATION_STATUSES },
  { name: 'Dealreg_Protection_End__c', label: 'Dealreg Protection End', description: "The last day of the partner's protection window.", type: 'date' },
  { name: 'Dealreg_Verdict__c', label: 'Dealreg Verdict', description: 'The rules-of-engagement verdict, summarised.', type: 'string', length: 255 },
];

/** Fields dealreg cannot work without (writes are keyed by it); the others only limit what a mapping may use. */
export const SALESFORCE_REQUIRED_FIELDS: readonly string[] = [SALESFORCE_REGISTRATION_ID_FIELD];

/** The command that deploys the fields, for messages. */
export const SALESFORCE_DEPLOY_HINT = 'deploy crm-cards/salesforce with `sf project deploy start` and assign the Dealreg_Integration permission set to the integration user';
