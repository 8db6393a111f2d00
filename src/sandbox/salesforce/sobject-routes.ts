// sObject rows and metadata: describeGlobal, describe, create / read / update / delete, get and upsert
// by external id, updated / deleted since, and the org's limits.
import type { SandboxResponse } from '../common/http';
import type { ApiHandler, ApiRequest, SandboxCore } from './core';
import { RecordError, sfProblem, notFound } from './errors';
import { deleteRecord, insertRecord, requireSObject, updateRecord, upsertRecord, type Transaction, type UpsertOutcome } from './dml';
import { describeBasic, describeGlobal, describeSObject } from './describe';
import { recordJson } from './record-json';
import { toId18 } from './ids';
import { parseDateTimeInput, formatDateTime } from './values';
import type { FieldDef, SObjectDef } from './schema';
import { apiUsage } from './api-usage';
import type { Row } from './org';

export type Route = [method: string, pattern: string, handler: ApiHandler];

const json = (status: number, body: unknown): SandboxResponse => ({ status, body });

export function bodyObject(req: ApiRequest): Record<string, unknown> {
  if (req.rawBody.length === 0) return {};
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw sfProblem(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of sObject from the request body');
  }
  return req.body as Record<string, unknown>;
}

/** Resolves `?fields=a,b` against the sObject (INVALID_FIELD for unknown names). */
export function fieldsParam(def: SObjectDef, raw: string | null): FieldDef[] | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  return raw.split(',').map((name) => {
    const f = def.byName.get(name.trim().toLowerCase());
    if (!f) {
      throw sfProblem(
        400,
        'INVALID_FIELD',
        `No such column '${name.trim()}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return f;
  });
}

export function singleWrite<T>(core: SandboxCore, req: ApiRequest, fn: (tx: Transaction) => T): T {
  try {
    return core.transaction(req.org, req.actor, fn);
  } catch (e) {
    if (e instanceof RecordError) throw e.toProblem();
    throw e;
  }
}

function readableRow(req: ApiRequest, def: SObjectDef, rawId: string): Row {
  const id = toId18(rawId);
  if (!id) throw notFound(`Provided external ID field does not exist or is not accessible: ${rawId}`);
  const row = id.startsWith(def.keyPrefix) ? req.org.table(def.name).get(id) : undefined;
  if (!row || row.IsDeleted) throw notFound();
  return row;
}

function externalField(def: SObjectDef, name: string, forWrite: boolean): FieldDef {
  const f = def.byName.get(name.toLowerCase());
  if (!f) throw notFound();
  if (forWrite ? !f.externalId && f.name !== 'Id' : !f.externalId && !f.idLookup) {
    throw sfProblem(400, 'INVALID_FIELD', `Field name provided, ${f.name} is not an External ID or indexed field for ${def.name}`);
  }
  return f;
}

function findByField(req: ApiRequest, def: SObjectDef, f: FieldDef, value: string): Row | undefined {
  if (f.name === 'Id') {
    const id = toId18(value);
    const row = id ? req.org.table(def.name).get(id) : undefined;
    return row && !row.IsDeleted ? row : undefined;
  }
  if (f.unique) return req.org.findByUnique(def.name, f.name, value);
  const lower = value.toLowerCase();
  for (const r of req.org.rows(def.name)) if (!r.IsDeleted && typeof r[f.name] === 'string' && (r[f.name] as string).toLowerCase() === lower) return r;
  return undefined;
}

/**
 * Full-record JSON, cached per row object: rows are never mutated (a write replaces the object), so a
 * cached string is exactly what serialising the row again would give. Keyed by schema too, since
 * deploying or removing fields changes the field list.
 */
const recordCache = new WeakMap<Row, { def: SObjectDef; version: string; json: string }>();

function cachedRecordJson(version: string, def: SObjectDef, row: Row): string {
  const hit = recordCache.get(row);
  if (hit && hit.def === def && hit.version === version) return hit.json;
  const out = JSON.stringify(recordJson(version, def, row));
  recordCache.set(row, { def, version, json: out });
  return out;
}

function sinceWindow(req: ApiRequest): [number, number] {
  const start = parseDateTimeInput(req.query.get('start') ?? '');
  const end = parseDateTimeInput(req.query.get('end') ?? '');
  if (start === null || end === null) throw sfProblem(400, 'INVALID_REPLICATION_DATE', 'start and end must be valid dateTime values');
  if (end < start) throw sfProblem(400, 'INVALID_REPLICATION_DATE', 'EndDate can not be before StartDate');
  return [start, end];
}

export function sobjectRoutes(core: SandboxCore): Route[] {
  const v = '/services/data/:v';
  return [
    [
      'GET',
      v,
      (req) =>
        json(200, {
          tooling: `/services/data/${req.version}/tooling`,
          metadata: `/services/data/${req.version}/metadata`,
          composite: `/services/data/${req.version}/composite`,
          query: `/services/data/${req.version}/query`,
          queryAll: `/services/data/${req.version}/queryAll`,
          sobjects: `/services/data/${req.version}/sobjects`,
          limits: `/services/data/${req.version}/limits`,
          identity: `${core.publicUrl()}/id/${req.org.id}/${req.session.userId}`,
        }),
    ],
    ['GET', `${v}/limits`, (req) => limitsBody(core, req)],
    ['GET', `${v}/sobjects`, (req) => json(200, describeGlobal(req.version, req.org.schema))],
    ['GET', `${v}/sobjects/:type`, (req) => json(200, describeBasic(req.version, requireSObject(req.org, req.params.type!)))],
    ['GET', `${v}/sobjects/:type/describe`, (req) => json(200, describeSObject(req.version, requireSObject(req.org, req.params.type!)))],
    [
      'GET',
      `${v}/sobjects/:type/updated`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const [start, end] = sinceWindow(req);
        const ids: string[] = [];
        for (const r of req.org.rows(def.name)) {
          const t = r.SystemModstamp as number;
          if (!r.IsDeleted && t >= start && t < end) ids.push(r.Id);
        }
        return json(200, { ids, latestDateCovered: formatDateTime(Math.min(end, core.now())) });
      },
    ],
    [
      'GET',
      `${v}/sobjects/:type/deleted`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const [start, end] = sinceWindow(req);
        const deletedRecords: Array<{ id: string; deletedDate: string }> = [];
        for (const r of req.org.rows(def.name)) {
          const t = r.SystemModstamp as number;
          if (r.IsDeleted && t >= start && t < end) deletedRecords.push({ id: r.Id, deletedDate: formatDateTime(t) });
        }
        return json(200, { deletedRecords, earliestDateAvailable: formatDateTime(req.org.data.createdAt), latestDateCovered: formatDateTime(Math.min(end, core.now())) });
      },
    ],
    [
      'POST',
      `${v}/sobjects/:type`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const body = bodyObject(req);
        const id = singleWrite(core, req, (tx) => insertRecord(tx, def, body));
        return json(201, { id, success: true, errors: [] });
      },
    ],
    [
      'GET',
      `${v}/sobjects/:type/:id`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const fields = fieldsParam(def, req.query.get('fields'));
        const row = readableRow(req, def, req.params.id!);
        if (fields) return json(200, recordJson(req.version, def, row, fields));
        return { status: 200, headers: { 'content-type': 'application/json;charset=UTF-8' }, body: cachedRecordJson(req.version, def, row) };
      },
    ],
    [
      'PATCH',
      `${v}/sobjects/:type/:id`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const body = bodyObject(req);
        singleWrite(core, req, (tx) => updateRecord(tx, def, req.params.id!, body));
        return { status: 204 };
      },
    ],
    [
      'DELETE',
      `${v}/sobjects/:type/:id`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        singleWrite(core, req, (tx) => deleteRecord(tx, def, req.params.id!));
        return { status: 204 };
      },
    ],
    [
      'GET',
      `${v}/sobjects/:type/:field/:value`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const f = externalField(def, req.params.field!, false);
        const fields = fieldsParam(def, req.query.get('fields'));
        const row = findByField(req, def, f, req.params.value!);
        if (!row) throw notFound(`Provided external ID field does not exist or is not accessible: ${req.params.value}`);
        return json(200, recordJson(req.version, def, row, fields));
      },
    ],
    [
      'PATCH',
      `${v}/sobjects/:type/:field/:value`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const f = externalField(def, req.params.field!, true);
        const body = bodyObject(req);
        const value = req.params.value!;
        if (req.query.get('updateOnly') === 'true' && !findByField(req, def, f, value)) throw notFound();
        const outcome: UpsertOutcome = singleWrite(core, req, (tx) => {
          if (f.name === 'Id') {
            const existing = findByField(req, def, f, value);
            return existing ? { id: updateRecord(tx, def, existing.Id, body), created: false } : { id: insertRecord(tx, def, body), created: true };
          }
          return upsertRecord(tx, def, f, value, body);
        });
        return json(outcome.created ? 201 : 200, { id: outcome.id, success: true, errors: [], created: outcome.created });
      },
    ],
    [
      'DELETE',
      `${v}/sobjects/:type/:field/:value`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const f = externalField(def, req.params.field!, true);
        const row = findByField(req, def, f, req.params.value!);
        if (!row) throw notFound(`Provided external ID field does not exist or is not accessible: ${req.params.value}`);
        singleWrite(core, req, (tx) => deleteRecord(tx, def, row.Id));
        return { status: 204 };
      },
    ],
  ];
}

function limitsBody(core: SandboxCore, req: ApiRequest): SandboxResponse {
  const max = req.org.settings.dailyApiLimit;
  const used = apiUsage(req.org, core.now());
  const fixed = (m: number): { Max: number; Remaining: number } => ({ Max: m, Remaining: m });
  return json(200, {
    ConcurrentAsyncGetReportInstances: fixed(200),
    ConcurrentSyncReportRuns: fixed(20),
    DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
    DailyAsyncApexExecutions: fixed(250000),
    DailyBulkApiBatches: fixed(15000),
    DailyBulkV2QueryFileStorageMB: fixed(976562),
    DailyBulkV2QueryJobs: fixed(10000),
    DailyDeliveredPlatformEvents: fixed(50000),
    DailyStreamingApiEvents: fixed(1000000),
    DataStorageMB: fixed(1024),
    FileStorageMB: fixed(2048),
    HourlyPublishedPlatformEvents: fixed(250000),
    MonthlyPlatformEventsUsageEntitlement: fixed(1500000),
  });
}
