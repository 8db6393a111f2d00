// CRM search (`POST /crm/v3/objects/{type}/search`): filterGroups (OR of ANDed filters), a free-text
// `query`, sorts, offset paging with `after`, 200 results per page and the 10,000-result ceiling.
import { associationsOf, compareIds } from './association-store';
import { badRequest } from './errors';
import type { CrmRecord } from './model';
import { QUERY_PROPERTIES, tryObjectType, type ObjectType } from './object-types';
import type { Portal } from './portal';
import { toPublic } from './serialize';
import { kindOf, lookupEqual, toComparable, type Kind } from './search-index';

export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_RESULT_CAP = 10_000;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;

const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);

interface CompiledFilter {
  test: (r: CrmRecord) => boolean;
  /** For EQ / IN on a plain property: the values an equality index can look up. */
  equal?: { name: string; values: string[] };
}

function tokens(value: string): string[] {
  return value.toLowerCase().split(/[\s,;:.@/\\()[\]{}"'!?&+=_-]+/).filter(Boolean);
}

function tokenMatcher(pattern: string): (value: string) => boolean {
  const p = pattern.toLowerCase().trim();
  if (p.includes('*')) {
    const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return (value) => re.test(value.toLowerCase()) || tokens(value).some((t) => re.test(t));
  }
  const wanted = tokens(p);
  return (value) => {
    const lower = value.toLowerCase();
    if (lower === p) return true;
    const have = tokens(value);
    return wanted.length > 0 && wanted.every((w) => have.includes(w));
  };
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

function compileFilter(portal: Portal, type: ObjectType, f: Record<string, unknown>): CompiledFilter {
  const propertyName = str(f.propertyName);
  const operator = str(f.operator) ?? 'EQ';
  if (!propertyName) badRequest('Invalid input JSON on line 1: filters require a propertyName');
  if (!OPERATORS.has(operator)) badRequest(`Invalid input JSON on line 1: unknown filter operator ${operator}`);

  // `associations.company` / `associations.deal`: objects associated with the given id(s).
  if (propertyName.startsWith('associations.')) {
    const other = tryObjectType(propertyName.slice('associations.'.length));
    const ids = new Set((Array.isArray(f.values) ? f.values.map(String) : [str(f.value) ?? '']).filter(Boolean));
    const linked = (r: CrmRecord): boolean => other !== undefined && other !== type && associationsOf(portal, type, r.id).some((a) => ids.has(a.id));
    if (operator === 'EQ' || operator === 'IN') return { test: linked };
    if (operator === 'NEQ' || operator === 'NOT_IN') return { test: (r) => !linked(r) };
    badRequest(`Operator ${operator} is not supported for ${propertyName}`);
  }

  const def = portal.properties[type].get(propertyName);
  const kind = propertyName === 'hs_object_id' ? 'number' : kindOf(def);
  const get = (r: CrmRecord): string | undefined => r.props[propertyName];
  switch (operator) {
    case 'HAS_PROPERTY':
      return { test: (r) => get(r) !== undefined };
    case 'NOT_HAS_PROPERTY':
      return { test: (r) => get(r) === undefined };
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      const m = tokenMatcher(str(f.value) ?? '');
      const yes = operator === 'CONTAINS_TOKEN';
      return { test: (r) => { const v = get(r); return v === undefined ? !yes : m(v) === yes; } };
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(f.values)) badRequest(`Filter operator ${operator} requires "values"`);
      const set = new Set(f.values.map((v) => toComparable(kind, String(v))));
      const yes = operator === 'IN';
      const test = (r: CrmRecord): boolean => { const v = get(r); if (v === undefined) return !yes; return set.has(toComparable(kind, v)) === yes; };
      return yes ? { test, equal: { name: propertyName, values: f.values.map(String) } } : { test };
    }
    case 'BETWEEN': {
      const lo = toComparable(kind, str(f.value) ?? '');
      const hi = toComparable(kind, str(f.highValue) ?? '');
      if (lo === undefined || hi === undefined) badRequest('BETWEEN requires "value" and "highValue"');
      return { test: (r) => { const v = get(r); if (v === undefined) return false; const c = toComparable(kind, v); return c !== undefined && c >= lo && c <= hi; } };
    }
    default: {
      const target = toComparable(kind, str(f.value) ?? '');
      if (target === undefined) badRequest(`${str(f.value)} is not a valid value for ${propertyName}`);
      const cmp = (r: CrmRecord): number | undefined => {
        const v = get(r);
        if (v === undefined) return undefined;
        const c = toComparable(kind, v);
        if (c === undefined) return undefined;
        return c < target ? -1 : c > target ? 1 : 0;
      };
      switch (operator) {
        case 'EQ': return { test: (r) => cmp(r) === 0, equal: { name: propertyName, values: [str(f.value) ?? ''] } };
        case 'NEQ': return { test: (r) => cmp(r) !== 0 };
        case 'LT': return { test: (r) => { const c = cmp(r); return c !== undefined && c < 0; } };
        case 'LTE': return { test: (r) => { const c = cmp(r); return c !== undefined && c <= 0; } };
        case 'GT': return { test: (r) => { const c = cmp(r); return c !== undefined && c > 0; } };
        default: return { test: (r) => { const c = cmp(r); return c !== undefined && c >= 0; } };
      }
    }
  }
}

interface SortRule {
  name: string;
  descending: boolean;
  kind: Kind;
}

function compileSorts(portal: Portal, type: ObjectType, raw: unknown): SortRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) badRequest('Invalid input JSON on line 1: sorts must be an array');
  return raw.map((s): SortRule => {
    let name: string;
    let descending = false;
    if (typeof s === 'string') {
      descending = s.startsWith('-');
      name = descending ? s.slice(1) : s;
    } else if (s && typeof s === 'object') {
      const o = s as Record<string, unknown>;
      name = str(o.propertyName) ?? '';
      descending = str(o.direction)?.toUpperCase() === 'DESCENDING';
    } else {
      badRequest('Invalid input JSON on line 1: invalid sort');
    }
    return { name, descending, kind: name === 'hs_object_id' ? 'number' : kindOf(portal.properties[type].get(name)) };
  });
}

