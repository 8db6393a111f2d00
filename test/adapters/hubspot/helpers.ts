// Shared fakes for the HubSpot adapter tests: the CRM test doubles of ../crm-test-doubles.ts (a CallGate
// that counts, a token source that records refreshes, a nock scope that counts) set up for HubSpot, and
// the success bodies HubSpot (and the sandbox, src/sandbox/hubspot) answer with.
import { createHubspotAdapter, type HubspotAdapterOptions } from '../../../src/crm/hubspot';
import { countingGate, countingScope, recordingTokens, type CountingScope } from '../crm-test-doubles';

export { countingGate, recordingTokens, type CountingGate, type RecordingTokens } from '../crm-test-doubles';

export const BASE = 'https://api.hubapi.test';
export const PORTAL_ID = '40000001';
export const APP_ID = '3000001';

export function adapterWith(over: Partial<HubspotAdapterOptions> = {}) {
  const gate = countingGate();
  const tokens = recordingTokens();
  const adapter = createHubspotAdapter({ portalId: PORTAL_ID, baseUrl: BASE, tokens, gate, appId: APP_ID, timeoutMs: 2000, ...over });
  return { adapter, gate, tokens };
}

/** A nock scope for BASE that counts the requests it answered (compare with the gate's count). */
export function hubspot(): CountingScope {
  return countingScope(BASE);
}

export const LIMIT_HEADERS = {
  'X-HubSpot-RateLimit-Max': '110',
  'X-HubSpot-RateLimit-Remaining': '97',
  'X-HubSpot-RateLimit-Interval-Milliseconds': '10000',
  'X-HubSpot-Correlation-Id': '5a1b2c3d-0000-4000-8000-000000000001',
};

/** A deal as HubSpot's v3 object APIs return it. */
export function dealBody(id: string, props: Record<string, string | null> = {}, extra: Record<string, unknown> = {}) {
  return {
    id,
    properties: {
      dealname: `Deal ${id}`,
      amount: '1000',
      deal_currency_code: 'EUR',
      closedate: '2026-03-31T00:00:00Z',
      pipeline: 'default',
      dealstage: 'appointmentscheduled',
      hubspot_owner_id: null,
      dealreg_registration_id: `reg-${id}`,
      hs_lastmodifieddate: '2026-11-20T10:00:00.000Z',
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      hs_merged_object_ids: null,
      createdate: '2026-11-20T09:00:00.000Z',
      hs_object_id: id,
      ...props,
    },
    createdAt: '2026-11-20T09:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    archived: false,
    ...extra,
  };
}

export function companyBody(id: string, props: Record<string, string | null> = {}) {
  return {
    id,
    properties: {
      name: `Company ${id}`,
      domain: 'acme.com',
      website: 'https://www.acme.com',
      hs_additional_domains: null,
      country: 'Germany',
      hubspot_owner_id: '70000001',
      lifecyclestage: 'lead',
      hs_lastmodifieddate: '2026-11-20T10:00:00.000Z',
      hs_merged_object_ids: null,
      createdate: '2026-11-20T09:00:00.000Z',
      hs_object_id: id,
      ...props,
    },
    createdAt: '2026-11-20T09:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    archived: false,
  };
}

/** The body of a HubSpot error (the sandbox's errorBody). */
export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: '5a1b2c3d-0000-4000-8000-00000000beef', category, ...extra };
}

/** 400 VALIDATION_ERROR for a unique-value clash on dealreg_registration_id, as the sandbox words it. */
export function uniqueClashMessage(registrationId: string, existingId: string): string {
  const inner = [
    {
      isValid: false,
      message: `${registrationId} already has that value. A deal with dealreg_registration_id=${registrationId} already exists. Existing ID: ${existingId}`,
      error: 'INVALID_PROPERTY_VALUE',
      name: 'dealreg_registration_id',
      localizedErrorMessage: `${registrationId} already has that value.`,
    },
  ];
  return `Property values were not valid: ${JSON.stringify(inner)}`;
}

export const RATE_LIMIT_BODY = {
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  correlationId: '5a1b2c3d-0000-4000-8000-000000000429',
  policyName: 'TEN_SECONDLY_ROLLING',
  groupName: `publicapi:oauth-api-calls-ten-secondly:${APP_ID}:${PORTAL_ID}`,
};
