// sObject Collections: create, update, upsert by external id (200 records), retrieve (2000 ids), delete;
// per-record results, allOrNone rollback with ALL_OR_NONE_OPERATION_ROLLED_BACK for the others.
import type { SandboxResponse } from '../common/http';
import type { ApiRequest, SandboxCore } from './core';
import type { Route } from './sobject-routes';
import { bodyObject, fieldsParam } from './sobject-routes';
import { RecordError, sfProblem } from './errors';
import { deleteRecord, insertRecord, requireSObject, updateRecord, upsertRecord, type Transaction } from './dml';
import { recordJson } from './record-json';
import { toId18 } from './ids';
import type { FieldDef, SObjectDef } from './schema';

interface RecordResult {
  id?: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
}

const MAX_RECORDS = 200;
const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [] as string[],
};

function tooMany(): never {
  throw sfProblem(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_RECORDS} records into this call`);
}

function collectionBody(req: ApiRequest): { allOrNone: boolean; records: Array<Record<string, unknown>> } {
  const body = bodyObject(req);
  const records = body.records;
  if (!Array.isArray(records)) throw sfProblem(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of collection: records is required');
  if (records.length > MAX_RECORDS) tooMany();
  for (const r of records) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw sfProblem(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of sObject');
  }
  return { allOrNone: body.allOrNone === true || body.allOrNone === 'true', records: records as Array<Record<string, unknown>> };
}

function typeOf(rec: Record<string, unknown>): string | null {
  const attrs = rec.attributes as { type?: unknown } | undefined;
  return attrs && typeof attrs.type === 'string' ? attrs.type : null;
}

function asFailure(e: RecordError, extra: Partial<RecordResult> = {}): RecordResult {
  // A single-record NOT_FOUND reads as an invalid cross reference inside a collection.
  const err = e.statusCode === 'NOT_FOUND' ? { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] } : e.toResult();
  return { ...extra, success: false, errors: [err] };
}

/**
 * Runs one operation per record inside one transaction. Unknown fields (a deserialisation error) fail
 * the whole request; record errors fail their record; with allOrNone every write is undone.
 */
function runCollection(
  core: SandboxCore,
  req: ApiRequest,
  allOrNone: boolean,
  count: number,
  op: (tx: Transaction, i: number) => RecordResult,
): SandboxResponse {
  const results = core.transaction(req.org, req.actor, (tx) => {
    const out: RecordResult[] = [];
    for (let i = 0; i < count; i++) {
      try {
        out.push(op(tx, i));
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        out.push(asFailure(e, (e as RecordError & { extra?: Partial<RecordResult> }).extra));
      }
    }
    if (allOrNone && out.some((r) => !r.success)) {
      tx.rollback();
      return out.map((r) => (r.success ? { ...(r.id !== undefined ? { id: null } : {}), success: false, errors: [ROLLED_BACK], ...(r.created !== undefined ? { created: false } : {}) } : r));
    }
    return out;
  });
  return { status: 200, body: results };
}

function withExtra(e: RecordError, extra: Partial<RecordResult>): RecordError {
  return Object.assign(e, { extra });
}

function idsParam(req: ApiRequest, max: number): string[] {
  const raw = req.query.get('ids');
  if (!raw) throw sfProblem(400, 'MISSING_ARGUMENT', 'ids parameter is required');
  const ids = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length > max) throw sfProblem(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${max} records into this call`);
  return ids;
}

function retrieve(req: ApiRequest, def: SObjectDef, ids: string[], fields: FieldDef[] | undefined): SandboxResponse {
  if (!fields) throw sfProblem(400, 'MISSING_ARGUMENT', 'fields parameter is required');
  const table = req.org.table(def.name);
  const out = ids.map((raw) => {
    const id = toId18(raw);
    const row = id ? table.get(id) : undefined;
    return row && !row.IsDeleted ? recordJson(req.version, def, row, fields) : null;
  });
  return { status: 200, body: out };
}

