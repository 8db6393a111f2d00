// The write path shared by sObject rows, sObject Collections and seeding: input coercion and validation
// with Salesforce's error codes, standard and derived fields, Partner → OpportunityPartner, cascade
// deletes, unique indexes, an undo log for allOrNone, and the change events of each transaction.
import { randomUUID } from 'node:crypto';
import type { Org, Row } from './org';
import type { FieldDef, SObjectDef } from './schema';
import { FORECAST_CATEGORY } from './schema';
import { RecordError, sfProblem } from './errors';
import { toId18 } from './ids';
import { parseDateInput, parseDateTimeInput } from './values';
import { cdcValue } from './record-json';
import type { ChangeType, PendingChange } from './change-events';

export interface Actor {
  userId: string;
  /** `com/salesforce/api/rest/66.0;client=dealreg`, or the UI's internal-API origin. */
  changeOrigin: string;
  /** Seeding through the control API: read-only fields (UserType, CreatedDate...) may be set. */
  system: boolean;
}

/** Sandbox-wide services the write path needs beyond one org. */
export interface DmlEnv {
  nextId(prefix: string): string;
  /** True when another user (in any org) already has this username. */
  usernameTaken(username: string, exceptUserId: string | null): boolean;
  /** An injected per-record failure for this org, if one is queued. */
  takeRecordFault(orgId: string, sobject: string): { errorCode: string; message: string } | null;
}

export class Transaction {
  readonly key = randomUUID();
  private readonly undo: Array<() => void> = [];
  readonly changes: PendingChange[] = [];

  constructor(
    readonly org: Org,
    readonly actor: Actor,
    /** Commit time, truncated to the second. */
    readonly now: number,
    readonly env: DmlEnv,
    /** Build change events (false for silent seeding). */
    readonly emitEvents = true,
  ) {}

  /** Writes a row (before = null for an insert) and remembers how to undo it. */
  put(sobject: string, before: Row | null, after: Row): void {
    const table = this.org.table(sobject);
    table.set(after.Id, after);
    this.org.indexRow(sobject, before, after);
    this.undo.push(() => {
      if (before) table.set(before.Id, before);
      else table.delete(after.Id);
      this.org.indexRow(sobject, after, before);
    });
  }

  /** A savepoint: `rollbackTo(mark)` undoes everything written after it. */
  mark(): { undo: number; changes: number } {
    return { undo: this.undo.length, changes: this.changes.length };
  }

  rollbackTo(mark: { undo: number; changes: number }): void {
    while (this.undo.length > mark.undo) this.undo.pop()!();
    this.changes.length = mark.changes;
  }

  rollback(): void {
    this.rollbackTo({ undo: 0, changes: 0 });
  }
}

export function requireSObject(org: Org, name: string): SObjectDef {
  const def = org.sobject(name);
  if (!def) throw sfProblem(404, 'NOT_FOUND', 'The requested resource does not exist');
  return def;
}

// ---------------------------------------------------------------------------------------------------
// Input coercion

interface Coerced {
  values: Record<string, unknown>;
  fields: FieldDef[];
}

/**
 * Turns a JSON body into stored values. An unknown field fails the whole request (as a deserialisation
 * error does in Salesforce); a value problem fails only this record.
 */
