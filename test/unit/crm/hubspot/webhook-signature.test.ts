// Signature v3 verification, checked three ways: our verifier, an HMAC computed here from HubSpot's
// documented recipe, and (for fresh, unescaped requests, where it works) the SDK's Signature.isValid.
// Nothing is mocked: real crypto, real timingSafeEqual.
import { createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import { computeHubspotSignatureV3, hubspotSignedUri, verifyHubspotSignatureV3 } from '../../../../src/crm/hubspot/webhook-signature';

const SECRET = 'b3d2a1c0-1111-4222-8333-944455556666';
const URI = 'https://dealreg.example.com/webhooks/hubspot';
const BODY = JSON.stringify([
  { eventId: 1000000001, subscriptionId: 2000001, portalId: 40000001, appId: 3000001, occurredAt: 1763900000000, subscriptionType: 'deal.propertyChange', attemptNumber: 0, objectId: 30000000002, propertyName: 'dealname', propertyValue: 'Zürich — Ünïcode deal', changeSource: 'CRM_UI', sourceId: 'userId:7' },
]);

/** HubSpot's recipe, written independently of the module under test. */
function independentSignature(secret: string, method: string, signedUri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret).update(Buffer.from(method + signedUri + body + timestamp, 'utf8')).digest('base64');
}

function sdkIsValid(o: { signature: string; body: string; uri: string; timestamp: string; secret?: string }): boolean {
  return Signature.isValid({ signatureVersion: 'v3', method: 'POST', clientSecret: o.secret ?? SECRET, requestBody: o.body, url: o.uri, signature: o.signature, timestamp: Number(o.timestamp) });
}

const fresh = () => {
  const nowMs = Date.now();
  const timestamp = String(nowMs - 1500);
  return { nowMs, timestamp, signature: independentSignature(SECRET, 'POST', URI, BODY, timestamp) };
};

