// 18-char ids and the SOQL literals dealreg builds (nothing in them can inject).
import { toId18 } from '../../../../src/crm/salesforce/salesforce-ids';
import { isApiName, parseInstant, soqlDateTimeAtOrAfter, soqlId, soqlIdList } from '../../../../src/crm/salesforce/salesforce-soql';

describe('toId18', () => {
  it('adds the case suffix to a 15-char id, and recomputes it for an 18-char one', () => {
    expect(toId18('0015000000VALDt')).toBe('0015000000VALDtAAP');
    expect(toId18('0015000000VALDtAAP')).toBe('0015000000VALDtAAP');
    expect(toId18('0015000000VALDtzzz')).toBe('0015000000VALDtAAP');
    expect(toId18('001a000001jza0m')).not.toBe(toId18('001A000001JzA0m')); // ids are case-sensitive
  });

  it('refuses what is not id-shaped', () => {
    for (const bad of ['', '001', '0015000000VALD!', "001' OR ''='", '0015000000VALDtAA', '0015000000VALDtAAP1']) expect(toId18(bad)).toBeNull();
  });
});

describe('SOQL literals', () => {
  it('ids are quoted 18-char ids; anything else is refused', () => {
    expect(soqlId('0015000000VALDt')).toBe("'0015000000VALDtAAP'");
    expect(soqlIdList(['0015000000VALDt', '0015000000VALDtAAP'])).toBe("('0015000000VALDtAAP','0015000000VALDtAAP')");
    expect(() => soqlId("x' OR Name != '")).toThrow(expect.objectContaining({ code: 'INVALID', crmCode: 'MALFORMED_ID' }));
  });

  it('a datetime literal rounds the instant up to a whole second (SystemModstamp has no milliseconds)', () => {
    expect(soqlDateTimeAtOrAfter(Date.parse('2026-11-20T10:00:00.000Z'))).toBe('2026-11-20T10:00:00Z');
    expect(soqlDateTimeAtOrAfter(Date.parse('2026-11-20T10:00:00.001Z'))).toBe('2026-11-20T10:00:01Z');
    expect(soqlDateTimeAtOrAfter(Date.parse('2026-11-20T23:59:59.999Z'))).toBe('2026-11-21T00:00:00Z');
  });

  it('field names are API names, never expressions', () => {
    expect(isApiName('Dealreg_Status__c')).toBe(true);
    expect(isApiName('Account.Name')).toBe(false);
    expect(isApiName('Id FROM User --')).toBe(false);
  });

  it('parseInstant refuses what is not a timestamp', () => {
    expect(parseInstant('2026-11-20T10:00:00.000+0000')).toBe(Date.parse('2026-11-20T10:00:00Z'));
    expect(() => parseInstant('last tuesday')).toThrow(expect.objectContaining({ crmCode: 'INVALID_CURSOR' }));
  });
});