function sortRecords(records: CrmRecord[], rules: SortRule[]): void {
  records.sort((a, b) => {
    for (const rule of rules) {
      const va = a.props[rule.name];
      const vb = b.props[rule.name];
      if (va === undefined && vb === undefined) continue;
      if (va === undefined) return 1; // unset values last, either direction
      if (vb === undefined) return -1;
      const ca = toComparable(rule.kind, va) ?? va;
      const cb = toComparable(rule.kind, vb) ?? vb;
      if (ca === cb) continue;
      const d = ca < cb ? -1 : 1;
      return rule.descending ? -d : d;
    }
    return compareIds(a.id, b.id);
  });
}

/** The records search can see now: live ones, or their pre-write state while the index lags. */
function* visible(portal: Portal, type: ObjectType, now: number): Generator<CrmRecord> {
  const shadows = portal.searchShadow[type];
  for (const r of portal.objects[type].values()) {
    if (shadows.size > 0) {
      const s = shadows.get(r.id);
      if (s && s.until > now) {
        if (s.record && !s.record.archived) yield s.record;
        continue;
      }
      if (s) shadows.delete(r.id);
    }
    if (!r.archived) yield r;
  }
}

/**
 * The records worth testing: when every filter group has an EQ/IN filter (and no write is still
 * "in flight" to the index), the union of the equality-index hits; otherwise every visible record.
 */
