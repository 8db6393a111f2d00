// Binds a parsed SOQL query to an org's schema (INVALID_FIELD / INVALID_TYPE like Salesforce), compiles
// it into closures, and runs it: filter, sort, offset, limit, projection with `attributes` and one-level
// relationship objects. String comparisons are case-insensitive, `!=` and NOT IN match nulls, as in SOQL.
import type { Org, Row } from './org';
import type { FieldDef, OrgSchema, SObjectDef } from './schema';
import { parseSoql, soqlError, type Condition, type Literal, type SoqlAst } from './soql-parser';
import { toId18 } from './ids';
import { apiValue, attributesOf } from './record-json';
import { DAY_MS, formatDate, startOfUtcDay } from './values';

type Kind = 'string' | 'id' | 'number' | 'boolean' | 'date' | 'datetime';

interface ResolvedPath {
  field: FieldDef;
  /** The reference field when the path goes through a relationship. */
  via: FieldDef | null;
  target: SObjectDef;
  get: (row: Row, org: Org) => unknown;
}

export interface EvalCtx {
  org: Org;
  now: number;
}

type Pred = (row: Row, ctx: EvalCtx) => boolean;

export interface CompiledQuery {
  def: SObjectDef;
  count: boolean;
  columns: ResolvedPath[];
  where: Pred | null;
  /** Ids that the WHERE clause restricts the result to (a top-level `Id = ` / `Id IN`), for a fast path. */
  idFilter: string[] | null;
  /** A top-level equality on a unique field, for a fast path. */
  uniqueFilter: { field: string; value: string } | null;
  compare: ((a: Row, b: Row, org: Org) => number) | null;
  limit: number | null;
  offset: number;
}

function kindOf(f: FieldDef): Kind {
  switch (f.type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'currency':
    case 'double':
    case 'percent':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    default:
      return 'string';
  }
}

const SOAP_TYPE_WORD: Record<Kind, string> = { string: 'string', id: 'id', number: 'double', boolean: 'boolean', date: 'date', datetime: 'dateTime' };

const cache = new WeakMap<OrgSchema, Map<string, CompiledQuery>>();

/** Parses and binds a query, memoised per org schema. */
export function compileSoql(org: Org, soql: string): CompiledQuery {
  const schema = org.schema;
  let perSchema = cache.get(schema);
  if (!perSchema) {
    perSchema = new Map();
    cache.set(schema, perSchema);
  }
  const hit = perSchema.get(soql);
  if (hit) return hit;
  const compiled = bind(org, parseSoql(soql));
  if (perSchema.size > 1000) perSchema.clear();
  perSchema.set(soql, compiled);
  return compiled;
}

