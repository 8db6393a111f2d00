// The Salesforce sync mapping dealreg uses until RevOps saves one: it works on any org once the dealreg
// custom fields are deployed (src/crm/salesforce/salesforce-schema.ts), with Salesforce's default stages.
//
// Pipelines are record types: "default" writes no RecordTypeId (the integration user's default record
// type, or Master in an org without record types); an org's Opportunity record types appear as further
// pipelines, by RecordTypeId. Stage ids are StageName values (the OpportunityStage ApiName).
import type { SyncMappingInput } from '../../domain/sync-mapping';
import { SALESFORCE_REGISTRATION_ID_FIELD } from './salesforce-schema';

export const SALESFORCE_DEFAULT_PIPELINE = 'default';

export function defaultSalesforceMapping(): SyncMappingInput {
  return {
    createWhen: 'approved',
    fields: [
      // Written when the opportunity is created; reps may rename it afterwards.
      { template: '{company.name} ({partner.name})', crmField: 'Name', direction: 'to_crm', owner: 'crm' },
      // The amount is negotiated in the CRM as much as by the partner: the latest change wins.
      { registrationField: 'amount.value', crmField: 'Amount', direction: 'both', owner: 'latest', transform: 'number' },
      // The rep owns the forecast close date once the opportunity exists (Salesforce requires one: when a
      // registration has none, the adapter uses the protection end, else 90 days from today).
      { registrationField: 'expectedCloseDate', crmField: 'CloseDate', direction: 'both', owner: 'crm', transform: 'date' },
      // dealreg's own fields: edits in Salesforce are put back.
      { registrationField: 'status', crmField: 'Dealreg_Status__c', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'partner.name', crmField: 'Dealreg_Partner__c', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'partner.tier', crmField: 'Dealreg_Partner_Tier__c', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'protection.endsAt', crmField: 'Dealreg_Protection_End__c', direction: 'to_crm', owner: 'dealreg', transform: 'date' },
      { registrationField: 'verdict.summary', crmField: 'Dealreg_Verdict__c', direction: 'to_crm', owner: 'dealreg' },
    ],
    stages: {
      pipelineId: SALESFORCE_DEFAULT_PIPELINE,
      // onCreate: the first open stage by SortOrder ("Prospecting" in a default org).
      byStatus: { won: 'Closed Won', lost: 'Closed Lost' },
      wonStageIds: 'auto',
      lostStageIds: 'auto',
    },
    accounts: { associate: true, createIfMissing: false },
    // Partner community users (UserType PowerPartner) own accounts as partners, not as direct sales.
    owners: { assignedRole: 'direct', unassignedRole: 'unknown', directTeamIds: [], partnerTeamIds: ['userType:PowerPartner'] },
  };
}

export { SALESFORCE_REGISTRATION_ID_FIELD };
