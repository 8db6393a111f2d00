// `GET /query?q=` and `/queryAll?q=`, with server-side cursors for `nextRecordsUrl` paging: batches of
// 2000 (or `Sforce-Query-Options: batchSize=N`, 200..2000), at most `maxOpenCursors` open cursors per
// user (opening another drops the oldest), cursors idle for 15 minutes expire (INVALID_QUERY_LOCATOR).
import type { SandboxResponse } from '../common/http';
import type { ApiRequest, SandboxCore } from './core';
import type { Route } from './sobject-routes';
import { sfProblem } from './errors';
import { compileSoql, projectRow, runQuery, type CompiledQuery } from './soql-engine';
import { KEY_PREFIX } from './ids';

interface Cursor {
  id: string;
  orgId: string;
  userId: string;
  query: CompiledQuery;
  ids: string[];
  batchSize: number;
  lastUsed: number;
}

const CURSOR_IDLE_MS = 15 * 60_000;

export class CursorStore {
  private readonly cursors = new Map<string, Cursor>();

  clear(): void {
    this.cursors.clear();
  }

  dropOrg(orgId: string): void {
    for (const [k, c] of this.cursors) if (c.orgId === orgId) this.cursors.delete(k);
  }

  open(c: Cursor, maxPerUser: number, now: number): void {
    this.expire(now);
    const mine = [...this.cursors.values()].filter((x) => x.orgId === c.orgId && x.userId === c.userId);
    mine.sort((a, b) => a.lastUsed - b.lastUsed);
    while (mine.length >= maxPerUser) this.cursors.delete(mine.shift()!.id);
    this.cursors.set(c.id, c);
  }

  get(id: string, now: number): Cursor | undefined {
    const c = this.cursors.get(id);
    if (c && now - c.lastUsed > CURSOR_IDLE_MS) {
      this.cursors.delete(id);
      return undefined;
    }
    return c;
  }

  close(id: string): void {
    this.cursors.delete(id);
  }

  private expire(now: number): void {
    if (this.cursors.size < 64) return;
    for (const [k, c] of this.cursors) if (now - c.lastUsed > CURSOR_IDLE_MS) this.cursors.delete(k);
  }
}

function batchSizeOf(req: ApiRequest): number {
  const h = req.headers['sforce-query-options'];
  const m = typeof h === 'string' ? /batchSize\s*=\s*(\d+)/i.exec(h) : null;
  if (!m) return 2000;
  return Math.min(2000, Math.max(200, Number(m[1])));
}

export function queryRoutes(core: SandboxCore, cursors: CursorStore): Route[] {
  const page = (req: ApiRequest, cursor: Cursor, offset: number): SandboxResponse => {
    const table = req.org.table(cursor.query.def.name);
    const end = Math.min(cursor.ids.length, offset + cursor.batchSize);
    const records: Array<Record<string, unknown>> = [];
    for (let i = offset; i < end; i++) {
      const row = table.get(cursor.ids[i]!);
      if (row) records.push(projectRow(cursor.query, row, req.org, req.version));
    }
    const done = end >= cursor.ids.length;
    const body: Record<string, unknown> = { totalSize: cursor.ids.length, done };
    if (done) cursors.close(cursor.id);
    else {
      cursor.lastUsed = core.now();
      body.nextRecordsUrl = `/services/data/${req.version}/query/${cursor.id}-${end}`;
    }
    body.records = records;
    return { status: 200, body };
  };

  const run = (req: ApiRequest, includeDeleted: boolean): SandboxResponse => {
    const soql = req.query.get('q');
    if (soql === null || soql.trim() === '') throw sfProblem(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const q = compileSoql(req.org, soql);
    const now = core.now();
    const rows = runQuery(q, { org: req.org, now }, includeDeleted);
    if (q.count) return { status: 200, body: { totalSize: rows.length, done: true, records: [] } };
    const batchSize = batchSizeOf(req);
    if (rows.length <= batchSize) {
      return { status: 200, body: { totalSize: rows.length, done: true, records: rows.map((r) => projectRow(q, r, req.org, req.version)) } };
    }
    const cursor: Cursor = {
      id: core.env.nextId(KEY_PREFIX.QueryLocator),
      orgId: req.org.id,
      userId: req.session.userId,
      query: q,
      ids: rows.map((r) => r.Id),
      batchSize,
      lastUsed: now,
    };
    cursors.open(cursor, req.org.settings.maxOpenCursors, now);
    return page(req, cursor, 0);
  };

  const more = (req: ApiRequest): SandboxResponse => {
    const m = /^([A-Za-z0-9]{15,18})-(\d+)$/.exec(req.params.locator ?? '');
    const cursor = m ? cursors.get(m[1]!, core.now()) : undefined;
    if (!m || !cursor || cursor.orgId !== req.org.id) throw sfProblem(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    const offset = Number(m[2]);
    if (offset > cursor.ids.length) throw sfProblem(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    return page(req, cursor, offset);
  };

  return [
    ['GET', '/services/data/:v/query', (req) => run(req, false)],
    ['GET', '/services/data/:v/queryAll', (req) => run(req, true)],
    ['GET', '/services/data/:v/query/:locator', more],
    ['GET', '/services/data/:v/queryAll/:locator', more],
  ];
}