function coerce(tx: Transaction, def: SObjectDef, input: Record<string, unknown>, mode: 'create' | 'update', skip: Set<string>): Coerced {
  const values: Record<string, unknown> = {};
  const fields: FieldDef[] = [];
  const readOnly: string[] = [];
  for (const key of Object.keys(input)) {
    if (key === 'attributes' || skip.has(key.toLowerCase())) continue;
    const f = def.byName.get(key.toLowerCase());
    if (!f) throw sfProblem(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`);
    if (f.name === 'Id' && mode === 'create') throw new RecordError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']);
    if (!tx.actor.system && !(mode === 'create' ? f.createable : f.updateable)) readOnly.push(f.name);
    values[f.name] = coerceValue(f, input[key]);
    fields.push(f);
  }
  if (readOnly.length > 0) {
    throw new RecordError(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
      readOnly,
    );
  }
  return { values, fields };
}

function typeError(f: FieldDef, v: unknown): RecordError {
  const shown = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return new RecordError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${f.label}: value not of required type: ${shown}`, [f.name]);
}

function coerceValue(f: FieldDef, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (f.type) {
    case 'string':
    case 'textarea':
    case 'url':
    case 'email':
    case 'phone':
    case 'picklist': {
      if (typeof v === 'object') throw typeError(f, v);
      const s = String(v);
      return s === '' ? null : s;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw typeError(f, v);
    case 'currency':
    case 'double':
    case 'percent':
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw typeError(f, v);
      if (f.type === 'int') {
        if (!Number.isInteger(n)) throw typeError(f, v);
        return n;
      }
      const factor = 10 ** f.scale;
      const rounded = Math.round(n * factor) / factor;
      if (f.precision > 0 && Math.abs(Math.trunc(rounded)).toString().length > f.precision - f.scale) {
        throw new RecordError('NUMBER_OUTSIDE_VALID_RANGE', `${f.label}: value outside of valid range on numeric field: ${v}`, [f.name]);
      }
      return rounded;
    }
    case 'date': {
      if (typeof v !== 'string') throw typeError(f, v);
      const d = parseDateInput(v);
      if (!d) throw typeError(f, v);
      return d;
    }
    case 'datetime': {
      if (typeof v !== 'string') throw typeError(f, v);
      const t = parseDateTimeInput(v);
      if (t === null) throw typeError(f, v);
      return t;
    }
    case 'id':
    case 'reference': {
      if (typeof v !== 'string') throw typeError(f, v);
      if (v === '') return null;
      const id = toId18(v);
      if (!id) throw new RecordError('MALFORMED_ID', `${f.label}: id value of incorrect type: ${v}`, [f.name]);
      return id;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation of a complete row

function validateRow(tx: Transaction, def: SObjectDef, row: Row, touched: FieldDef[], isCreate: boolean): void {
  const missing: string[] = [];
  for (const f of def.fields) {
    const v = row[f.name];
    if ((v === null || v === undefined) && !f.nillable && f.type !== 'boolean' && (f.createable || f.updateable)) {
      if (isCreate ? f.required : touched.includes(f)) missing.push(f.name);
    }
  }
  if (missing.length > 0) throw new RecordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
  for (const f of touched) {
    const v = row[f.name];
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' && f.length > 0 && f.type !== 'reference' && f.type !== 'id' && v.length > f.length) {
      throw new RecordError('STRING_TOO_LONG', `${f.label}: data value too large: ${v.length > 80 ? v.slice(0, 80) + '...' : v} (max length=${f.length})`, [f.name]);
    }
    if (f.type === 'picklist' && f.restrictedPicklist && !f.picklistValues.some((p) => p.active && p.value === v)) {
      throw new RecordError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${f.label}: bad value for restricted picklist field: ${String(v)}`, [f.name]);
    }
    if (f.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(v))) {
      throw new RecordError('INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${String(v)}`, [f.name]);
    }
    if (f.type === 'reference') checkReference(tx, def, f, v as string);
  }
  for (const f of def.fields) {
    if (!f.unique) continue;
    const v = row[f.name];
    if (typeof v !== 'string') continue;
    if (def.name === 'User' && f.name === 'Username') {
      if (tx.env.usernameTaken(v, row.Id)) {
        throw new RecordError(
          'DUPLICATE_USERNAME',
          'Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations.',
          ['Username'],
        );
      }
      continue;
    }
    const other = tx.org.findByUnique(def.name, f.name, v);
    if (other && other.Id !== row.Id) {
      throw new RecordError('DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${other.Id}`, []);
    }
  }
}

const SERVED_TARGETS = new Set(['Account', 'Opportunity', 'User', 'Partner', 'OpportunityPartner']);

function checkReference(tx: Transaction, def: SObjectDef, f: FieldDef, id: string): void {
  const target = f.referenceTo[0]!;
  if (target === 'RecordType') {
    if (!def.recordTypes.some((r) => r.id === id)) throw new RecordError('INVALID_CROSS_REFERENCE_KEY', `Record Type ID: this ID value isn't valid for the user: ${id}`, [f.name]);
    return;
  }
  if (!SERVED_TARGETS.has(target)) return; // Profile, UserRole, Contact: the sandbox checks the id's shape only
  const targetDef = tx.org.sobject(target);
  if (targetDef && !id.startsWith(targetDef.keyPrefix)) {
    throw new RecordError('FIELD_INTEGRITY_EXCEPTION', `${f.label}: id value of incorrect type: ${id}`, [f.name]);
  }
  const row = tx.org.table(target).get(id);
  if (!row || row.IsDeleted) throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [f.name]);
  if (f.name === 'OwnerId' && row.IsActive !== true && !tx.actor.system) {
    throw new RecordError('INACTIVE_OWNER_OR_USER', `operation performed with inactive user [${id}] as owner of ${def.label.toLowerCase()}`, []);
  }
}

function takeFault(tx: Transaction, def: SObjectDef, id: string | null): void {
  const fault = tx.env.takeRecordFault(tx.org.id, def.name);
  if (!fault) return;
  const message =
    fault.message ||
    (fault.errorCode === 'UNABLE_TO_LOCK_ROW'
      ? `unable to obtain exclusive access to this record${id ? ` or 1 records: ${id}` : ''}`
      : fault.errorCode);
  throw new RecordError(fault.errorCode, message, []);
}

// ---------------------------------------------------------------------------------------------------
// Derived fields

function deriveFields(tx: Transaction, def: SObjectDef, row: Row, before: Row | null, touched: Set<string>): void {
  if (def.name === 'Opportunity') {
    const stage = tx.org.stage(String(row.StageName ?? ''));
    const stageChanged = !before || before.StageName !== row.StageName;
    row.IsClosed = stage?.IsClosed === true;
    row.IsWon = stage?.IsWon === true;
    if (stage && stageChanged && !touched.has('Probability')) row.Probability = Number(stage.DefaultProbability ?? 0);
    if (stage && stageChanged && !touched.has('ForecastCategoryName')) row.ForecastCategoryName = stage.ForecastCategoryName;
    row.ForecastCategory = FORECAST_CATEGORY[String(row.ForecastCategoryName)] ?? 'Pipeline';
    const amount = row.Amount as number | null | undefined;
    const probability = row.Probability as number | null | undefined;
    row.ExpectedRevenue = amount != null && probability != null ? Math.round(amount * probability) / 100 : null;
  } else if (def.name === 'User') {
    row.Name = [row.FirstName, row.LastName].filter((x) => typeof x === 'string' && x.length > 0).join(' ');
  }
}

function newRow(tx: Transaction, def: SObjectDef, values: Record<string, unknown>): Row {
  const now = tx.now;
  const row: Row = { Id: tx.env.nextId(def.keyPrefix), IsDeleted: false };
  for (const f of def.fields) if (f.type === 'boolean') row[f.name] = false;
  row.CreatedDate = now;
  row.LastModifiedDate = now;
  row.SystemModstamp = now;
  row.CreatedById = tx.actor.userId;
  row.LastModifiedById = tx.actor.userId;
  if (def.byName.has('ownerid')) row.OwnerId = tx.actor.userId;
  if (def.recordTypes.length > 0) row.RecordTypeId = (def.recordTypes.find((r) => r.isDefault) ?? def.recordTypes[0])!.id;
  if (def.name === 'User') {
    row.IsActive = true;
    row.UserType = 'Standard';
  }
  if (def.name === 'Opportunity') row.HasOpportunityLineItem = false;
  Object.assign(row, values);
  return row;
}

// ---------------------------------------------------------------------------------------------------
// Change events

const COMPOUND: Record<string, Record<string, [string, string]>> = {
  Account: {
    BillingStreet: ['BillingAddress', 'Street'],
    BillingCity: ['BillingAddress', 'City'],
    BillingState: ['BillingAddress', 'State'],
    BillingPostalCode: ['BillingAddress', 'PostalCode'],
    BillingCountry: ['BillingAddress', 'Country'],
  },
};
const NOT_IN_EVENTS = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

function recordChange(tx: Transaction, def: SObjectDef, changeType: ChangeType, before: Row | null, after: Row): void {
  if (!def.cdc || !tx.emitEvents) return;
  const compound = COMPOUND[def.name] ?? {};
  const fields: Record<string, unknown> = {};
  const changedFields: string[] = [];
  const nulledFields: string[] = [];
  const put = (f: FieldDef, v: unknown): void => {
    const c = compound[f.name];
    if (c) {
      const obj = (fields[c[0]] as Record<string, unknown> | undefined) ?? {};
      obj[c[1]] = cdcValue(f, v);
      fields[c[0]] = obj;
    } else {
      fields[f.name] = cdcValue(f, v);
    }
  };
  const nameOf = (f: FieldDef): string => (compound[f.name] ? `${compound[f.name]![0]}.${compound[f.name]![1]}` : f.name);
  if (changeType === 'CREATE' || changeType === 'UNDELETE') {
    for (const f of def.fields) {
      if (NOT_IN_EVENTS.has(f.name) || f.calculated) continue;
      const v = after[f.name];
      if (v === null || v === undefined) continue;
      put(f, v);
    }
  } else if (changeType === 'UPDATE' && before) {
    for (const f of def.fields) {
      if (NOT_IN_EVENTS.has(f.name) || f.calculated) continue;
      const a = after[f.name] ?? null;
      const b = before[f.name] ?? null;
      if (a === b && f.name !== 'LastModifiedDate') continue;
      put(f, a);
      changedFields.push(nameOf(f));
      if (a === null) nulledFields.push(nameOf(f));
    }
  }
  tx.changes.push({ entityName: def.name, recordId: after.Id, changeType, fields, changedFields, nulledFields });
}

// ---------------------------------------------------------------------------------------------------
// Operations

export function insertRecord(tx: Transaction, def: SObjectDef, input: Record<string, unknown>): string {
  if (!def.createable && !tx.actor.system) throw new RecordError('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', `entity type cannot be inserted: ${def.label}`, []);
  const { values, fields } = coerce(tx, def, input, 'create', new Set());
  const row = newRow(tx, def, values);
  const touched = new Set(fields.map((f) => f.name));
  deriveFields(tx, def, row, null, touched);
  validateRow(tx, def, row, fields, true);
  if (def.name === 'Partner') validatePartner(tx, row);
  takeFault(tx, def, null);
  tx.put(def.name, null, row);
  recordChange(tx, def, 'CREATE', null, row);
  if (def.name === 'Partner') afterPartnerInsert(tx, row);
  return row.Id;
}

export function findForWrite(tx: Transaction, def: SObjectDef, rawId: string): Row {
  const id = toId18(rawId);
  if (!id) throw new RecordError('MALFORMED_ID', `${def.label} ID: id value of incorrect type: ${rawId}`, ['Id']);
  if (!id.startsWith(def.keyPrefix)) throw new RecordError('MALFORMED_ID', `${def.label} ID: id value of incorrect type: ${rawId}`, ['Id']);
  const row = tx.org.table(def.name).get(id);
  if (!row) throw new RecordError('NOT_FOUND', 'The requested resource does not exist', []);
  if (row.IsDeleted) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
  return row;
}

export function updateRecord(tx: Transaction, def: SObjectDef, rawId: string, input: Record<string, unknown>): string {
  const before = findForWrite(tx, def, rawId);
  if (!def.updateable && !tx.actor.system) throw new RecordError('CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY', `entity type cannot be updated: ${def.label}`, []);
  const { values, fields } = coerce(tx, def, input, 'update', new Set(['id']));
  const row: Row = { ...before, ...values, Id: before.Id };
  row.LastModifiedDate = tx.now;
  row.SystemModstamp = tx.now;
  row.LastModifiedById = tx.actor.userId;
  const touched = new Set(fields.map((f) => f.name));
  deriveFields(tx, def, row, before, touched);
  validateRow(tx, def, row, fields, false);
  takeFault(tx, def, row.Id);
  tx.put(def.name, before, row);
  recordChange(tx, def, 'UPDATE', before, row);
  return row.Id;
}

export interface UpsertOutcome {
  id: string;
  created: boolean;
}

export function upsertRecord(tx: Transaction, def: SObjectDef, extField: FieldDef, extValue: string, input: Record<string, unknown>): UpsertOutcome {
  const body: Record<string, unknown> = { ...input };
  for (const k of Object.keys(body)) if (k.toLowerCase() === extField.name.toLowerCase()) delete body[k];
  const existing = tx.org.findByUnique(def.name, extField.name, extValue);
  if (existing) {
    const id = updateRecord(tx, def, existing.Id, body);
    return { id, created: false };
  }
  const id = insertRecord(tx, def, { ...body, [extField.name]: extValue });
  return { id, created: true };
}

export function deleteRecord(tx: Transaction, def: SObjectDef, rawId: string): string {
  const row = findForWrite(tx, def, rawId);
  if (!def.deletable && !tx.actor.system) throw new RecordError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be deleted: ${def.label}`, []);
  takeFault(tx, def, row.Id);
  cascadeDelete(tx, def, row);
  return row.Id;
}

function markDeleted(tx: Transaction, def: SObjectDef, row: Row): void {
  const after: Row = { ...row, IsDeleted: true, SystemModstamp: tx.now };
  tx.put(def.name, row, after);
  recordChange(tx, def, 'DELETE', row, after);
}

function cascadeDelete(tx: Transaction, def: SObjectDef, row: Row): void {
  const org = tx.org;
  if (def.name === 'Account') {
    const opp = org.sobject('Opportunity')!;
    for (const o of [...org.rows('Opportunity')]) if (!o.IsDeleted && o.AccountId === row.Id) cascadeDelete(tx, opp, o);
    const partner = org.sobject('Partner')!;
    for (const p of [...org.rows('Partner')]) {
      if (!p.IsDeleted && (p.AccountToId === row.Id || p.AccountFromId === row.Id)) cascadeDelete(tx, partner, p);
    }
  } else if (def.name === 'Opportunity') {
    const partner = org.sobject('Partner')!;
    for (const p of [...org.rows('Partner')]) if (!p.IsDeleted && p.OpportunityId === row.Id) cascadeDelete(tx, partner, p);
  } else if (def.name === 'Partner') {
    const op = org.table('OpportunityPartner').get(row.Id);
    if (op && !op.IsDeleted) tx.put('OpportunityPartner', op, { ...op, IsDeleted: true, SystemModstamp: tx.now });
  }
  markDeleted(tx, def, row);
}

/** Restores a deleted record (and what its deletion cascaded to at the same moment), as the Recycle Bin does. */
export function undeleteRecord(tx: Transaction, def: SObjectDef, rawId: string): string {
  const id = toId18(rawId);
  const row = id ? tx.org.table(def.name).get(id) : undefined;
  if (!row) throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
  if (!row.IsDeleted) throw new RecordError('UNDELETE_FAILED', 'Entity is not in the recycle bin', []);
  const deletedAt = row.SystemModstamp;
  const after: Row = { ...row, IsDeleted: false, SystemModstamp: tx.now };
  for (const f of def.fields) {
    if (!f.unique || typeof after[f.name] !== 'string') continue;
    const other = tx.org.findByUnique(def.name, f.name, after[f.name] as string);
    if (other) throw new RecordError('DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${other.Id}`, []);
  }
  tx.put(def.name, row, after);
  recordChange(tx, def, 'UNDELETE', row, after);
  const restoreChildren = (table: string, match: (r: Row) => boolean): void => {
    const childDef = tx.org.sobject(table)!;
    for (const c of [...tx.org.rows(table)]) {
      if (c.IsDeleted && c.SystemModstamp === deletedAt && match(c)) undeleteRecord(tx, childDef, c.Id);
    }
  };
  if (def.name === 'Account') {
    restoreChildren('Opportunity', (c) => c.AccountId === row.Id);
    restoreChildren('Partner', (c) => c.AccountToId === row.Id || c.AccountFromId === row.Id);
  } else if (def.name === 'Opportunity') {
    restoreChildren('Partner', (c) => c.OpportunityId === row.Id);
  } else if (def.name === 'Partner') {
    const op = tx.org.table('OpportunityPartner').get(row.Id);
    if (op && op.IsDeleted) tx.put('OpportunityPartner', op, { ...op, IsDeleted: false, SystemModstamp: tx.now });
  }
  return row.Id;
}

