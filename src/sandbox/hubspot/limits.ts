// HubSpot's request limits and the responses that enforce them: the per-portal rolling 10-second
// window (429 `TEN_SECONDLY_ROLLING`), the separate per-second search limit (429 `SECONDLY`), the
// `X-HubSpot-RateLimit-*` headers, and injected faults.
import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../common/http';
import { errorResponse } from './errors';
import type { Portal } from './portal';

export interface LimitHeaders {
  'X-HubSpot-RateLimit-Max': number;
  'X-HubSpot-RateLimit-Remaining': number;
  'X-HubSpot-RateLimit-Interval-Milliseconds': number;
}

export function limitHeaders(portal: Portal, remaining: number): LimitHeaders {
  return {
    'X-HubSpot-RateLimit-Max': portal.rateLimit.max,
    'X-HubSpot-RateLimit-Remaining': Math.max(0, remaining),
    'X-HubSpot-RateLimit-Interval-Milliseconds': portal.rateLimit.intervalMs,
  };
}

function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** The 429 of the rolling window, body as HubSpot sends it (the SDK's retry keys on `policyName`). */
export function tenSecondlyLimited(portal: Portal, retryAfterMs: number): SandboxResponse {
  return {
    status: 429,
    headers: { ...limitHeaders(portal, 0), 'Retry-After': retryAfterSeconds(retryAfterMs) },
    body: {
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: `publicapi:oauth-api-calls-ten-secondly:${portal.appId}:${portal.portalId}`,
    },
  };
}

/** The 429 of the search limit (the SDK's retry keys on this exact message). */
export function secondlyLimited(portal: Portal, retryAfterMs: number): SandboxResponse {
  return {
    status: 429,
    headers: { 'Retry-After': retryAfterSeconds(retryAfterMs) },
    body: {
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: 'SECONDLY',
      groupName: `publicapi:crm-search-secondly:${portal.portalId}`,
    },
  };
}

/** What an injected fault answers. */
export function faultResponse(portal: Portal, status: number): SandboxResponse {
  switch (status) {
    case 429:
      return tenSecondlyLimited(portal, portal.rateLimit.intervalMs);
    case 401:
      return errorResponse(401, 'EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 0 second(s) ago.');
    case 503:
      return errorResponse(503, 'SERVICE_UNAVAILABLE', 'Service Unavailable. The service is temporarily unable to handle the request.');
    case 502:
    case 504:
      return { status, headers: { 'content-type': 'text/html' }, body: `<html><body><h1>${status} Gateway error</h1></body></html>` };
    default:
      return errorResponse(status, 'INTERNAL_ERROR', status >= 500 ? 'internal error' : `injected fault ${status}`);
  }
}
