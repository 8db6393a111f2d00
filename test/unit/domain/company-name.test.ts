import { companyNameKey, companyNameSimilarity } from '../../../src/domain/company-name';
import { defaultPolicy } from '../../../src/domain/policy';

const threshold = defaultPolicy().similarNameThreshold;

describe('companyNameKey', () => {
  it.each([
    ['Acme Inc.', 'acme'],
    ['ACME, Incorporated', 'acme'],
    ['Acme Corporation', 'acme'],
    ['Acme Ltd', 'acme'],
    ['Acme Limited', 'acme'],
    ['acme llc', 'acme'],
    ['The Acme Company Ltd', 'acme'],
    ['A.C.M.E. Corp', 'acme'],
    ['Müller GmbH & Co. KG', 'muller'],
    ['Société Générale S.A.', 'societe generale'],
    ['Fiat S.p.A.', 'fiat'],
    ['Maersk A/S', 'maersk'],
    ['Foo Sp. z o.o.', 'foo'],
    ['Grupo Bimbo, S.A.B. de C.V.', 'grupo bimbo'],
    ['Volvo AB (publ)', 'volvo'],
    ['PT Telkom Indonesia Tbk', 'telkom indonesia'],
    ['ООО Яндекс', 'яндекс'],
    ['Straße Bau GmbH', 'strasse bau'],
    ['Ørsted A/S', 'orsted'],
    ["McDonald's Corporation", 'mcdonalds'],
    ['Procter & Gamble Co', 'procter and gamble'],
    ['Smith & Co.', 'smith'],
    ['AT&T Inc.', 'at and t'],
    ['3M Company', '3m'],
    ['London Zoo', 'london zoo'],
    ['Co-operative Bank plc', 'co operative bank'],
    ['  Acme   Robotics  ', 'acme robotics'],
    ['株式会社トヨタ', '株式会社トヨタ'],
  ])('%j → %j', (name, key) => {
    expect(companyNameKey(name)).toBe(key);
  });

  it.each([
    ['The Company', 'company'],
    ['Inc', 'inc'],
    ['The Limited', 'limited'],
    ['GmbH & Co. KG', 'gmbh'],
  ])('never empties a meaningful name: %j → %j', (name, key) => {
    expect(companyNameKey(name)).toBe(key);
    expect(companyNameKey(name)).not.toBe('');
  });

  it('keys a name without letters or digits as its trimmed lowercase text, and an empty name as ""', () => {
    expect(companyNameKey(' !!! ')).toBe('!!!');
    expect(companyNameKey('   ')).toBe('');
  });
});

describe('companyNameSimilarity', () => {
  it.each([
    ['Acme Inc.', 'ACME, Incorporated', 1, 1],
    ['Müller GmbH', 'Muller', 1, 1],
    ['Acme Corp', 'Acmee Corp', 0.85, 0.99],
    ['Microsoft', 'Microsfot', 0.85, 0.99],
    ['Mueller GmbH', 'Müller GmbH', 0.85, 0.99],
    ['Face Book', 'Facebook Inc', 0.95, 0.99],
    ['Acme', 'Acme Robotics', 0, 0.5],
    ['Acme', 'Acne', 0, 0.84],
    ['Globex', 'Initech', 0, 0.3],
    ['Acme', '', 0, 0],
  ])('%j vs %j scores between %d and %d', (a, b, min, max) => {
    const score = companyNameSimilarity(a, b);
    expect(score).toBeGreaterThanOrEqual(min);
    expect(score).toBeLessThanOrEqual(max);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['Acme Corp', 'Acmee Corp'], ['Acme', 'Acme Robotics'], ['Smith Johnson', 'Johnson Smith Ltd']] as const) {
      expect(companyNameSimilarity(a, b)).toBe(companyNameSimilarity(b, a));
    }
  });

  it('gives 1 only to names with the same key', () => {
    expect(companyNameSimilarity('Smith Johnson', 'Johnson Smith')).toBeLessThan(1);
    expect(companyNameSimilarity('Smith Johnson', 'Johnson Smith')).toBeGreaterThanOrEqual(0.95);
  });

  it('puts "Acme Inc." and "ACME, Incorporated" at or above 0.95', () => {
    expect(companyNameSimilarity('Acme Inc.', 'ACME, Incorporated')).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps "Acme" and "Acme Robotics" clearly below the default threshold', () => {
    expect(companyNameSimilarity('Acme', 'Acme Robotics')).toBeLessThan(threshold - 0.2);
  });

  it('lets a one-letter typo ("Acme Corp" vs "Acmee Corp") reach the default threshold', () => {
    expect(companyNameSimilarity('Acme Corp', 'Acmee Corp')).toBeGreaterThanOrEqual(threshold);
  });
});
