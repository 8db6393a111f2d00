// Salesforce record ids in the one form dealreg stores and compares: 18 characters. The first 15 are
// case-sensitive and decide; the last 3 encode their case so that the id survives case-insensitive
// systems. The REST API answers with 18-char ids, people paste 15-char ones (from URLs, reports), and
// CDC events carry 18. Normalising at the adapter edge keeps "the same record" one string everywhere.
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/;

function suffixOf(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i; // an upper-case letter
    }
    out += SUFFIX_ALPHABET[bits];
  }
  return out;
}

/** The 18-char form of a 15- or 18-char id (the suffix recomputed from the first 15); null when `value` is not id-shaped. */
export function toId18(value: string): string | null {
  if (!ID_SHAPE.test(value)) return null;
  const id15 = value.slice(0, 15);
  return id15 + suffixOf(id15);
}

