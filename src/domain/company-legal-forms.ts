// Legal-form words dropped from the end of a company name before comparing names ("Acme Inc." = "Acme").
// Written as they look after companyNameKey's clean-up: lowercase, no diacritics, no punctuation, and
// dotted initials joined ("S.p.A." → "spa", "A/S" → "as"). Multi-word forms only match as a whole, so
// "London Zoo" keeps its zoo while "Foo Sp. z o.o." loses "sp zoo".
export const TRAILING_LEGAL_FORMS: readonly string[] = [
  // English-speaking
  'inc', 'incorporated', 'corp', 'corporation', 'co', 'cos', 'company', 'companies', 'llc', 'lllp', 'llp', 'lp',
  'ltd', 'limited', 'plc', 'pllc', 'pc', 'pty', 'pty ltd', 'pte', 'pte ltd', 'pvt', 'pvt ltd', 'private limited',
  'ulc', 'lc',
  // German-speaking
  'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ohg', 'ug', 'ev', 'eg', 'gbr', 'se',
  // French, Spanish, Italian, Portuguese
  'sa', 'sas', 'sasu', 'sarl', 'eurl', 'sca', 'scs', 'snc', 'sl', 'slu', 'srl', 'srls', 'spa', 'sapa',
  'ltda', 'sa de cv', 'sab de cv', 's de rl', 's de rl de cv', 'lda', 'cv',
  // Dutch, Belgian, Nordic
  'bv', 'nv', 'cvba', 'bvba', 'vof', 'oy', 'oyj', 'ab', 'publ', 'ab publ', 'as', 'asa', 'aps', 'hf', 'ehf',
  // Central and Eastern Europe
  'sro', 'spol sro', 'kft', 'zrt', 'nyrt', 'bt', 'doo', 'dd', 'ad', 'ood', 'eood', 'sp zoo', 'sp j', 'sp k',
  // Asia-Pacific
  'kk', 'yk', 'gk', 'bhd', 'sdn bhd', 'tbk', 'pt tbk', 'jsc', 'pjsc', 'ojsc', 'cjsc', 'ooo', 'oao', 'zao', 'pao',
];

/** Words dropped from the front of a name when more words follow ("The Acme Company", "PT Telkom", "OOO Yandex"). */
export const LEADING_LEGAL_FORMS: readonly string[] = ['the', 'pt', 'ooo', 'oao', 'zao', 'pao', 'ооо', 'оао', 'зао', 'пао'];

/** Joins legal forms in the middle of a trailing run: "GmbH & Co. KG", "Smith and Co". */
export const LEGAL_FORM_CONNECTORS: readonly string[] = ['and', 'und', 'et', 'y', 'e'];
