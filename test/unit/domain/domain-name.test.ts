import { isFreeEmailDomain, normaliseDomain, registrableDomain, sameRegistrableDomain } from '../../../src/domain/domain-name';
import { BUILT_IN_COMPANY_DOMAINS } from '../../../src/domain/free-email-domains';

describe('normaliseDomain', () => {
  describe('reduces URLs, hostnames and e-mail addresses to the registrable domain', () => {
    it.each([
      ['the DESIGN.md example', 'https://www.EU.Acme.co.uk/x', 'acme.co.uk'],
      ['a bare domain', 'acme.com', 'acme.com'],
      ['uppercase', 'ACME.COM', 'acme.com'],
      ['surrounding whitespace', '  acme.com \t', 'acme.com'],
      ['a trailing dot', 'acme.com.', 'acme.com'],
      ['a sub-domain', 'shop.eu.acme.com', 'acme.com'],
      ['a port', 'acme.com:8080', 'acme.com'],
      ['a URL with path, query and fragment', 'http://www.acme.com/about?x=1#team', 'acme.com'],
      ['a URL with credentials', 'https://user:pw@acme.com/', 'acme.com'],
      ['a protocol-relative URL', '//acme.com/x', 'acme.com'],
      ['an e-mail address', 'bob@acme.com', 'acme.com'],
      ['an e-mail address on a sub-domain, uppercase', 'Bob.Smith@Mail.ACME.co.uk', 'acme.co.uk'],
      ['a mailto: link', 'mailto:bob@acme.com', 'acme.com'],
      ['a two-level public suffix', 'www.acme.com.au', 'acme.com.au'],
      ['a new gTLD', 'acme.io', 'acme.io'],
      ['an IDN, to punycode', 'münchen.de', 'xn--mnchen-3ya.de'],
      ['an IDN URL in uppercase', 'https://WWW.MÜNCHEN.DE/', 'xn--mnchen-3ya.de'],
      ['an IDN with an IDN top-level domain', 'пример.рф', 'xn--e1afmkfd.xn--p1ai'],
      ['a domain already in punycode', 'xn--mnchen-3ya.de', 'xn--mnchen-3ya.de'],
      ['full-width letters', 'ＡＣＭＥ.com', 'acme.com'],
      ['an ideographic full stop', 'acme。com', 'acme.com'],
      ['a company on a private suffix (github.io)', 'https://acme.github.io/docs', 'acme.github.io'],
      ['a company on a private suffix (myshopify.com)', 'acme.myshopify.com', 'acme.myshopify.com'],
      ['a sub-domain of a company on a private suffix', 'blog.acme.github.io', 'acme.github.io'],
      ['facebook.com, a company the free-mail list wrongly names', 'facebook.com', 'facebook.com'],
    ])('%s: %s → %s', (_what, input, domain) => {
      expect(normaliseDomain(input)).toEqual({ ok: true, domain, input });
    });
  });

  describe('refuses what is not a company domain as INVALID_DOMAIN', () => {
    it.each([
      ['an empty string', '', /enter the company's web domain/i],
      ['only whitespace', '   ', /enter the company's web domain/i],
      ['an IPv4 address', '192.168.0.1', /IP address/],
      ['an IPv4 URL with a port', 'http://10.0.0.1:8080/', /IP address/],
      ['an IPv6 address', '2001:db8::1', /IP address/],
      ['a bracketed IPv6 URL', 'http://[::1]:80/', /IP address/],
      ['a short-form IPv4 address', '1.2.3', /IP address/],
      ['localhost', 'localhost', /reserved name/],
      ['a .test name', 'acme.test', /reserved name/],
      ['a .local name', 'printer.local', /reserved name/],
      ['example.com', 'www.example.com', /reserved name/],
      ['a bare public suffix', 'co.uk', /public suffix/],
      ['a bare top-level domain', 'com', /public suffix/],
      ['a bare private suffix', 'github.io', /public suffix/],
      ['a name without a top-level domain', 'acme', /no top-level domain/],
      ['an unknown top-level domain', 'acme.notarealtld', /known top-level domain/],
      ['a label longer than 63 characters', `${'a'.repeat(64)}.com`, /not a valid web domain/],
      ['a hostname longer than 253 characters', `${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}.com`, /not a valid web domain/],
      ['an underscore', 'acme_corp.com', /letters, digits and hyphens/],
      ['an empty label', 'acme..com', /not a valid web domain/],
      ['a leading hyphen', '-acme.com', /not a valid web domain/],
      ['a space inside', 'acme .com', /not a valid web domain/],
      ['a company name instead of a domain', 'Acme Inc', /not a valid web domain/],
      ['a wildcard', '*.acme.com', /not a valid web domain/],
      ['broken punycode', 'xn--zz.com', /not a valid web domain/],
      ['input over 2048 characters', `${'a'.repeat(2050)}.com`, /too long/],
    ])('%s: %j', (_what, input, message) => {
      const result = normaliseDomain(input);
      expect(result).toMatchObject({ ok: false, code: 'INVALID_DOMAIN', input, domain: null });
      expect(!result.ok && result.message).toMatch(message);
    });

    it('cuts a long input short when it echoes it in the message', () => {
      const input = `${'a'.repeat(200)} b.com`;
      const result = normaliseDomain(input);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.message.length).toBeLessThan(200);
    });
  });

  describe('refuses consumer mailbox providers as FREE_EMAIL_DOMAIN', () => {
    it.each([
      ['gmail.com', 'gmail.com', 'gmail.com'],
      ['a gmail address in uppercase', 'Bob@GMAIL.com', 'gmail.com'],
      ['a URL on a free-mail provider', 'https://mail.yahoo.co.uk/', 'yahoo.co.uk'],
      ['outlook.com', 'outlook.com', 'outlook.com'],
      ['hotmail.com', 'hotmail.com', 'hotmail.com'],
      ['proton mail', 'protonmail.com', 'protonmail.com'],
      ['web.de', 'web.de', 'web.de'],
      ['a listed IDN, compared in punycode', 'müll.email', 'xn--mll-hoa.email'],
      ['a listed sub-domain whose parent is also listed', '1.kerl.cf', 'kerl.cf'],
    ])('%s: %j', (_what, input, domain) => {
      const result = normaliseDomain(input);
      expect(result).toMatchObject({ ok: false, code: 'FREE_EMAIL_DOMAIN', input, domain });
    });

    it('rejects gmail.com with a message that says what to do instead', () => {
      const result = normaliseDomain('gmail.com');
      expect(!result.ok && result.message).toBe(
        "gmail.com is a free e-mail provider, not a company domain: register the company's own web domain (e.g. acme.com).",
      );
    });

    it('shows an IDN free-mail domain in Unicode in the message', () => {
      const result = normaliseDomain('müll.email');
      expect(!result.ok && result.message).toMatch(/^müll\.email is a free e-mail provider/);
    });

    it('adds the policy extras, in any case and form', () => {
      const opts = { extraFreeEmailDomains: ['Mailbox.Example-ISP.net.'] };
      expect(normaliseDomain('bob@mailbox.example-isp.net', opts)).toMatchObject({ code: 'FREE_EMAIL_DOMAIN', domain: 'example-isp.net' });
      expect(normaliseDomain('example-isp.net', opts)).toMatchObject({ ok: true });
      expect(normaliseDomain('isp-mail.de', { extraFreeEmailDomains: ['isp-mail.de'] })).toMatchObject({ code: 'FREE_EMAIL_DOMAIN' });
      expect(normaliseDomain('isp-mail.de')).toMatchObject({ ok: true });
    });

    it('lets a policy exception win over the built-in list', () => {
      expect(normaliseDomain('zoho.com')).toMatchObject({ code: 'FREE_EMAIL_DOMAIN' });
      expect(normaliseDomain('www.zoho.com', { notFreeEmailDomains: ['ZOHO.com.'] })).toEqual({ ok: true, domain: 'zoho.com', input: 'www.zoho.com' });
    });

    it('lets a policy exception win over a policy extra', () => {
      const opts = { extraFreeEmailDomains: ['acme.com'], notFreeEmailDomains: ['acme.com'] };
      expect(normaliseDomain('acme.com', opts)).toMatchObject({ ok: true });
    });

    it('lets a policy extra re-list a built-in company exception', () => {
      expect(normaliseDomain('twitter.com')).toMatchObject({ ok: true });
      expect(normaliseDomain('twitter.com', { extraFreeEmailDomains: ['twitter.com'] })).toMatchObject({ code: 'FREE_EMAIL_DOMAIN' });
    });

    it.each(BUILT_IN_COMPANY_DOMAINS)('treats %s, a real company the package lists, as a company domain', (domain) => {
      expect(normaliseDomain(domain)).toEqual({ ok: true, domain, input: domain });
    });
  });
});

describe('isFreeEmailDomain', () => {
  it.each([
    ['gmail.com', {}, true],
    ['bob@gmail.com', {}, true],
    ['acme.com', {}, false],
    ['not a domain', {}, false],
    ['facebook.com', {}, false],
    ['acme.com', { extraFreeEmailDomains: ['acme.com'] }, true],
    ['gmail.com', { notFreeEmailDomains: ['gmail.com'] }, false],
  ])('%s with %j → %s', (domain, opts, expected) => {
    expect(isFreeEmailDomain(domain, opts)).toBe(expected);
  });
});

describe('registrableDomain and sameRegistrableDomain', () => {
  it('gives the registrable domain of usable and free-mail domains, null for junk', () => {
    expect(registrableDomain('https://www.acme.co.uk/')).toBe('acme.co.uk');
    expect(registrableDomain('gmail.com')).toBe('gmail.com');
    expect(registrableDomain('localhost')).toBeNull();
  });

  it('compares domains by their registrable domain', () => {
    expect(sameRegistrableDomain('www.Acme.com', 'acme.com.')).toBe(true);
    expect(sameRegistrableDomain('acme.com', 'acme.co.uk')).toBe(false);
    expect(sameRegistrableDomain('münchen.de', 'xn--mnchen-3ya.de')).toBe(true);
    expect(sameRegistrableDomain('Not A Domain', 'not a domain')).toBe(true);
  });
});
