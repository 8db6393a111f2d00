// HubSpot webhook payloads (v3 shape) → our CrmChangeEvent. Pure: the route verifies the signature,
// parses the body with `parseHubspotWebhookBody`, then turns each event into a change event with
// `toCrmChangeEvent`, knowing which app ids are "us" for the connection it stores the event for.
//
// HubSpot POSTs a JSON array of at most 100 events, delivered at least once and out of order. Fields
// (https://developers.hubspot.com/docs/api/webhooks): eventId, subscriptionId, portalId, appId,
// occurredAt (ms), subscriptionType ("deal.propertyChange", or the generic "object.propertyChange" with
// objectTypeId "0-3"), attemptNumber, objectId, propertyName, propertyValue, changeSource, sourceId,
// changeFlag, merge fields (primaryObjectId, mergedObjectIds, newObjectId) and association fields
// (fromObjectId, toObjectId, associationType, associationRemoved).
//
// Events we do not use (contacts, tickets, unknown subscription types, the company side of an
// association change) are ignored with a reason, never an error: HubSpot retries any non-2xx answer.
import { z } from 'zod';
import type { ChangeOrigin, CrmChangeEvent } from '../crm-adapter';

export const MAX_EVENTS_PER_REQUEST = 100;

/** An id: HubSpot sends numbers (safe integers) or, in newer payloads, numeric strings. */
const id = z.union([z.number().int().nonnegative(), z.string().trim().regex(/^\d{1,20}$/, 'a numeric id')]).transform((v) => String(v));
const optionalId = id.nullish();
const text = z.string().nullish();

const wireEventSchema = z.object({
  eventId: id,
  subscriptionId: optionalId,
  portalId: id,
  appId: optionalId,
  occurredAt: z.number().int().min(0).max(8.64e15),
  subscriptionType: z.string().min(1).max(200),
  attemptNumber: z.number().int().nonnegative().nullish(),
  objectId: optionalId,
  objectTypeId: text,
  propertyName: text,
  propertyValue: z.union([z.string(), z.number(), z.boolean()]).nullish(),
  changeSource: text,
  sourceId: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? v : String(v))),
  changeFlag: text,
  primaryObjectId: optionalId,
  mergedObjectIds: z.array(id).nullish(),
  newObjectId: optionalId,
  fromObjectId: optionalId,
  toObjectId: optionalId,
  fromObjectTypeId: text,
  toObjectTypeId: text,
  associationType: text,
  associationRemoved: z.boolean().nullish(),
});

/** One webhook event as HubSpot sends it (validated; ids as strings). */
export type HubspotWebhookEvent = z.output<typeof wireEventSchema>;

const bodySchema = z.array(wireEventSchema).max(MAX_EVENTS_PER_REQUEST, `HubSpot sends at most ${MAX_EVENTS_PER_REQUEST} events per request`);

export type WebhookBodyParse =
  | { ok: true; events: HubspotWebhookEvent[] }
  | { ok: false; message: string; issues: { path: string; message: string }[] };

/** Validates a webhook body (raw bytes, a JSON string, or an already parsed value). Never throws. */
export function parseHubspotWebhookBody(body: Buffer | string | unknown): WebhookBodyParse {
  let value: unknown = body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    try {
      value = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body);
    } catch {
      return { ok: false, message: 'The body is not valid JSON.', issues: [] };
    }
  }
  if (!Array.isArray(value)) return { ok: false, message: 'The body must be a JSON array of HubSpot webhook events.', issues: [] };
  const parsed = bodySchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
    return { ok: false, message: 'The body is not a valid batch of HubSpot webhook events: see details.', issues };
  }
  return { ok: true, events: parsed.data };
}

/** An event we chose not to store, and why. */
export interface IgnoredWebhookEvent {
  eventId: string;
  portalId: string;
  subscriptionType: string;
  reason: string;
}

export type ChangeEventResult = { ok: true; event: CrmChangeEvent } | { ok: false; ignored: IgnoredWebhookEvent };

const OBJECT_TYPE_IDS: Readonly<Record<string, CrmChangeEvent['object']>> = { '0-3': 'opportunity', '0-2': 'account' };
const OBJECT_NAMES: Readonly<Record<string, CrmChangeEvent['object']>> = { deal: 'opportunity', company: 'account' };
const ACTIONS = ['creation', 'propertyChange', 'deletion', 'merge', 'associationChange', 'restore'] as const;
type Action = (typeof ACTIONS)[number];
const isAction = (a: string): a is Action => (ACTIONS as readonly string[]).includes(a);

/** Our own writes come back as INTEGRATION (or API) with our app id as sourceId. */
const SELF_SOURCES = new Set(['INTEGRATION', 'API']);

export function originOf(changeSource: string | null | undefined, sourceId: string | null | undefined, ownAppIds: ReadonlySet<string>): ChangeOrigin {
  const source = changeSource?.trim() || 'UNKNOWN';
  if (SELF_SOURCES.has(source) && sourceId && ownAppIds.has(sourceId.trim())) return { kind: 'self' };
  if (source === 'CRM_UI' && sourceId) {
    const m = /^userId:(\d+)$/.exec(sourceId.trim());
    if (m) return { kind: 'user', userId: m[1]! };
  }
  return { kind: 'other', source };
}

