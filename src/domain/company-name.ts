// Company names: a normalised key for indexed look-ups and a 0..1 similarity for SIMILAR_COMPANY_NAME.
import { distance } from 'fastest-levenshtein';
import { LEADING_LEGAL_FORMS, LEGAL_FORM_CONNECTORS, TRAILING_LEGAL_FORMS } from './company-legal-forms';

// Letters that NFKD does not take apart.
const FOLDED_LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h' };
const TRAILING_FORMS = [...new Set(TRAILING_LEGAL_FORMS)].map((f) => f.split(' ')).sort((a, b) => b.length - a.length);
const LEADING_FORMS = new Set(LEADING_LEGAL_FORMS);
const CONNECTORS = new Set(LEGAL_FORM_CONNECTORS);

/** Lowercase words without diacritics or punctuation; dotted initials joined ("A.C.M.E." → "acme"). */
const words = (name: string): string[] => {
  const plain = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[ßæøœłđðþıħ]/g, (c) => FOLDED_LETTERS[c] ?? c)
    .replace(/&/g, ' and ')
    .replace(/['’ʼ`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  if (plain === '') return [];
  const out: string[] = [];
  let initials = '';
  for (const w of plain.split(' ')) {
    if ([...w].length === 1) {
      initials += w;
      continue;
    }
    if (initials) out.push(initials);
    initials = '';
    out.push(w);
  }
  if (initials) out.push(initials);
  return out;
};

const endsWith = (tokens: string[], form: string[]): boolean =>
  form.length < tokens.length && form.every((w, i) => tokens[tokens.length - form.length + i] === w);

/** Drops legal forms from the end ("GmbH & Co. KG") and from the front ("The"), always keeping one word. */
const stripLegalForms = (all: string[]): string[] => {
  const tokens = [...all];
  while (tokens.length > 1 && LEADING_FORMS.has(tokens[0]!)) tokens.shift();
  for (;;) {
    const form = TRAILING_FORMS.find((f) => endsWith(tokens, f));
    if (!form) break;
    tokens.length -= form.length;
    if (tokens.length > 1 && CONNECTORS.has(tokens[tokens.length - 1]!)) tokens.pop();
  }
  return tokens;
};

/**
 * A normalised company name for indexed look-ups: NFKD without diacritics, lowercase, `&` → "and",
 * punctuation dropped, dotted initials joined, legal forms dropped from the end (inc, ltd, GmbH & Co. KG,
 * S.p.A., Sp. z o.o., ...) and a leading "the". `"Acme Inc."` and `"ACME, Incorporated"` → `"acme"`,
 * `"Müller GmbH & Co. KG"` → `"muller"`. The last remaining word is never dropped ("The Company" →
 * `"company"`), so a name with any letter or digit has a non-empty key; a name with none keys as its
 * trimmed lowercase text.
 */
export const companyNameKey = (name: string): string => {
  const tokens = words(name);
  if (tokens.length === 0) return name.trim().toLowerCase();
  return stripLegalForms(tokens).join(' ');
};

const PREFIX_SCALE = 0.1;
const MAX_PREFIX = 4;
const BOOST_THRESHOLD = 0.7;
const NOT_IDENTICAL_CAP = 0.99;

/**
 * Levenshtein ratio with Winkler's common-prefix boost: base = 1 − distance / longer length; when
 * base ≥ 0.7 it is raised by 0.1 × (shared prefix, at most 4) × (1 − base), as Jaro-Winkler does for
 * people's names: a typo late in a name ("Acmee") matters less than a different start.
 */
const prefixedRatio = (a: string, b: string): number => {
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  const base = 1 - distance(a, b) / longest;
  if (base < BOOST_THRESHOLD) return base;
  let prefix = 0;
  while (prefix < MAX_PREFIX && prefix < a.length && a[prefix] === b[prefix]) prefix += 1;
  return base + prefix * PREFIX_SCALE * (1 - base);
};

const sortedWords = (key: string): string => key.split(' ').sort().join(' ');

/**
 * How alike two company names are, 0..1, on their keys (companyNameKey): 1 when the keys are equal;
 * otherwise the best of the prefix-boosted Levenshtein ratio over (a) the keys, (b) their words sorted
 * ("Smith Johnson" / "Johnson Smith") and (c) the keys without spaces ("Face Book" / "Facebook"),
 * capped at 0.99 so that only the same name scores 1. 0 when either name has no key.
 *
 * Examples: "Acme Inc." / "ACME, Incorporated" → 1; "Acme Corp" / "Acmee Corp" → 0.88;
 * "Acme" / "Acme Robotics" → 0.31.
 */
export const companyNameSimilarity = (a: string, b: string): number => {
  const ka = companyNameKey(a);
  const kb = companyNameKey(b);
  if (ka === '' || kb === '') return 0;
  if (ka === kb) return 1;
  const best = Math.max(
    prefixedRatio(ka, kb),
    prefixedRatio(sortedWords(ka), sortedWords(kb)),
    prefixedRatio(ka.replace(/ /g, ''), kb.replace(/ /g, '')),
  );
  return Math.min(best, NOT_IDENTICAL_CAP);
};
