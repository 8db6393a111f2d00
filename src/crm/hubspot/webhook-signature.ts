// HubSpot request signature v3 (webhooks; card fetches are signed the same way). Pure: no I/O, no clock
// of its own (the caller passes `nowMs`).
//
//   X-HubSpot-Signature-v3      = base64( HMAC-SHA256( clientSecret, method + uri + rawBody + timestamp ) )
//   X-HubSpot-Request-Timestamp = milliseconds since the epoch, when HubSpot sent the request
//
// The uri is the full target URL HubSpot called (scheme, host, path, query) with the percent-escapes that
// HubSpot lists decoded. Requests older than 5 minutes (or more than 5 minutes in the future) are
// refused. The comparison is constant-time over the base64 text. We do not use the SDK's
// `Signature.isValid`: it throws on a stale timestamp, compares with `===` and does not decode the URI.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_V3_HEADER = 'x-hubspot-signature-v3';
export const REQUEST_TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const DEFAULT_MAX_SIGNATURE_AGE_MS = 300_000;

/** HubSpot signs the URI with exactly these escapes decoded (its "Validating requests" page lists them). */
const DECODED: Readonly<Record<string, string>> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'",
  '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};
const ESCAPES = /%(?:3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

/** The URI as HubSpot signs it: the listed escapes decoded, every other byte as sent. */
export function hubspotSignedUri(uri: string): string {
  return uri.replace(ESCAPES, (m) => DECODED[m.toUpperCase()] ?? m);
}

/** The v3 signature HubSpot would send for this request (base64). */
export function computeHubspotSignatureV3(args: { secret: string; method: string; uri: string; rawBody: Buffer | string; timestamp: string }): string {
  return createHmac('sha256', args.secret)
    .update(`${args.method.toUpperCase()}${hubspotSignedUri(args.uri)}`, 'utf8')
    .update(typeof args.rawBody === 'string' ? Buffer.from(args.rawBody, 'utf8') : args.rawBody)
    .update(args.timestamp, 'utf8')
    .digest('base64');
}

export interface VerifyHubspotSignatureV3Input {
  method: string;
  /** The full URL HubSpot called, e.g. `https://dealreg.example.com/webhooks/hubspot?x=1`. */
  uri: string;
  /** The body bytes exactly as received (never re-serialised JSON). */
  rawBody: Buffer | string;
  /** `X-HubSpot-Request-Timestamp` (ms since the epoch). */
  timestamp: string | undefined;
  /** `X-HubSpot-Signature-v3`. */
  signature: string | undefined;
  /** The app's client secret (or a private app's webhook secret). */
  secret: string;
  nowMs: number;
  maxAgeMs?: number;
}

/**
 * - `missing`: no signature, no timestamp, or a timestamp that is not a number of milliseconds;
 * - `stale`: the timestamp is more than `maxAgeMs` away from `nowMs`, in either direction (replays);
 * - `mismatch`: the signature does not match (forged, tampered, wrong secret, different URI).
 */
export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

const MILLIS = /^\d{1,16}$/;

export function verifyHubspotSignatureV3(input: VerifyHubspotSignatureV3Input): SignatureCheck {
  const maxAgeMs = input.maxAgeMs ?? DEFAULT_MAX_SIGNATURE_AGE_MS;
  const signature = input.signature?.trim();
  const timestamp = input.timestamp?.trim();
  if (!signature || !timestamp || !MILLIS.test(timestamp)) return { ok: false, reason: 'missing' };
  const sentAt = Number(timestamp);
  if (!Number.isFinite(input.nowMs) || Math.abs(input.nowMs - sentAt) > maxAgeMs) return { ok: false, reason: 'stale' };
  if (input.secret.length === 0) return { ok: false, reason: 'mismatch' };

  const expected = Buffer.from(computeHubspotSignatureV3({ secret: input.secret, method: input.method, uri: input.uri, rawBody: input.rawBody, timestamp }), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; a different length is simply a mismatch (the length of a
  // base64 SHA-256 digest is public anyway).
  if (given.length !== expected.length) return { ok: false, reason: 'mismatch' };
  return timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
