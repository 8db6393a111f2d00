// The pure mapping from HubSpot answers to the closed CRM error codes (src/crm/hubspot/hubspot-errors.ts).
import { decideRetry } from '../../../src/crm/retry-decision';
import { errorFromAnswer, errorFromBatchItem, rateLimitInfo, retryAfterMs, uniqueValueClash } from '../../../src/crm/hubspot';
import { errorBody, uniqueClashMessage } from './helpers';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, body, headers });

describe('retryAfterMs', () => {
  it('reads Retry-After in seconds, then as an HTTP date, then the rate window, then the policy', () => {
    expect(retryAfterMs({ 'Retry-After': '7' }, null)).toBe(7000);
    expect(retryAfterMs({ 'retry-after': 'Wed, 02 Dec 2026 10:00:05 GMT' }, null, Date.parse('2026-12-02T10:00:00Z'))).toBe(5000);
    expect(retryAfterMs({ 'x-hubspot-ratelimit-interval-milliseconds': '10000' }, null)).toBe(10_000);
    expect(retryAfterMs({}, { policyName: 'SECONDLY' })).toBe(1000);
    expect(retryAfterMs({}, { policyName: 'TEN_SECONDLY_ROLLING' })).toBe(10_000);
    expect(retryAfterMs({}, 'Too many')).toBeUndefined();
  });
});

describe('rateLimitInfo', () => {
  it('reads the three X-HubSpot-RateLimit headers, and nothing when they are absent', () => {
    expect(rateLimitInfo({ 'x-hubspot-ratelimit-max': '110', 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' })).toEqual({ max: 110, remaining: 0, intervalMs: 10_000 });
    expect(rateLimitInfo({ 'content-type': 'application/json' })).toBeNull();
  });
});

describe('errorFromAnswer', () => {
  it.each([
    [400, 'VALIDATION_ERROR', 'INVALID'],
    [401, 'EXPIRED_AUTHENTICATION', 'AUTH'],
    [403, 'MISSING_SCOPES', 'AUTH'],
    [404, 'OBJECT_NOT_FOUND', 'NOT_FOUND'],
    [409, 'OBJECT_ALREADY_EXISTS', 'CONFLICT'],
    [423, 'LOCKED', 'TEMPORARY'],
    [429, 'RATE_LIMITS', 'RATE_LIMITED'],
    [500, 'INTERNAL_ERROR', 'TEMPORARY'],
    [503, 'SERVICE_UNAVAILABLE', 'TEMPORARY'],
  ])('%d %s → %s', (status, category, code) => {
    const e = errorFromAnswer(answer(status, errorBody(category, 'something')), 'deals.batch.update');
    expect(e).toMatchObject({ crm: 'hubspot', code, status, crmCode: category });
    expect(e.message).toContain('deals.batch.update');
    expect(e.message).toContain('correlation id');
  });

  it('a unique-value clash is a CONFLICT that names the existing record', () => {
    const e = errorFromAnswer(answer(400, errorBody('VALIDATION_ERROR', uniqueClashMessage('reg-1', '30000000001'))), 'deals.create');
    expect(e).toMatchObject({ code: 'CONFLICT', existingId: '30000000001', crmCode: 'VALIDATION_ERROR' });
  });

  it('an HTML gateway page is TEMPORARY and stays out of the message', () => {
    const e = errorFromAnswer(answer(502, '<html><body><h1>502 Gateway error</h1></body></html>'), 'deals.list');
    expect(e.code).toBe('TEMPORARY');
    expect(e.message).not.toContain('<');
  });

  it('feeds the retry decision: 429 pauses for Retry-After, 5xx retries, 400 fails, 401 parks', () => {
    const never = () => 0;
    expect(decideRetry(errorFromAnswer(answer(429, {}, { 'retry-after': '3' }), 'x'), 1, never)).toMatchObject({ action: 'pause', waitMs: 3000 });
    expect(decideRetry(errorFromAnswer(answer(503, {}), 'x'), 1, never).action).toBe('retry');
    expect(decideRetry(errorFromAnswer(answer(400, errorBody('VALIDATION_ERROR', 'bad')), 'x'), 1, never).action).toBe('fail');
    expect(decideRetry(errorFromAnswer(answer(401, errorBody('INVALID_AUTHENTICATION', 'no')), 'x'), 1, never).action).toBe('park');
  });
});

describe('uniqueValueClash and batch items', () => {
  it('finds the property and the existing id inside "Property values were not valid: [...]"', () => {
    expect(uniqueValueClash({ message: uniqueClashMessage('reg-9', '30000000042') })).toEqual({ propertyName: 'dealreg_registration_id', existingId: '30000000042' });
    expect(uniqueValueClash({ message: 'Property values were not valid: [{"isValid":false,"message":"x is not a valid decimal","error":"INVALID_DECIMAL","name":"amount"}]' })).toBeNull();
    expect(uniqueValueClash({ message: 'A deal already has that value' })).toEqual({ propertyName: null, existingId: null });
  });

  it('maps batch error categories', () => {
    expect(errorFromBatchItem({ category: 'OBJECT_NOT_FOUND', message: 'gone' }, 'op').code).toBe('NOT_FOUND');
    expect(errorFromBatchItem({ category: 'VALIDATION_ERROR', message: 'bad' }, 'op').code).toBe('INVALID');
    expect(errorFromBatchItem({ category: 'VALIDATION_ERROR', message: uniqueClashMessage('r', '5') }, 'op')).toMatchObject({ code: 'CONFLICT', existingId: '5' });
    expect(errorFromBatchItem({ category: 'INTERNAL_ERROR', message: 'oops' }, 'op').code).toBe('TEMPORARY');
  });
});
