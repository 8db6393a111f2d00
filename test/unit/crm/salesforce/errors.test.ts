// Salesforce answers → CRM error codes, pure.
import {
  apiUsage,
  duplicateOf,
  errorFromAnswer,
  errorFromNetwork,
  errorFromOauthAnswer,
  errorFromRecord,
  isRequestLimit,
  isTransientRecordCode,
} from '../../../../src/crm/salesforce/salesforce-errors';

const answer = (status: number, body: unknown) => ({ status, headers: {}, body });
const sf = (errorCode: string, message = 'm') => [{ errorCode, message }];

describe('Sforce-Limit-Info', () => {
  it('reads api-usage=N/M, case-insensitively, and ignores what it cannot read', () => {
    expect(apiUsage({ 'Sforce-Limit-Info': 'api-usage=18/15000' })).toEqual({ used: 18, max: 15000 });
    expect(apiUsage({ 'sforce-limit-info': 'per-app-api-usage=3/100(appName=x), api-usage=25/100000' })).toEqual({ used: 25, max: 100000 });
    expect(apiUsage({ 'sforce-limit-info': 'garbage' })).toBeNull();
    expect(apiUsage({})).toBeNull();
  });
});

describe('request-level errors', () => {
  it.each([
    [401, 'INVALID_SESSION_ID', 'AUTH'],
    [403, 'REQUEST_LIMIT_EXCEEDED', 'RATE_LIMITED'],
    [403, 'INSUFFICIENT_ACCESS', 'AUTH'],
    [429, 'REQUEST_LIMIT_EXCEEDED', 'RATE_LIMITED'],
    [404, 'NOT_FOUND', 'NOT_FOUND'],
    [400, 'MALFORMED_QUERY', 'INVALID'],
    [400, 'INVALID_FIELD', 'INVALID'],
    [400, 'DUPLICATE_VALUE', 'CONFLICT'],
    [400, 'UNABLE_TO_LOCK_ROW', 'TEMPORARY'],
    [409, 'CONFLICT', 'CONFLICT'],
    [500, 'UNKNOWN_EXCEPTION', 'TEMPORARY'],
    [503, 'SERVER_UNAVAILABLE', 'TEMPORARY'],
  ])('%d %s → %s', (status, errorCode, code) => {
    expect(errorFromAnswer(answer(status, sf(errorCode)), 'op')).toMatchObject({ code, status, crmCode: errorCode });
  });

  it('tells the daily limit (403) from the concurrency limit (429) from another 403', () => {
    expect(isRequestLimit(answer(403, sf('REQUEST_LIMIT_EXCEEDED')))).toBe('daily');
    expect(isRequestLimit(answer(429, sf('REQUEST_LIMIT_EXCEEDED')))).toBe('concurrency');
    expect(isRequestLimit(answer(403, sf('API_DISABLED_FOR_ORG')))).toBeNull();
  });

  it('carries the wait only for RATE_LIMITED, and the holder of a duplicate value for CONFLICT', () => {
    expect(errorFromAnswer(answer(429, sf('REQUEST_LIMIT_EXCEEDED')), 'op', 3000).retryAfterMs).toBe(3000);
    expect(errorFromAnswer(answer(400, sf('MALFORMED_QUERY')), 'op', 3000).retryAfterMs).toBeUndefined();
    const dup = errorFromAnswer(answer(400, sf('DUPLICATE_VALUE', 'duplicate value found: Dealreg_Registration_Id__c duplicates value on record with id: 0068d000000001AAAA')), 'op');
    expect(dup).toMatchObject({ code: 'CONFLICT', existingId: '0068d000000001AAAA' });
  });

  it('an HTML page is not pasted into the message; a bare text body is', () => {
    expect(errorFromAnswer(answer(502, '<html><body>Bad gateway</body></html>'), 'query').message).toBe('Salesforce answered 502 to query: (an HTML page)');
    expect(errorFromAnswer(answer(500, 'upstream timeout'), 'query').message).toContain('upstream timeout');
  });
});

describe('record errors (sObject Collections)', () => {
  it.each([
    ['UNABLE_TO_LOCK_ROW', [], 'TEMPORARY'],
    ['DUPLICATE_VALUE', [], 'CONFLICT'],
    ['DUPLICATE_EXTERNAL_ID', ['Dealreg_Registration_Id__c'], 'CONFLICT'],
    ['ENTITY_IS_DELETED', [], 'NOT_FOUND'],
    ['INVALID_CROSS_REFERENCE_KEY', [], 'NOT_FOUND'],
    ['INVALID_CROSS_REFERENCE_KEY', ['AccountId'], 'INVALID'],
    ['REQUIRED_FIELD_MISSING', ['CloseDate'], 'INVALID'],
    ['INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', ['StageName'], 'INVALID'],
    ['FIELD_CUSTOM_VALIDATION_EXCEPTION', [], 'INVALID'],
  ])('%s %j → %s', (statusCode, fields, code) => {
    expect(errorFromRecord({ statusCode, message: 'm', fields }, 'op')).toMatchObject({ code, crmCode: statusCode });
  });

  it('the transient ones are resent inside the call', () => {
    expect(isTransientRecordCode('UNABLE_TO_LOCK_ROW')).toBe(true);
    expect(isTransientRecordCode('DUPLICATE_VALUE')).toBe(false);
    expect(isTransientRecordCode(undefined)).toBe(false);
  });

  it('duplicateOf reads the field and the record holding the value', () => {
    expect(duplicateOf('duplicate value found: Name__c duplicates value on record with id: 0018d000000001A')).toEqual({ field: 'Name__c', existingId: '0018d000000001A' });
    expect(duplicateOf('something else')).toBeNull();
  });
});

describe('transport failures', () => {
  it('fetch’s "fetch failed" with a socket code in its cause is TEMPORARY; other errors are not network problems', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(errorFromNetwork(refused, 'op')).toMatchObject({ code: 'TEMPORARY', crmCode: 'ECONNREFUSED' });
    const closed = new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(errorFromNetwork(closed, 'op')).toMatchObject({ crmCode: 'UND_ERR_SOCKET' });
    expect(errorFromNetwork(new TypeError('Cannot read properties of undefined'), 'op')).toBeNull();
  });
});

describe('OAuth endpoint errors', () => {
  it('dead credentials are AUTH; the rest by status', () => {
    expect(errorFromOauthAnswer(answer(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' }), 'revoke')).toMatchObject({ code: 'AUTH', crmCode: 'invalid_grant' });
    expect(errorFromOauthAnswer(answer(400, { error: 'unsupported_grant_type', error_description: 'x' }), 'revoke')).toMatchObject({ code: 'INVALID' });
    expect(errorFromOauthAnswer(answer(503, 'down'), 'revoke')).toMatchObject({ code: 'TEMPORARY' });
  });
});