function candidates(portal: Portal, type: ObjectType, groups: CompiledFilter[][], now: number): { records: Iterable<CrmRecord>; inIdOrder: boolean } {
  const lagging = portal.searchShadow[type].size > 0;
  if (lagging || groups.length === 0) return { records: visible(portal, type, now), inIdOrder: true };
  const picks = groups.map((g) => g.find((f) => f.equal)?.equal);
  if (picks.some((p) => p === undefined)) return { records: visible(portal, type, now), inIdOrder: true };
  const ids = new Set<string>();
  for (const p of picks) for (const id of lookupEqual(portal, type, p!.name, p!.values)) ids.add(id);
  const records: CrmRecord[] = [];
  for (const id of ids) {
    const r = portal.objects[type].get(id);
    if (r && !r.archived) records.push(r);
  }
  return { records, inIdOrder: false };
}

export function search(portal: Portal, type: ObjectType, body: unknown, now: number): Record<string, unknown> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const limit = b.limit === undefined ? 10 : Number(b.limit);
  if (!Number.isInteger(limit) || limit < 0) badRequest('Invalid input JSON on line 1: limit must be a non-negative integer');
  if (limit > SEARCH_MAX_LIMIT) badRequest(`Invalid input: limit ${limit} is greater than the maximum of ${SEARCH_MAX_LIMIT}`);
  const after = b.after === undefined || b.after === null || b.after === '' ? 0 : Number(b.after);
  if (!Number.isInteger(after) || after < 0) badRequest(`Invalid input: after must be a numeric offset, got ${String(b.after)}`);
  if (after >= SEARCH_RESULT_CAP) badRequest(`Paging past ${SEARCH_RESULT_CAP} results is not supported: after=${after}. Narrow the search with filters instead.`);

  const groups = b.filterGroups === undefined ? [] : b.filterGroups;
  if (!Array.isArray(groups)) badRequest('Invalid input JSON on line 1: filterGroups must be an array');
  if (groups.length > MAX_GROUPS) badRequest(`Too many filter groups: ${groups.length}. The maximum is ${MAX_GROUPS}.`);
  let total = 0;
  const compiled: CompiledFilter[][] = groups.map((g) => {
    const filters = (g as Record<string, unknown>)?.filters;
    if (!Array.isArray(filters)) badRequest('Invalid input JSON on line 1: each filter group needs "filters"');
    if (filters.length > MAX_FILTERS_PER_GROUP) badRequest(`Too many filters in a group: ${filters.length}. The maximum is ${MAX_FILTERS_PER_GROUP}.`);
    total += filters.length;
    return filters.map((f) => compileFilter(portal, type, (f ?? {}) as Record<string, unknown>));
  });
  if (total > MAX_FILTERS) badRequest(`Too many filters: ${total}. The maximum is ${MAX_FILTERS}.`);
  const sorts = compileSorts(portal, type, b.sorts);
  const query = str(b.query)?.trim().toLowerCase();
  const queryTokens = query ? tokens(query) : [];
  const queryProps = QUERY_PROPERTIES[type];

  const matches: CrmRecord[] = [];
  const pool = candidates(portal, type, compiled, now);
  for (const r of pool.records) {
    if (compiled.length > 0 && !compiled.some((g) => g.every((f) => f.test(r)))) continue;
    if (queryTokens.length > 0) {
      const have = queryProps.flatMap((p) => (r.props[p] ? tokens(r.props[p]) : []));
      if (!queryTokens.every((q) => have.some((h) => h.startsWith(q)))) continue;
    }
    matches.push(r);
  }
  if (sorts.length > 0) sortRecords(matches, sorts);
  else if (!pool.inIdOrder) matches.sort((a, b) => compareIds(a.id, b.id));

  const end = Math.min(after + limit, matches.length, SEARCH_RESULT_CAP);
  const properties = Array.isArray(b.properties) ? b.properties.map(String) : [];
  const results = matches.slice(after, end).map((r) => toPublic(portal, type, r, { properties }));
  const out: Record<string, unknown> = { total: matches.length, results };
  if (end < matches.length) out.paging = { next: { after: String(end) } };
  return out;
}