/**
 * One HubSpot event → one CrmChangeEvent, or the reason it is ignored. `ownAppIds` are the app ids whose
 * writes are ours (the public app's id, a private app's id for that connection).
 */
export function toCrmChangeEvent(e: HubspotWebhookEvent, ownAppIds: ReadonlySet<string>): ChangeEventResult {
  const ignore = (reason: string): ChangeEventResult => ({ ok: false, ignored: { eventId: e.eventId, portalId: e.portalId, subscriptionType: e.subscriptionType, reason } });
  const dot = e.subscriptionType.indexOf('.');
  const family = dot > 0 ? e.subscriptionType.slice(0, dot) : '';
  const action = dot > 0 ? e.subscriptionType.slice(dot + 1) : '';
  if (!isAction(action)) return ignore('unsupported subscription type');

  let object: CrmChangeEvent['object'] | undefined;
  if (family === 'object') {
    // Generic form: the object type comes from objectTypeId (association changes: the "from" side).
    const typeId = action === 'associationChange' ? (e.fromObjectTypeId ?? e.objectTypeId) : e.objectTypeId;
    object = typeId ? OBJECT_TYPE_IDS[typeId] : undefined;
    if (!object) return ignore(typeId ? `object type ${typeId} is not synced` : 'objectTypeId is missing');
  } else {
    object = OBJECT_NAMES[family];
    if (!object) return ignore(`${family || 'unknown'} objects are not synced`);
  }

  const base = { eventKey: e.eventId, object, origin: originOf(e.changeSource, e.sourceId, ownAppIds), occurredAt: new Date(e.occurredAt).toISOString() };
  const objectId = e.objectId ?? undefined;
  switch (action) {
    case 'creation':
      if (!objectId) return ignore('objectId is missing');
      return done({ ...base, externalId: objectId, change: 'created', changedFields: [] });
    case 'propertyChange':
      if (!objectId) return ignore('objectId is missing');
      if (!e.propertyName) return ignore('propertyName is missing');
      return done({ ...base, externalId: objectId, change: 'updated', changedFields: [e.propertyName] });
    case 'deletion':
      if (!objectId) return ignore('objectId is missing');
      return done({ ...base, externalId: objectId, change: 'deleted', changedFields: [] });
    case 'restore':
      // Back from the recycle bin: no "restored" change exists, so it is an update of every field
      // (the consumer re-reads the record).
      if (!objectId) return ignore('objectId is missing');
      return done({ ...base, externalId: objectId, change: 'updated', changedFields: [] });
    case 'merge': {
      // The survivor is the record the merge produced: newObjectId when HubSpot created one (contacts
      // used to), else the primary, which keeps its id for deals and companies.
      const survivorId = e.newObjectId || e.primaryObjectId || objectId;
      if (!survivorId) return ignore('primaryObjectId is missing');
      const merged = new Set((e.mergedObjectIds ?? []).filter((x) => x !== survivorId));
      if (e.primaryObjectId && e.primaryObjectId !== survivorId) merged.add(e.primaryObjectId);
      return done({ ...base, externalId: survivorId, change: 'merged', changedFields: [], merge: { survivorId, mergedIds: [...merged] } });
    }
    case 'associationChange': {
      // Each association change arrives once per side; the deal side is the one we keep (a deal's
      // companies). Associations to other objects (contacts, line items) do not matter to us.
      if (object !== 'opportunity') return ignore('company side of an association change (the deal side carries it)');
      const dealId = e.fromObjectId ?? objectId;
      if (!dealId) return ignore('fromObjectId is missing');
      const toType = e.toObjectTypeId ?? (e.associationType ? (/COMPANY/i.test(e.associationType) ? '0-2' : 'other') : undefined);
      if (toType !== undefined && toType !== '0-2') return ignore('association to an object that is not a company');
      return done({ ...base, externalId: dealId, change: 'associated', changedFields: [] });
    }
  }
}

function done(event: CrmChangeEvent): ChangeEventResult {
  return { ok: true, event };
}

/**
 * A whole body at once: validation plus mapping, with one set of app ids for every portal. Throws
 * WebhookBodyError for a malformed body.
 */
export function parseHubspotWebhookEvents(
  body: Buffer | string | unknown,
  opts: { appIds: Iterable<string | null | undefined> },
): { events: { portalId: string; event: CrmChangeEvent }[]; ignored: IgnoredWebhookEvent[] } {
  const parsed = parseHubspotWebhookBody(body);
  if (!parsed.ok) throw new WebhookBodyError(parsed.message, parsed.issues);
  const own = ownAppIdSet(opts.appIds);
  const events: { portalId: string; event: CrmChangeEvent }[] = [];
  const ignored: IgnoredWebhookEvent[] = [];
  for (const e of parsed.events) {
    const r = toCrmChangeEvent(e, own);
    if (r.ok) events.push({ portalId: e.portalId, event: r.event });
    else ignored.push(r.ignored);
  }
  return { events, ignored };
}

export function ownAppIdSet(ids: Iterable<string | number | null | undefined>): Set<string> {
  const s = new Set<string>();
  for (const x of ids) if (x !== null && x !== undefined && String(x).trim() !== '') s.add(String(x).trim());
  return s;
}

export class WebhookBodyError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'WebhookBodyError';
  }
}
