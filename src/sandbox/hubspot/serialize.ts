// CRM records as HubSpot's v3 object APIs return them (SimplePublicObject and friends).
import { associationsOf, v3TypeName } from './association-store';
import type { CrmRecord } from './model';
import { ALWAYS_RETURNED, DEFAULT_PROPERTIES, OTHER, tryObjectType, type ObjectType } from './object-types';
import type { Portal } from './portal';
import { isoTime } from './values';

export interface ReadShape {
  /** Property names asked for; empty or undefined = the type's defaults. `'*set'` = every set property. */
  properties?: string[] | '*set';
  propertiesWithHistory?: string[];
  /** Object types whose associations to include (`associations=companies`). */
  associations?: string[];
}

/** Reads repeated and comma-separated query params alike: `properties=a&properties=b,c`. */
export function listParam(query: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (const v of query.getAll(name)) for (const part of v.split(',')) if (part.trim()) out.push(part.trim());
  return out;
}

export function readShapeFromQuery(query: URLSearchParams): ReadShape {
  return {
    properties: listParam(query, 'properties'),
    propertiesWithHistory: listParam(query, 'propertiesWithHistory'),
    associations: listParam(query, 'associations'),
  };
}

function selectProperties(portal: Portal, type: ObjectType, r: CrmRecord, wanted: ReadShape['properties']): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (wanted === '*set') {
    for (const [k, v] of Object.entries(r.props)) out[k] = v;
    return out;
  }
  const names = wanted && wanted.length > 0 ? wanted : DEFAULT_PROPERTIES[type];
  const defs = portal.properties[type];
  for (const name of names) {
    if (!defs.has(name)) continue; // HubSpot ignores names that are not properties
    out[name] = r.props[name] ?? null;
  }
  for (const name of ALWAYS_RETURNED) out[name] = r.props[name] ?? null;
  return out;
}

/** ISO strings of a record's createdAt / updatedAt, kept while the numbers do not change (reads are hot). */
const isoCache = new WeakMap<CrmRecord, { c: number; cIso: string; u: number; uIso: string }>();

function isoTimes(r: CrmRecord): { createdAt: string; updatedAt: string } {
  let e = isoCache.get(r);
  if (!e || e.c !== r.createdAt || e.u !== r.updatedAt) {
    e = { c: r.createdAt, cIso: isoTime(r.createdAt), u: r.updatedAt, uIso: isoTime(r.updatedAt) };
    isoCache.set(r, e);
  }
  return { createdAt: e.cIso, updatedAt: e.uIso };
}

export function toPublic(portal: Portal, type: ObjectType, r: CrmRecord, shape: ReadShape = {}): Record<string, unknown> {
  const times = isoTimes(r);
  const o: Record<string, unknown> = {
    id: r.id,
    properties: selectProperties(portal, type, r, shape.properties),
    createdAt: times.createdAt,
    updatedAt: times.updatedAt,
    archived: r.archived,
  };
  if (r.archived && r.archivedAt !== undefined) o.archivedAt = isoTime(r.archivedAt);
  if (shape.propertiesWithHistory && shape.propertiesWithHistory.length > 0) {
    const h: Record<string, unknown[]> = {};
    for (const name of shape.propertiesWithHistory) {
      if (!portal.properties[type].has(name)) continue;
      h[name] = (r.history[name] ?? []).map((e) => {
        const v: Record<string, unknown> = { value: e.value, timestamp: isoTime(e.timestamp), sourceType: e.sourceType };
        if (e.sourceId !== undefined) v.sourceId = e.sourceId;
        if (e.updatedByUserId !== undefined) v.updatedByUserId = e.updatedByUserId;
        return v;
      });
    }
    o.propertiesWithHistory = h;
  }
  if (shape.associations && shape.associations.length > 0 && !r.archived) {
    const assoc: Record<string, { results: Array<{ id: string; type: string }> }> = {};
    for (const raw of shape.associations) {
      const to = tryObjectType(raw);
      if (to !== OTHER[type]) continue; // only deal↔company is modelled
      const results: Array<{ id: string; type: string }> = [];
      for (const a of associationsOf(portal, type, r.id)) {
        for (const t of [...a.typeIds].sort((x, y) => x - y)) results.push({ id: a.id, type: v3TypeName(type, t) });
      }
      if (results.length > 0) assoc[raw] = { results };
    }
    if (Object.keys(assoc).length > 0) o.associations = assoc;
  }
  return o;
}
