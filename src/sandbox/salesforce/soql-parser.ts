// A SOQL subset: SELECT fields (one-level relationships) or COUNT(), FROM one object, WHERE with
// AND / OR / NOT and parentheses (mixing AND and OR at one level needs parentheses, as in SOQL),
// comparisons, IN / NOT IN, LIKE, NULL, date and datetime literals and date functions, ORDER BY with
// ASC / DESC and NULLS FIRST / LAST, LIMIT, OFFSET. Errors carry Salesforce's caret-style message.
import { sfProblem } from './errors';
import type { HttpProblem } from '../common/http';

type TokKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'lparen' | 'rparen' | 'comma' | 'colon' | 'eof';

interface Token {
  kind: TokKind;
  text: string;
  /** Unescaped value for strings. */
  value: string;
  pos: number;
}

export type Literal =
  | { t: 'string'; v: string; raw: string }
  | { t: 'number'; v: number }
  | { t: 'boolean'; v: boolean }
  | { t: 'null' }
  | { t: 'date'; v: string }
  | { t: 'datetime'; v: number }
  | { t: 'dateFn'; name: string; n: number };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { kind: 'and'; items: Condition[] }
  | { kind: 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'cmp'; path: string[]; pos: number; op: CompareOp; value: Literal }
  | { kind: 'in'; path: string[]; pos: number; negate: boolean; values: Literal[] }
  | { kind: 'like'; path: string[]; pos: number; pattern: Literal };

export interface OrderItem {
  path: string[];
  pos: number;
  desc: boolean;
  nullsFirst: boolean;
}

export interface SoqlAst {
  text: string;
  count: boolean;
  fields: Array<{ path: string[]; pos: number }>;
  from: string;
  fromPos: number;
  where: Condition | null;
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null;
}