function bind(org: Org, ast: SoqlAst): CompiledQuery {
  const def = org.sobject(ast.from);
  if (!def) {
    throw soqlError(
      'INVALID_TYPE',
      ast.text,
      ast.fromPos,
      `sObject type '${ast.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const columns: ResolvedPath[] = [];
  const seen = new Set<string>();
  for (const f of ast.fields) {
    const r = resolve(org, def, ast, f.path, f.pos);
    const key = `${r.via?.name ?? ''}.${r.field.name}`;
    if (seen.has(key)) throw soqlError('MALFORMED_QUERY', ast.text, f.pos, `duplicate field selected: ${f.path.join('.')}`);
    seen.add(key);
    columns.push(r);
  }
  if (ast.offset !== null && ast.offset > 2000) {
    throw soqlError('NUMBER_OUTSIDE_VALID_RANGE', ast.text, ast.text.toUpperCase().lastIndexOf('OFFSET'), 'Maximum SOQL offset allowed is 2000');
  }
  const where = ast.where ? compileCondition(org, def, ast, ast.where) : null;
  let compare: CompiledQuery['compare'] = null;
  if (ast.orderBy.length > 0) {
    const keys = ast.orderBy.map((o) => {
      const r = resolve(org, def, ast, o.path, o.pos);
      if (r.field.type === 'textarea' && r.field.length > 255) {
        throw soqlError('INVALID_FIELD', ast.text, o.pos, `field '${r.field.name}' can not be sorted in a query call`);
      }
      return { r, kind: kindOf(r.field), desc: o.desc, nullsFirst: o.nullsFirst };
    });
    compare = (a, b, o) => {
      for (const k of keys) {
        const va = k.r.get(a, o);
        const vb = k.r.get(b, o);
        const an = va === null || va === undefined;
        const bn = vb === null || vb === undefined;
        if (an || bn) {
          if (an && bn) continue;
          return an === k.nullsFirst ? -1 : 1;
        }
        let c = compareValues(k.kind, va, vb);
        if (c !== 0) return k.desc ? -c : c;
      }
      return a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0;
    };
  }
  return {
    def,
    count: ast.count,
    columns,
    where,
    idFilter: ast.where ? idFilterOf(ast.where) : null,
    uniqueFilter: ast.where ? uniqueFilterOf(def, ast.where) : null,
    compare,
    limit: ast.limit,
    offset: ast.offset ?? 0,
  };
}

function compareValues(kind: Kind, a: unknown, b: unknown): number {
  if (kind === 'string') {
    const x = String(a).toLowerCase();
    const y = String(b).toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (kind === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const x = a as number | string;
  const y = b as number | string;
  return x < y ? -1 : x > y ? 1 : 0;
}

function resolve(org: Org, def: SObjectDef, ast: SoqlAst, rawPath: string[], pos: number): ResolvedPath {
  let path = rawPath;
  if (path.length === 2 && path[0]!.toLowerCase() === def.name.toLowerCase() && !def.byRelationship.has(path[0]!.toLowerCase())) {
    path = [path[1]!];
  }
  if (path.length === 1) {
    const field = def.byName.get(path[0]!.toLowerCase());
    if (!field) {
      throw soqlError(
        'INVALID_FIELD',
        ast.text,
        pos,
        `No such column '${path[0]}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const name = field.name;
    return { field, via: null, target: def, get: (row) => row[name] };
  }
  if (path.length > 2) throw soqlError('MALFORMED_QUERY', ast.text, pos, 'sandbox: relationship paths deeper than one level are not supported by the Salesforce sandbox');
  const via = def.byRelationship.get(path[0]!.toLowerCase());
  if (!via) {
    throw soqlError(
      'INVALID_FIELD',
      ast.text,
      pos,
      `Didn't understand relationship '${path[0]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const target = org.sobject(via.referenceTo[0]!);
  if (!target) throw soqlError('INVALID_FIELD', ast.text, pos, `sandbox: the ${via.referenceTo[0]} object behind '${path[0]}' is not served by the Salesforce sandbox`);
  const field = target.byName.get(path[1]!.toLowerCase());
  if (!field) {
    throw soqlError(
      'INVALID_FIELD',
      ast.text,
      pos,
      `No such column '${path[1]}' on entity '${target.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const refName = via.name;
  const targetName = target.name;
  const fieldName = field.name;
  return {
    field,
    via,
    target,
    get: (row, o) => {
      const ref = row[refName];
      if (typeof ref !== 'string') return null;
      const t = o.table(targetName).get(ref);
      return t ? (t[fieldName] ?? null) : null;
    },
  };
}

/** The [start, end) of a date function, in epoch ms (UTC). */
function dateFnRange(name: string, n: number, now: number): [number, number] {
  const sod = startOfUtcDay(now);
  const d = new Date(now);
  const month = (offset: number): [number, number] => [Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset + 1, 1)];
  const year = (offset: number): [number, number] => [Date.UTC(d.getUTCFullYear() + offset, 0, 1), Date.UTC(d.getUTCFullYear() + offset + 1, 0, 1)];
  switch (name) {
    case 'TODAY':
      return [sod, sod + DAY_MS];
    case 'YESTERDAY':
      return [sod - DAY_MS, sod];
    case 'TOMORROW':
      return [sod + DAY_MS, sod + 2 * DAY_MS];
    case 'LAST_N_DAYS':
      return [sod - n * DAY_MS, sod + DAY_MS];
    case 'NEXT_N_DAYS':
      return [sod + DAY_MS, sod + (n + 1) * DAY_MS];
    case 'THIS_MONTH':
      return month(0);
    case 'LAST_MONTH':
      return month(-1);
    case 'NEXT_MONTH':
      return month(1);
    case 'THIS_YEAR':
      return year(0);
    case 'LAST_YEAR':
      return year(-1);
    default:
      return year(1);
  }
}

function literalTypeError(ast: SoqlAst, pos: number, f: FieldDef, kind: Kind): never {
  const quoted = kind === 'string' || kind === 'id';
  throw soqlError(
    'INVALID_FIELD',
    ast.text,
    pos,
    `value of filter criterion for field '${f.name}' must be of type ${SOAP_TYPE_WORD[kind]} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
  );
}

/** A literal converted to the stored representation of the field's kind (null stays null). */
function literalValue(ast: SoqlAst, pos: number, f: FieldDef, kind: Kind, lit: Literal): unknown {
  if (lit.t === 'null') return null;
  switch (kind) {
    case 'string':
      if (lit.t !== 'string') literalTypeError(ast, pos, f, kind);
      return lit.v.toLowerCase();
    case 'id': {
      if (lit.t !== 'string') literalTypeError(ast, pos, f, kind);
      const id = toId18(lit.v);
      if (!id) throw soqlError('INVALID_QUERY_FILTER_OPERATOR', ast.text, pos, `invalid ID field: ${lit.v}`);
      return id;
    }
    case 'number':
      if (lit.t !== 'number') literalTypeError(ast, pos, f, kind);
      return lit.v;
    case 'boolean':
      if (lit.t !== 'boolean') literalTypeError(ast, pos, f, kind);
      return lit.v;
    case 'date':
      if (lit.t === 'date') return lit.v;
      if (lit.t === 'dateFn') return lit;
      return literalTypeError(ast, pos, f, kind);
    case 'datetime':
      if (lit.t === 'datetime') return lit.v;
      if (lit.t === 'dateFn') return lit;
      return literalTypeError(ast, pos, f, kind);
  }
}

function normalise(kind: Kind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return kind === 'string' ? String(v).toLowerCase() : v;
}

function compileCondition(org: Org, def: SObjectDef, ast: SoqlAst, c: Condition): Pred {
  switch (c.kind) {
    case 'and': {
      const items = c.items.map((i) => compileCondition(org, def, ast, i));
      return (row, ctx) => items.every((p) => p(row, ctx));
    }
    case 'or': {
      const items = c.items.map((i) => compileCondition(org, def, ast, i));
      return (row, ctx) => items.some((p) => p(row, ctx));
    }
    case 'not': {
      const inner = compileCondition(org, def, ast, c.item);
      return (row, ctx) => !inner(row, ctx);
    }
    case 'like': {
      const r = resolve(org, def, ast, c.path, c.pos);
      const kind = kindOf(r.field);
      if (kind !== 'string') throw soqlError('INVALID_QUERY_FILTER_OPERATOR', ast.text, c.pos, `invalid operator on ${SOAP_TYPE_WORD[kind]} field: ${r.field.name}`);
      if (c.pattern.t !== 'string') literalTypeError(ast, c.pos, r.field, 'string');
      checkFilterable(ast, c.pos, r.field);
      const re = likeToRegExp(c.pattern.raw);
      return (row, ctx) => {
        const v = r.get(row, ctx.org);
        return typeof v === 'string' && re.test(v);
      };
    }
    case 'in': {
      const r = resolve(org, def, ast, c.path, c.pos);
      checkFilterable(ast, c.pos, r.field);
      const kind = kindOf(r.field);
      const values = c.values.map((l) => {
        const v = literalValue(ast, c.pos, r.field, kind, l);
        if (v !== null && typeof v === 'object') throw soqlError('MALFORMED_QUERY', ast.text, c.pos, 'sandbox: date functions inside IN are not supported');
        return v;
      });
      const set = new Set(values);
      const negate = c.negate;
      return (row, ctx) => {
        const v = normalise(kind, r.get(row, ctx.org));
        const hit = set.has(v);
        return negate ? !hit : hit;
      };
    }
    case 'cmp': {
      const r = resolve(org, def, ast, c.path, c.pos);
      checkFilterable(ast, c.pos, r.field);
      const kind = kindOf(r.field);
      const lit = literalValue(ast, c.pos, r.field, kind, c.value);
      const op = c.op;
      if (lit !== null && typeof lit === 'object') {
        const fn = lit as { name: string; n: number };
        return (row, ctx) => {
          const [s, e] = dateFnRange(fn.name, fn.n, ctx.now);
          const start: number | string = kind === 'date' ? formatDate(s) : s;
          const end: number | string = kind === 'date' ? formatDate(e) : e;
          const v = r.get(row, ctx.org) as number | string | null | undefined;
          if (v === null || v === undefined) return op === '!=';
          switch (op) {
            case '=':
              return v >= start && v < end;
            case '!=':
              return !(v >= start && v < end);
            case '<':
              return v < start;
            case '<=':
              return v < end;
            case '>':
              return v >= end;
            default:
              return v >= start;
          }
        };
      }
      if (lit === null) {
        if (op === '=') return (row, ctx) => isNull(r.get(row, ctx.org));
        if (op === '!=') return (row, ctx) => !isNull(r.get(row, ctx.org));
        return () => false;
      }
      return (row, ctx) => {
        const v = normalise(kind, r.get(row, ctx.org));
        if (v === null) return op === '!=';
        switch (op) {
          case '=':
            return v === lit;
          case '!=':
            return v !== lit;
          case '<':
            return compareValues(kind, v, lit) < 0;
          case '<=':
            return compareValues(kind, v, lit) <= 0;
          case '>':
            return compareValues(kind, v, lit) > 0;
          default:
            return compareValues(kind, v, lit) >= 0;
        }
      };
    }
  }
}

function isNull(v: unknown): boolean {
  return v === null || v === undefined;
}

function checkFilterable(ast: SoqlAst, pos: number, f: FieldDef): void {
  if (f.type === 'textarea' && f.length > 255) throw soqlError('INVALID_FIELD', ast.text, pos, `field '${f.name}' can not be filtered in a query call`);
}

function likeToRegExp(raw: string): RegExp {
  let re = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && (raw[i + 1] === '%' || raw[i + 1] === '_')) {
      re += raw[i + 1] === '%' ? '%' : '_';
      i++;
    } else if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function idFilterOf(c: Condition): string[] | null {
  const leaf = (x: Condition): string[] | null => {
    if (x.kind === 'cmp' && x.op === '=' && x.path.length === 1 && x.path[0]!.toLowerCase() === 'id' && x.value.t === 'string') {
      const id = toId18(x.value.v);
      return id ? [id] : [];
    }
    if (x.kind === 'in' && !x.negate && x.path.length === 1 && x.path[0]!.toLowerCase() === 'id') {
      return x.values.flatMap((v) => (v.t === 'string' && toId18(v.v) ? [toId18(v.v)!] : []));
    }
    return null;
  };
  if (c.kind === 'and') {
    for (const i of c.items) {
      const ids = leaf(i);
      if (ids) return ids;
    }
    return null;
  }
  return leaf(c);
}

function uniqueFilterOf(def: SObjectDef, c: Condition): { field: string; value: string } | null {
  const leaf = (x: Condition): { field: string; value: string } | null => {
    if (x.kind !== 'cmp' || x.op !== '=' || x.path.length !== 1 || x.value.t !== 'string') return null;
    const f = def.byName.get(x.path[0]!.toLowerCase());
    return f && f.unique ? { field: f.name, value: x.value.v } : null;
  };
  if (c.kind === 'and') {
    for (const i of c.items) {
      const u = leaf(i);
      if (u) return u;
    }
    return null;
  }
  return leaf(c);
}

/** Runs a compiled query: the matching rows, sorted, offset and limited. */
export function runQuery(q: CompiledQuery, ctx: EvalCtx, includeDeleted: boolean): Row[] {
  const table = ctx.org.table(q.def.name);
  let candidates: Iterable<Row>;
  if (q.idFilter) {
    candidates = q.idFilter.map((id) => table.get(id)).filter((r): r is Row => r !== undefined);
  } else if (q.uniqueFilter && !includeDeleted) {
    const r = ctx.org.findByUnique(q.def.name, q.uniqueFilter.field, q.uniqueFilter.value);
    candidates = r ? [r] : [];
  } else {
    candidates = table.values();
  }
  const out: Row[] = [];
  const where = q.where;
  const earlyStop = !q.compare && !q.count && q.limit !== null ? q.offset + q.limit : Infinity;
  for (const row of candidates) {
    if (row.IsDeleted && !includeDeleted) continue;
    if (where && !where(row, ctx)) continue;
    out.push(row);
    if (out.length >= earlyStop) break;
  }
  if (q.compare) {
    const cmp = q.compare;
    out.sort((a, b) => cmp(a, b, ctx.org));
  } else if (q.idFilter) {
    out.sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
  }
  const start = q.offset;
  const end = q.limit === null ? out.length : start + q.limit;
  return start === 0 && end >= out.length ? out : out.slice(start, end);
}

/** One result row: `attributes`, the selected fields, relationship objects. */
export function projectRow(q: CompiledQuery, row: Row, org: Org, version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: attributesOf(version, q.def.name, row.Id) };
  for (const c of q.columns) {
    if (!c.via) {
      out[c.field.name] = apiValue(c.field, row[c.field.name]);
      continue;
    }
    const rel = c.via.relationshipName!;
    const refId = row[c.via.name];
    const target = typeof refId === 'string' ? org.table(c.target.name).get(refId) : undefined;
    if (!target) {
      out[rel] = null;
      continue;
    }
    let obj = out[rel] as Record<string, unknown> | undefined;
    if (!obj) {
      obj = { attributes: attributesOf(version, c.target.name, target.Id) };
      out[rel] = obj;
    }
    obj[c.field.name] = apiValue(c.field, target[c.field.name]);
  }
  return out;
}
