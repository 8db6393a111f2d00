// Free-mail (consumer mailbox) domains: the free-email-domains-list package, plus a workspace's extras,
// minus its exceptions. Everything is compared in lowercase ASCII (punycode) form.
import { domainToASCII } from 'node:url';
import { DOMAINS } from 'free-email-domains-list';

export interface FreeEmailOptions {
  /** Extra consumer-mail domains (policy.freeEmailDomains). */
  extraFreeEmailDomains?: readonly string[];
  /** Domains the list names that are companies for this workspace (policy.notFreeEmailDomains). Win over everything. */
  notFreeEmailDomains?: readonly string[];
}

/**
 * Real companies the package lists because they once handed out mailboxes. A workspace can still list
 * them in policy.freeEmailDomains; `notFreeEmailDomains` adds more exceptions.
 */
export const BUILT_IN_COMPANY_DOMAINS: readonly string[] = [
  'alibaba.com',
  'att.com',
  'cnn.com',
  'comcast.com',
  'facebook.com',
  'twitter.com',
  'verizon.com',
];

/** Lowercase, trim, drop a trailing dot, convert an IDN to punycode. Falls back to the lowercased text. */
export const asciiDomain = (value: string): string => {
  const lowered = value.trim().toLowerCase().replace(/\.+$/, '');
  if (/^[\x00-\x7f]*$/.test(lowered)) return lowered;
  return domainToASCII(lowered) || lowered;
};

// The package's Set holds ~96k entries, a few in Unicode form: keep their punycode forms beside it
// (built once, at module load) rather than copying the whole list.
const PUNYCODE_FORMS: ReadonlySet<string> = (() => {
  const forms = new Set<string>();
  for (const d of DOMAINS) {
    if (/[^\x00-\x7f]/.test(d)) forms.add(asciiDomain(d));
  }
  return forms;
})();
const BUILT_IN_EXCEPTIONS: ReadonlySet<string> = new Set(BUILT_IN_COMPANY_DOMAINS);

// Policies are immutable values; remember each list's normalised Set so the hot path does not rebuild it.
const setCache = new WeakMap<readonly string[], ReadonlySet<string>>();
const asSet = (list: readonly string[] | undefined): ReadonlySet<string> => {
  if (!list || list.length === 0) return EMPTY;
  let set = setCache.get(list);
  if (!set) {
    set = new Set(list.map(asciiDomain));
    setCache.set(list, set);
  }
  return set;
};
const EMPTY: ReadonlySet<string> = new Set();

const listedAsFree = (name: string, extras: ReadonlySet<string>): boolean =>
  extras.has(name) || ((DOMAINS.has(name) || PUNYCODE_FORMS.has(name)) && !BUILT_IN_EXCEPTIONS.has(name));

/**
 * Whether mail at `domain` is a consumer mailbox. `registrable` (when known) is the registrable domain of
 * `domain`: both are looked up, because the list holds some sub-domains (`1.kerl.cf`). An exception for
 * either name wins.
 */
export const isFreeEmailHost = (domain: string, registrable: string | null, opts: FreeEmailOptions = {}): boolean => {
  const host = asciiDomain(domain);
  const reg = registrable === null ? null : asciiDomain(registrable);
  const notFree = asSet(opts.notFreeEmailDomains);
  if (notFree.has(host) || (reg !== null && notFree.has(reg))) return false;
  const extras = asSet(opts.extraFreeEmailDomains);
  return listedAsFree(host, extras) || (reg !== null && listedAsFree(reg, extras));
};
