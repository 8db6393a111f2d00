// Signatures HubSpot puts on requests it sends (webhooks, card fetches).
// v3: base64 HMAC-SHA256 keyed with the app's client secret over method + URI + body + timestamp.
// v2: hex SHA-256 of client secret + method + URI + body.
import { createHash, createHmac } from 'node:crypto';

/** HubSpot signs the URI with these percent-escapes decoded (its docs list exactly these). */
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'",
  '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function signedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()] ?? m);
}

export function signatureV3(clientSecret: string, method: string, uri: string, body: string, timestamp: number | string): string {
  return createHmac('sha256', clientSecret).update(`${method}${signedUri(uri)}${body}${timestamp}`).digest('base64');
}

export function signatureV2(clientSecret: string, method: string, uri: string, body: string): string {
  return createHash('sha256').update(`${clientSecret}${method}${signedUri(uri)}${body}`).digest('hex');
}
