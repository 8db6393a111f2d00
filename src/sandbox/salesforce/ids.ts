// Salesforce record ids: 3-char key prefix + 2-char pod + 1 reserved char + 9-char base62 counter = 15
// case-sensitive chars, plus a 3-char case-insensitivity suffix = the 18-char form the REST API returns.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const POD = '8d';

/** The case-insensitivity suffix of a 15-char id. */
function suffix(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    out += SUFFIX[bits];
  }
  return out;
}

function base62(n: number, width: number): string {
  let s = '';
  let v = n;
  while (v > 0) {
    s = BASE62[v % 62] + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

/** Builds an 18-char id from a key prefix and a counter value. */
export function makeId(prefix: string, counter: number): string {
  const id15 = prefix + POD + '0' + base62(counter, 9);
  return id15 + suffix(id15);
}

const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/;

export function looksLikeId(value: string): boolean {
  return ID_SHAPE.test(value);
}

/**
 * Normalises a 15- or 18-char id to the canonical 18-char form (the first 15 chars are case-sensitive
 * and decide; the suffix is recomputed). Returns null for anything that is not shaped like an id.
 */
export function toId18(value: string): string | null {
  if (value.length !== 15 && value.length !== 18) return null;
  if (!ID_SHAPE.test(value)) return null;
  const id15 = value.slice(0, 15);
  return id15 + suffix(id15);
}

export const KEY_PREFIX = {
  Account: '001',
  Opportunity: '006',
  User: '005',
  Partner: '00I',
  OpportunityPartner: '00I',
  OpportunityStage: '01J',
  RecordType: '012',
  UserRole: '00E',
  Profile: '00e',
  Organization: '00D',
  QueryLocator: '01g',
} as const;

/** The master record type id every org has. */
export const MASTER_RECORD_TYPE_ID = '012000000000000AAA';
