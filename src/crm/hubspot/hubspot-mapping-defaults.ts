// The HubSpot sync mapping dealreg uses until RevOps saves one: it works on any portal once the
// dealreg properties are provisioned (src/crm/hubspot/hubspot-schema.ts), on the default pipeline.
import type { SyncMappingInput } from '../../domain/sync-mapping';

/** The unique-value deal property that ties a deal to its registration (the upsert key). */
export const HUBSPOT_REGISTRATION_ID_PROPERTY = 'dealreg_registration_id';

export function defaultHubspotMapping(): SyncMappingInput {
  return {
    createWhen: 'approved',
    fields: [
      // Written when the deal is created; reps may rename it afterwards.
      { template: '{company.name} ({partner.name})', crmField: 'dealname', direction: 'to_crm', owner: 'crm' },
      // The amount is negotiated in the CRM as much as by the partner: the latest change wins.
      { registrationField: 'amount.value', crmField: 'amount', direction: 'both', owner: 'latest', transform: 'number' },
      { registrationField: 'amount.currency', crmField: 'deal_currency_code', direction: 'to_crm', owner: 'crm', transform: 'upper' },
      // The rep owns the forecast close date once the deal exists.
      { registrationField: 'expectedCloseDate', crmField: 'closedate', direction: 'both', owner: 'crm', transform: 'datetime' },
      // dealreg's own fields: edits in HubSpot are put back.
      { registrationField: 'status', crmField: 'dealreg_status', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'partner.name', crmField: 'dealreg_partner_name', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'partner.type', crmField: 'dealreg_partner_type', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'partner.tier', crmField: 'dealreg_partner_tier', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'protection.endsAt', crmField: 'dealreg_protection_end', direction: 'to_crm', owner: 'dealreg', transform: 'date' },
      { registrationField: 'verdict.summary', crmField: 'dealreg_verdict_summary', direction: 'to_crm', owner: 'dealreg' },
      { registrationField: 'registration.url', crmField: 'dealreg_registration_url', direction: 'to_crm', owner: 'dealreg' },
    ],
    stages: {
      pipelineId: 'default',
      // onCreate: the pipeline's first open stage ("Appointment Scheduled" on HubSpot's default pipeline).
      byStatus: { won: 'closedwon', lost: 'closedlost' },
      wonStageIds: 'auto',
      lostStageIds: 'auto',
    },
    accounts: { associate: true, createIfMissing: false },
    owners: { assignedRole: 'direct', unassignedRole: 'unknown', directTeamIds: [], partnerTeamIds: [] },
  };
}