export function collectionRoutes(core: SandboxCore): Route[] {
  const base = '/services/data/:v/composite/sobjects';
  return [
    [
      'POST',
      base,
      (req) => {
        const { allOrNone, records } = collectionBody(req);
        return runCollection(core, req, allOrNone, records.length, (tx, i) => {
          const rec = records[i]!;
          const type = typeOf(rec);
          if (!type) throw new RecordError('INVALID_TYPE', 'Must send a concrete entity type.', []);
          const def = tx.org.sobject(type);
          if (!def) throw new RecordError('INVALID_TYPE', `sObject type '${type}' is not supported.`, []);
          return { id: insertRecord(tx, def, rec), success: true, errors: [] };
        });
      },
    ],
    [
      'PATCH',
      base,
      (req) => {
        const { allOrNone, records } = collectionBody(req);
        return runCollection(core, req, allOrNone, records.length, (tx, i) => {
          const rec = records[i]!;
          const rawId = (rec.id ?? rec.Id) as unknown;
          if (typeof rawId !== 'string' || rawId === '') throw new RecordError('MISSING_ARGUMENT', 'Id not specified in an update call', []);
          const type = typeOf(rec);
          if (!type) throw withExtra(new RecordError('INVALID_TYPE', 'Must send a concrete entity type.', []), { id: rawId });
          const def = tx.org.sobject(type);
          if (!def) throw withExtra(new RecordError('INVALID_TYPE', `sObject type '${type}' is not supported.`, []), { id: rawId });
          const body: Record<string, unknown> = { ...rec };
          delete body.id;
          delete body.Id;
          try {
            return { id: updateRecord(tx, def, rawId, body), success: true, errors: [] };
          } catch (e) {
            if (e instanceof RecordError) throw withExtra(e, { id: toId18(rawId) ?? rawId });
            throw e;
          }
        });
      },
    ],
    [
      'DELETE',
      base,
      (req) => {
        const ids = idsParam(req, MAX_RECORDS);
        const allOrNone = req.query.get('allOrNone') === 'true';
        return runCollection(core, req, allOrNone, ids.length, (tx, i) => {
          const raw = ids[i]!;
          const id = toId18(raw);
          if (!id) throw withExtra(new RecordError('MALFORMED_ID', `malformed id ${raw}`, []), { id: raw });
          const found = tx.org.findAnywhere(id);
          if (!found) throw withExtra(new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []), { id });
          try {
            return { id: deleteRecord(tx, tx.org.sobject(found.sobject)!, id), success: true, errors: [] };
          } catch (e) {
            if (e instanceof RecordError) throw withExtra(e, { id });
            throw e;
          }
        });
      },
    ],
    [
      'GET',
      `${base}/:type`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        return retrieve(req, def, idsParam(req, 2000), fieldsParam(def, req.query.get('fields')));
      },
    ],
    [
      'POST',
      `${base}/:type`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const body = bodyObject(req);
        if (!Array.isArray(body.ids)) throw sfProblem(400, 'MISSING_ARGUMENT', 'ids is required');
        if (body.ids.length > 2000) throw sfProblem(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 2000 records into this call');
        const fields = Array.isArray(body.fields) ? fieldsParam(def, body.fields.join(',')) : undefined;
        return retrieve(req, def, body.ids.map(String), fields);
      },
    ],
    [
      'PATCH',
      `${base}/:type/:field`,
      (req) => {
        const def = requireSObject(req.org, req.params.type!);
        const f = def.byName.get(req.params.field!.toLowerCase());
        if (!f) throw sfProblem(400, 'INVALID_FIELD', `No such column '${req.params.field}' on sobject of type ${def.name}`);
        if (!f.externalId && f.name !== 'Id') {
          throw sfProblem(400, 'INVALID_FIELD', `Field name provided, ${f.name} is not an External ID or indexed field for ${def.name}`);
        }
        const { allOrNone, records } = collectionBody(req);
        const valueOf = (rec: Record<string, unknown>): unknown => {
          for (const k of Object.keys(rec)) if (k.toLowerCase() === f.name.toLowerCase()) return rec[k];
          return undefined;
        };
        // The same external id twice in one request fails every occurrence.
        const counts = new Map<string, number>();
        for (const rec of records) {
          const v = valueOf(rec);
          if (typeof v === 'string' && v !== '') counts.set(v.toLowerCase(), (counts.get(v.toLowerCase()) ?? 0) + 1);
        }
        return runCollection(core, req, allOrNone, records.length, (tx, i) => {
          const rec = records[i]!;
          const type = typeOf(rec);
          if (!type) throw withExtra(new RecordError('INVALID_TYPE', 'Must send a concrete entity type.', []), { created: false });
          if (type.toLowerCase() !== def.name.toLowerCase()) {
            throw withExtra(new RecordError('INVALID_TYPE', `Record type ${type} does not match the type in the URL: ${def.name}`, []), { created: false });
          }
          const raw = valueOf(rec);
          try {
            if (f.name === 'Id') {
              const body = { ...rec };
              delete body.Id;
              delete body.id;
              if (typeof raw === 'string' && raw !== '') return { id: updateRecord(tx, def, raw, body), success: true, errors: [], created: false };
              return { id: insertRecord(tx, def, body), success: true, errors: [], created: true };
            }
            if (raw === undefined || raw === null || raw === '') throw new RecordError('MISSING_ARGUMENT', `${f.name} not specified`, [f.name]);
            const value = String(raw);
            if ((counts.get(value.toLowerCase()) ?? 0) > 1) throw new RecordError('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, [f.name]);
            const outcome = upsertRecord(tx, def, f, value, rec);
            return { id: outcome.id, success: true, errors: [], created: outcome.created };
          } catch (e) {
            if (e instanceof RecordError) throw withExtra(e, { created: false });
            throw e;
          }
        });
      },
    ],
  ];
}

