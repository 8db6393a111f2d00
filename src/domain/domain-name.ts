// Company web domains, normalised to the registrable domain with the Public Suffix List (tldts).
//
// Private suffixes count (allowPrivateDomains: true): on platforms such as github.io, myshopify.com or
// herokuapp.com each customer owns a sub-domain, so `acme.github.io` is the registrable domain of Acme,
// not `github.io`. Counting only ICANN suffixes would fold every company on such a platform into one
// "domain", and the first registration on it would block all the others as duplicates. A bare private
// suffix (`github.io`) is refused like `co.uk`.
import { domainToASCII, domainToUnicode } from 'node:url';
import { parse } from 'tldts';
import { isFreeEmailHost, type FreeEmailOptions } from './free-email-domains';

export type { FreeEmailOptions } from './free-email-domains';

export type NormalisedDomain =
  | { ok: true; domain: string; input: string }
  | { ok: false; code: 'INVALID_DOMAIN' | 'FREE_EMAIL_DOMAIN'; message: string; input: string; domain: string | null };

const MAX_INPUT_LENGTH = 2048;
const MAX_HOSTNAME_LENGTH = 253;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLDTS_OPTIONS = { allowPrivateDomains: true, detectIp: true, detectSpecialUse: true } as const;
const EXAMPLE = 'e.g. acme.com';

const invalid = (input: string, message: string): NormalisedDomain => ({
  ok: false,
  code: 'INVALID_DOMAIN',
  message,
  input,
  domain: null,
});

/** Echo user input in a message, cut short. */
const quote = (s: string): string => `"${s.length > 80 ? `${s.slice(0, 77)}...` : s}"`;

/** NFKC folds full-width letters; the IDNA label separators (。．｡) become dots. */
const tidy = (input: string): string => input.trim().normalize('NFKC').replace(/[\u3002\uff0e\uff61]/g, '.');

const hasKnownSuffix = (r: ReturnType<typeof parse>): boolean => r.isIcann === true || r.isPrivate === true;

/**
 * The registrable domain of a URL, hostname or e-mail address (`https://www.EU.Acme.co.uk/x` →
 * `acme.co.uk`, `bob@acme.com` → `acme.com`), in lowercase ASCII (IDNs as punycode), or a refusal:
 * INVALID_DOMAIN for anything that is not a public company domain (IP addresses, localhost and other
 * special-use names, bare public suffixes, unknown top-level domains, malformed labels), and
 * FREE_EMAIL_DOMAIN for consumer mailbox providers (built-in list, plus `extraFreeEmailDomains`, minus
 * `notFreeEmailDomains`).
 */
export const normaliseDomain = (input: string, opts: FreeEmailOptions = {}): NormalisedDomain => {
  if (typeof input !== 'string' || input.trim() === '') {
    return invalid(String(input ?? ''), `Enter the company's web domain (${EXAMPLE}).`);
  }
  if (input.length > MAX_INPUT_LENGTH) {
    return invalid(input, `That is too long to be a web domain: enter the company's web domain (${EXAMPLE}).`);
  }
  const shown = input.trim();

  const first = parse(tidy(input), TLDTS_OPTIONS);
  if (first.isIp) {
    return invalid(input, `${quote(shown)} is an IP address, not a company domain: enter the company's web domain (${EXAMPLE}).`);
  }
  const extracted = first.hostname;
  if (!extracted) {
    return invalid(input, `${quote(shown)} is not a valid web domain: enter the company's web domain (${EXAMPLE}).`);
  }
  const hostname = domainToASCII(extracted);
  if (!hostname || hostname.length > MAX_HOSTNAME_LENGTH || !hostname.split('.').every((l) => LDH_LABEL.test(l))) {
    return invalid(input, `${quote(shown)} is not a valid web domain: use letters, digits and hyphens only (${EXAMPLE}).`);
  }

  // WHATWG host parsing reads "1.2.3" or "0x7f.1" as IPv4 addresses, so look again after conversion.
  const parsed = parse(hostname, TLDTS_OPTIONS);
  if (parsed.isIp) {
    return invalid(input, `${quote(shown)} is an IP address, not a company domain: enter the company's web domain (${EXAMPLE}).`);
  }
  if (parsed.isSpecialUse) {
    return invalid(input, `${quote(hostname)} is a reserved name that cannot belong to a company (such as localhost, .test or example.com): enter the company's real web domain.`);
  }
  const publicSuffixMessage = `${quote(hostname)} is a public suffix shared by many organisations, not a company domain: enter the company's own domain (e.g. acme.${hostname}).`;
  if (hasKnownSuffix(parsed) && parsed.publicSuffix === hostname) return invalid(input, publicSuffixMessage);
  if (!hostname.includes('.')) {
    return invalid(input, `${quote(hostname)} has no top-level domain: enter the full web domain (${EXAMPLE}).`);
  }
  if (!hasKnownSuffix(parsed)) {
    return invalid(input, `${quote(hostname)} does not end in a known top-level domain: check the spelling (${EXAMPLE}).`);
  }
  if (!parsed.domain) return invalid(input, publicSuffixMessage);

  const domain = parsed.domain;
  if (isFreeEmailHost(hostname, domain, opts)) {
    return {
      ok: false,
      code: 'FREE_EMAIL_DOMAIN',
      message: `${domainToUnicode(domain) || domain} is a free e-mail provider, not a company domain: register the company's own web domain (${EXAMPLE}).`,
      input,
      domain,
    };
  }
  return { ok: true, domain, input };
};

/**
 * Whether `domain` (a domain, hostname, URL or e-mail address) belongs to a free e-mail provider. Input
 * that is not a domain at all is not a free-mail domain.
 */
export const isFreeEmailDomain = (domain: string, opts: FreeEmailOptions = {}): boolean => {
  const result = normaliseDomain(domain, opts);
  return !result.ok && result.code === 'FREE_EMAIL_DOMAIN';
};

/** The registrable domain of `input` when it is a usable domain or a free-mail domain; null otherwise. */
export const registrableDomain = (input: string): string | null => {
  return normaliseDomain(input).domain;
};

/** Whether two domain strings name the same registrable domain (unparseable values compare as lowercase text). */
export const sameRegistrableDomain = (a: string, b: string): boolean => {
  const key = (s: string) => registrableDomain(s) ?? s.trim().toLowerCase().replace(/\.+$/, '');
  return key(a) === key(b);
};
