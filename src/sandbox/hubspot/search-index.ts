// Equality indexes for search: property → normalised value → record ids. Built lazily the first time a
// search filters a property with EQ or IN, then kept current by every write (records.ts calls
// `unindex` before and `index` after changing a record). Lets EQ/IN searches skip the full scan.
import type { CrmRecord, PropertyDef } from './model';
import type { ObjectType } from './object-types';
import type { Portal } from './portal';
import { parseTime } from './values';

export type Kind = 'number' | 'time' | 'text';

type TypeIndexes = Map<string, Map<string, Set<string>>>;
const indexes = new WeakMap<Portal, Record<ObjectType, TypeIndexes>>();

function of(portal: Portal, type: ObjectType): TypeIndexes {
  let all = indexes.get(portal);
  if (!all) indexes.set(portal, (all = { deals: new Map(), companies: new Map() }));
  return all[type];
}

export function kindOf(def: PropertyDef | undefined): Kind {
  if (!def) return 'text';
  if (def.type === 'number') return 'number';
  if (def.type === 'date' || def.type === 'datetime') return 'time';
  return 'text';
}

/** The value a search compares: numbers and times as numbers, text case-insensitively. */
export function toComparable(kind: Kind, raw: string): number | string | undefined {
  if (kind === 'number') {
    const n = Number(raw);
    return Number.isNaN(n) ? undefined : n;
  }
  if (kind === 'time') return parseTime(raw);
  return raw.toLowerCase();
}

function keyOf(portal: Portal, type: ObjectType, name: string, raw: string): string | undefined {
  const kind = name === 'hs_object_id' ? 'number' : kindOf(portal.properties[type].get(name));
  const c = toComparable(kind, raw);
  return c === undefined ? undefined : `${typeof c}:${c}`;
}

/** Ids of live records whose `name` equals one of `values`, building the index on first use. */
export function lookupEqual(portal: Portal, type: ObjectType, name: string, values: string[]): Set<string> {
  const idx = of(portal, type);
  let byValue = idx.get(name);
  if (!byValue) {
    byValue = new Map();
    idx.set(name, byValue);
    for (const r of portal.objects[type].values()) if (!r.archived) add(portal, type, byValue, name, r);
  }
  const out = new Set<string>();
  for (const v of values) {
    const k = keyOf(portal, type, name, v);
    const ids = k === undefined ? undefined : byValue.get(k);
    if (ids) for (const id of ids) out.add(id);
  }
  return out;
}

function add(portal: Portal, type: ObjectType, byValue: Map<string, Set<string>>, name: string, r: CrmRecord): void {
  const v = r.props[name];
  if (v === undefined) return;
  const k = keyOf(portal, type, name, v);
  if (k === undefined) return;
  let ids = byValue.get(k);
  if (!ids) byValue.set(k, (ids = new Set()));
  ids.add(r.id);
}

/** Removes a record from the built indexes (call before changing or archiving it). */
export function unindex(portal: Portal, type: ObjectType, r: CrmRecord): void {
  const idx = indexes.get(portal)?.[type];
  if (!idx || idx.size === 0) return;
  for (const [name, byValue] of idx) {
    const v = r.props[name];
    if (v === undefined) continue;
    const k = keyOf(portal, type, name, v);
    if (k !== undefined) byValue.get(k)?.delete(r.id);
  }
}

/** Adds a live record to the built indexes (call after creating or changing it). */
export function index(portal: Portal, type: ObjectType, r: CrmRecord): void {
  if (r.archived) return;
  const idx = indexes.get(portal)?.[type];
  if (!idx || idx.size === 0) return;
  for (const [name, byValue] of idx) add(portal, type, byValue, name, r);
}