describe('verifyHubspotSignatureV3', () => {
  it('accepts a correctly signed request, and agrees with an independent HMAC and with the SDK', () => {
    const { nowMs, timestamp, signature } = fresh();
    expect(computeHubspotSignatureV3({ secret: SECRET, method: 'POST', uri: URI, rawBody: BODY, timestamp })).toBe(signature);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: Buffer.from(BODY, 'utf8'), timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: true });
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: true });
    expect(sdkIsValid({ signature, body: BODY, uri: URI, timestamp })).toBe(true);
  });

  it('signs the raw bytes: a body re-serialised with different whitespace is a mismatch', () => {
    const { nowMs, timestamp, signature } = fresh();
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 1);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: reserialised, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a forged body (the signature of another body) and the SDK agrees', () => {
    const { nowMs, timestamp, signature } = fresh();
    const forged = BODY.replace('dealname', 'amount');
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: forged, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(sdkIsValid({ signature, body: forged, uri: URI, timestamp })).toBe(false);
  });

  it('refuses a signature made with another secret and the SDK agrees', () => {
    const { nowMs, timestamp } = fresh();
    const signature = independentSignature('another-secret', 'POST', URI, BODY, timestamp);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(sdkIsValid({ signature, body: BODY, uri: URI, timestamp })).toBe(false);
  });

  it('refuses a signature over another URI, another method or another timestamp', () => {
    const { nowMs, timestamp, signature } = fresh();
    const base = { rawBody: BODY, signature, secret: SECRET, nowMs };
    expect(verifyHubspotSignatureV3({ ...base, method: 'POST', uri: 'https://evil.example.com/webhooks/hubspot', timestamp })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyHubspotSignatureV3({ ...base, method: 'PUT', uri: URI, timestamp })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyHubspotSignatureV3({ ...base, method: 'POST', uri: URI, timestamp: String(Number(timestamp) + 1) })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('treats a signature of the wrong length as a mismatch without throwing', () => {
    const { nowMs, timestamp, signature } = fresh();
    const base = { method: 'POST', uri: URI, rawBody: BODY, timestamp, secret: SECRET, nowMs };
    for (const s of ['x', signature.slice(0, -1), `${signature}A`, signature + signature, 'é'.repeat(44)]) {
      expect(verifyHubspotSignatureV3({ ...base, signature: s })).toEqual({ ok: false, reason: 'mismatch' });
    }
    // Same length, one character off.
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(verifyHubspotSignatureV3({ ...base, signature: flipped })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a timestamp older than 5 minutes as stale (the SDK throws instead)', () => {
    const nowMs = Date.now();
    const timestamp = String(nowMs - 300_001);
    const signature = independentSignature(SECRET, 'POST', URI, BODY, timestamp);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'stale' });
    expect(() => sdkIsValid({ signature, body: BODY, uri: URI, timestamp })).toThrow(/Timestamp is invalid/);
  });

  it('accepts exactly 5 minutes of age, and honours maxAgeMs', () => {
    const nowMs = 1_800_000_000_000;
    const timestamp = String(nowMs - 300_000);
    const signature = independentSignature(SECRET, 'POST', URI, BODY, timestamp);
    const input = { method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs };
    expect(verifyHubspotSignatureV3(input)).toEqual({ ok: true });
    expect(verifyHubspotSignatureV3({ ...input, maxAgeMs: 299_999 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a timestamp more than 5 minutes in the future (the SDK would accept it)', () => {
    const nowMs = Date.now();
    const timestamp = String(nowMs + 300_001);
    const signature = independentSignature(SECRET, 'POST', URI, BODY, timestamp);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'stale' });
    expect(sdkIsValid({ signature, body: BODY, uri: URI, timestamp })).toBe(true);
  });

  it('says missing when a header is absent, empty or not a number of milliseconds', () => {
    const { nowMs, timestamp, signature } = fresh();
    const base = { method: 'POST', uri: URI, rawBody: BODY, secret: SECRET, nowMs };
    expect(verifyHubspotSignatureV3({ ...base, timestamp, signature: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp: undefined, signature })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp: undefined, signature: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp, signature: '' })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp: '', signature })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp: '2026-11-23T10:00:00Z', signature })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3({ ...base, timestamp: '-5', signature })).toEqual({ ok: false, reason: 'missing' });
  });

  it('never accepts anything with an empty secret', () => {
    const { nowMs, timestamp } = fresh();
    const signature = independentSignature('', 'POST', URI, BODY, timestamp);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri: URI, rawBody: BODY, timestamp, signature, secret: '', nowMs })).toEqual({ ok: false, reason: 'mismatch' });
  });

  describe('escaped URI characters', () => {
    const RAW = 'https://dealreg.example.com/webhooks/hubspot?tenant=a%3Ab%2Fc%3Fd%40e%21f%24g%27h%28i%29j%2Ak%2Cl%3Bm&space=x%20y&pct=100%25';
    const DECODED = "https://dealreg.example.com/webhooks/hubspot?tenant=a:b/c?d@e!f$g'h(i)j*k,l;m&space=x%20y&pct=100%25";

    it('decodes exactly the escapes HubSpot lists (any case) and leaves the others alone', () => {
      expect(hubspotSignedUri(RAW)).toBe(DECODED);
      expect(hubspotSignedUri('https://x.example/a%3ab%2fc')).toBe('https://x.example/a:b/c');
      expect(hubspotSignedUri('https://x.example/a%2520b')).toBe('https://x.example/a%2520b');
    });

    it('accepts a signature HubSpot made over the decoded URI when given the URI as received', () => {
      const nowMs = Date.now();
      const timestamp = String(nowMs);
      const signature = independentSignature(SECRET, 'POST', DECODED, BODY, timestamp);
      expect(verifyHubspotSignatureV3({ method: 'POST', uri: RAW, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: true });
      expect(verifyHubspotSignatureV3({ method: 'POST', uri: DECODED, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: true });
      // The SDK does not decode: handed the URI as received, it refuses HubSpot's signature.
      expect(sdkIsValid({ signature, body: BODY, uri: RAW, timestamp })).toBe(false);
    });

    it('refuses a signature over the still-escaped URI (HubSpot never signs that)', () => {
      const nowMs = Date.now();
      const timestamp = String(nowMs);
      const signature = independentSignature(SECRET, 'POST', RAW, BODY, timestamp);
      expect(verifyHubspotSignatureV3({ method: 'POST', uri: RAW, rawBody: BODY, timestamp, signature, secret: SECRET, nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    });
  });

  it('agrees with the sandbox’s signer, which is what the end-to-end tests deliver with', async () => {
    const { signatureV3 } = await import('../../../../src/sandbox/hubspot');
    const nowMs = Date.now();
    const uri = 'http://127.0.0.1:4321/webhooks/hubspot?x=%3A';
    const signature = signatureV3(SECRET, 'POST', uri, BODY, nowMs);
    expect(verifyHubspotSignatureV3({ method: 'POST', uri, rawBody: BODY, timestamp: String(nowMs), signature, secret: SECRET, nowMs })).toEqual({ ok: true });
  });
});