/** Salesforce's query error message: the offending line, a caret, the position and the reason. */
export function soqlError(errorCode: string, soql: string, pos: number, reason: string): HttpProblem {
  const before = soql.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = soql.indexOf('\n', pos) === -1 ? soql.length : soql.indexOf('\n', pos);
  const col = pos - lineStart + 1;
  const line = soql.slice(lineStart, lineEnd);
  return sfProblem(400, errorCode, `\n${line}\n${' '.repeat(col - 1)}^\nERROR at Row:${row}:Column:${col}\n${reason}`);
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}/;
const NUMBER = /^-?\d+(?:\.\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/;

function lex(soql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = soql.length;
  while (i < n) {
    const c = soql[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const rest = soql.slice(i, i + 40);
    if (c === "'") {
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < n) {
        const ch = soql[j]!;
        if (ch === '\\') {
          const nx = soql[j + 1];
          if (nx === undefined) break;
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', "'": "'", '"': '"', '\\': '\\', '%': '\\%', _: '\\_' };
          const m = map[nx];
          if (m === undefined) throw soqlError('MALFORMED_QUERY', soql, j, `Invalid string literal '${soql.slice(i + 1, j + 2)}'. Illegal character sequence '\\${nx}' in string literal.`);
          value += m;
          j += 2;
          continue;
        }
        if (ch === "'") {
          closed = true;
          break;
        }
        value += ch;
        j++;
      }
      if (!closed) throw soqlError('MALFORMED_QUERY', soql, i, `line 1:${i} mismatched character '<EOF>' expecting '''`);
      out.push({ kind: 'string', text: soql.slice(i, j + 1), value, pos: i });
      i = j + 1;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = DATETIME.exec(soql.slice(i, i + 40)))) {
      out.push({ kind: 'datetime', text: m[0], value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if ((m = DATE.exec(rest)) && !/[\d]/.test(soql[i + 10] ?? '')) {
      out.push({ kind: 'date', text: m[0], value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if ((m = NUMBER.exec(rest))) {
      out.push({ kind: 'number', text: m[0], value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if ((m = IDENT.exec(soql.slice(i, i + 300)))) {
      out.push({ kind: 'ident', text: m[0], value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const two = soql.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      out.push({ kind: 'op', text: two, value: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ kind: 'op', text: c, value: c, pos: i });
      i++;
      continue;
    }
    const single: Record<string, TokKind> = { '(': 'lparen', ')': 'rparen', ',': 'comma', ':': 'colon' };
    const k = single[c];
    if (k) {
      out.push({ kind: k, text: c, value: c, pos: i });
      i++;
      continue;
    }
    throw soqlError('MALFORMED_QUERY', soql, i, `unexpected token: '${c}'`);
  }
  out.push({ kind: 'eof', text: '<EOF>', value: '', pos: n });
  return out;
}

const KEYWORDS = new Set(['select', 'from', 'where', 'and', 'or', 'not', 'in', 'like', 'order', 'by', 'asc', 'desc', 'nulls', 'first', 'last', 'limit', 'offset', 'true', 'false', 'null', 'includes', 'excludes', 'group', 'having', 'with', 'for', 'using', 'typeof']);
const DATE_FUNCTIONS = new Set(['TODAY', 'YESTERDAY', 'TOMORROW', 'LAST_N_DAYS', 'NEXT_N_DAYS', 'THIS_MONTH', 'LAST_MONTH', 'NEXT_MONTH', 'THIS_YEAR', 'LAST_YEAR', 'NEXT_YEAR']);
const DATE_FUNCTIONS_WITH_N = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS']);

class Parser {
  private i = 0;
  constructor(
    private readonly soql: string,
    private readonly toks: Token[],
  ) {}

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private isKw(t: Token, kw: string): boolean {
    return t.kind === 'ident' && t.text.toLowerCase() === kw;
  }

  private unexpected(t: Token): HttpProblem {
    return soqlError('MALFORMED_QUERY', this.soql, t.pos, `unexpected token: '${t.text}'`);
  }

  private expectKw(kw: string): Token {
    const t = this.next();
    if (!this.isKw(t, kw)) throw this.unexpected(t);
    return t;
  }

  private unsupported(t: Token, what: string): HttpProblem {
    return soqlError('MALFORMED_QUERY', this.soql, t.pos, `sandbox: ${what} is not supported by the Salesforce sandbox's SOQL subset`);
  }

  parse(): SoqlAst {
    this.expectKw('select');
    let count = false;
    const fields: SoqlAst['fields'] = [];
    if (this.isKw(this.peek(), 'count') && this.peek(1).kind === 'lparen') {
      const at = this.next();
      this.next();
      if (this.peek().kind !== 'rparen') throw this.unsupported(at, 'COUNT(field) and other aggregate functions');
      this.next();
      count = true;
    } else {
      for (;;) {
        const t = this.next();
        if (t.kind === 'lparen') throw this.unsupported(t, 'a subquery');
        if (t.kind !== 'ident' || KEYWORDS.has(t.text.toLowerCase())) throw this.unexpected(t);
        if (this.peek().kind === 'lparen') throw this.unsupported(t, `the function ${t.text}()`);
        fields.push({ path: t.text.split('.'), pos: t.pos });
        if (this.peek().kind !== 'comma') break;
        this.next();
      }
    }
    this.expectKw('from');
    const fromTok = this.next();
    if (fromTok.kind !== 'ident' || fromTok.text.includes('.')) throw this.unexpected(fromTok);
    let where: Condition | null = null;
    let orderBy: OrderItem[] = [];
    let limit: number | null = null;
    let offset: number | null = null;
    if (this.isKw(this.peek(), 'where')) {
      this.next();
      where = this.condition();
    }
    if (this.isKw(this.peek(), 'order')) {
      this.next();
      this.expectKw('by');
      orderBy = this.orderList();
    }
    if (this.isKw(this.peek(), 'limit')) {
      this.next();
      limit = this.integer();
    }
    if (this.isKw(this.peek(), 'offset')) {
      this.next();
      offset = this.integer();
    }
    const end = this.peek();
    if (end.kind !== 'eof') {
      if (end.kind === 'ident' && ['group', 'having', 'with', 'for', 'using'].includes(end.text.toLowerCase())) {
        throw this.unsupported(end, `${end.text.toUpperCase()} clauses`);
      }
      throw this.unexpected(end);
    }
    return { text: this.soql, count, fields, from: fromTok.text, fromPos: fromTok.pos, where, orderBy, limit, offset };
  }

  private integer(): number {
    const t = this.next();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.unexpected(t);
    return Number(t.text);
  }

  private orderList(): OrderItem[] {
    const items: OrderItem[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind !== 'ident' || KEYWORDS.has(t.text.toLowerCase())) throw this.unexpected(t);
      let desc = false;
      if (this.isKw(this.peek(), 'asc')) this.next();
      else if (this.isKw(this.peek(), 'desc')) {
        this.next();
        desc = true;
      }
      let nullsFirst = !desc;
      if (this.isKw(this.peek(), 'nulls')) {
        this.next();
        const w = this.next();
        if (this.isKw(w, 'first')) nullsFirst = true;
        else if (this.isKw(w, 'last')) nullsFirst = false;
        else throw this.unexpected(w);
      }
      items.push({ path: t.text.split('.'), pos: t.pos, desc, nullsFirst });
      if (this.peek().kind !== 'comma') break;
      this.next();
    }
    return items;
  }

  private condition(): Condition {
    const first = this.unary();
    const t = this.peek();
    const joiner = this.isKw(t, 'and') ? 'and' : this.isKw(t, 'or') ? 'or' : null;
    if (!joiner) return first;
    const items = [first];
    while (this.isKw(this.peek(), joiner)) {
      this.next();
      items.push(this.unary());
      const other = joiner === 'and' ? 'or' : 'and';
      if (this.isKw(this.peek(), other)) throw this.unexpected(this.peek());
    }
    return { kind: joiner, items };
  }

  private unary(): Condition {
    const t = this.peek();
    if (this.isKw(t, 'not')) {
      this.next();
      return { kind: 'not', item: this.unary() };
    }
    if (t.kind === 'lparen') {
      this.next();
      const c = this.condition();
      const close = this.next();
      if (close.kind !== 'rparen') throw this.unexpected(close);
      return c;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const ft = this.next();
    if (ft.kind !== 'ident' || KEYWORDS.has(ft.text.toLowerCase())) throw this.unexpected(ft);
    if (this.peek().kind === 'lparen') throw this.unsupported(ft, `the function ${ft.text}() in WHERE`);
    const path = ft.text.split('.');
    const t = this.next();
    if (t.kind === 'op') return { kind: 'cmp', path, pos: ft.pos, op: t.value as CompareOp, value: this.literal() };
    if (this.isKw(t, 'like')) return { kind: 'like', path, pos: ft.pos, pattern: this.literal() };
    if (this.isKw(t, 'in')) return { kind: 'in', path, pos: ft.pos, negate: false, values: this.literalList() };
    if (this.isKw(t, 'not')) {
      const t2 = this.next();
      if (this.isKw(t2, 'in')) return { kind: 'in', path, pos: ft.pos, negate: true, values: this.literalList() };
      throw this.unexpected(t2);
    }
    if (this.isKw(t, 'includes') || this.isKw(t, 'excludes')) throw this.unsupported(t, 'INCLUDES / EXCLUDES');
    throw this.unexpected(t);
  }

  private literalList(): Literal[] {
    const open = this.next();
    if (open.kind !== 'lparen') throw this.unexpected(open);
    if (this.isKw(this.peek(), 'select')) throw this.unsupported(this.peek(), 'a semi-join subquery');
    const values: Literal[] = [];
    for (;;) {
      values.push(this.literal());
      const t = this.next();
      if (t.kind === 'rparen') break;
      if (t.kind !== 'comma') throw this.unexpected(t);
    }
    return values;
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { t: 'string', v: t.value.replace(/\\([%_])/g, '$1'), raw: t.value };
      case 'number':
        return { t: 'number', v: Number(t.text) };
      case 'date':
        return { t: 'date', v: t.text };
      case 'datetime': {
        const iso = t.text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
        const ms = Date.parse(iso);
        if (Number.isNaN(ms)) throw soqlError('MALFORMED_QUERY', this.soql, t.pos, `line 1:${t.pos} no viable alternative at character '${t.text}'`);
        return { t: 'datetime', v: ms };
      }
      case 'ident': {
        const lower = t.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { t: 'boolean', v: lower === 'true' };
        if (lower === 'null') return { t: 'null' };
        const upper = t.text.toUpperCase();
        if (DATE_FUNCTIONS.has(upper)) {
          let n = 1;
          if (DATE_FUNCTIONS_WITH_N.has(upper)) {
            const colon = this.next();
            if (colon.kind !== 'colon') throw this.unexpected(colon);
            n = this.integer();
          }
          return { t: 'dateFn', name: upper, n };
        }
        throw this.unexpected(t);
      }
      default:
        throw this.unexpected(t);
    }
  }
}

export function parseSoql(soql: string): SoqlAst {
  return new Parser(soql, lex(soql)).parse();
}