// ---------------------------------------------------------------------------------------------------
// Partner and OpportunityPartner

function validatePartner(tx: Transaction, row: Row): void {
  const hasOpp = typeof row.OpportunityId === 'string';
  const hasFrom = typeof row.AccountFromId === 'string';
  if (hasOpp && hasFrom) {
    throw new RecordError('FIELD_INTEGRITY_EXCEPTION', 'You can specify either AccountFromId or OpportunityId, not both', ['AccountFromId', 'OpportunityId']);
  }
  if (!hasOpp && !hasFrom) throw new RecordError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [AccountFromId]', ['AccountFromId']);
  if (hasFrom && row.AccountFromId === row.AccountToId) {
    throw new RecordError('FIELD_INTEGRITY_EXCEPTION', 'An account cannot be a partner of itself', ['AccountToId']);
  }
  if (!hasOpp && row.IsPrimary === true) {
    throw new RecordError('FIELD_INTEGRITY_EXCEPTION', 'Primary is valid for opportunity partners only', ['IsPrimary']);
  }
}

function afterPartnerInsert(tx: Transaction, partner: Row): void {
  if (typeof partner.OpportunityId !== 'string') return;
  if (partner.IsPrimary === true) {
    // Only one primary partner per opportunity: the previous primary is demoted.
    const pdef = tx.org.sobject('Partner')!;
    for (const p of [...tx.org.rows('Partner')]) {
      if (p.Id === partner.Id || p.IsDeleted || p.OpportunityId !== partner.OpportunityId || p.IsPrimary !== true) continue;
      const after: Row = { ...p, IsPrimary: false, LastModifiedDate: tx.now, SystemModstamp: tx.now, LastModifiedById: tx.actor.userId };
      tx.put('Partner', p, after);
      recordChange(tx, pdef, 'UPDATE', p, after);
      const op = tx.org.table('OpportunityPartner').get(p.Id);
      if (op) tx.put('OpportunityPartner', op, { ...op, IsPrimary: false, LastModifiedDate: tx.now, SystemModstamp: tx.now });
    }
  }
  const op: Row = {
    Id: partner.Id,
    IsDeleted: false,
    OpportunityId: partner.OpportunityId,
    AccountToId: partner.AccountToId,
    Role: partner.Role ?? null,
    IsPrimary: partner.IsPrimary === true,
    ReversePartnerId: null,
    CreatedDate: partner.CreatedDate,
    CreatedById: partner.CreatedById,
    LastModifiedDate: partner.LastModifiedDate,
    LastModifiedById: partner.LastModifiedById,
    SystemModstamp: partner.SystemModstamp,
  };
  tx.put('OpportunityPartner', null, op);
}
