// Writes through sObject Collections: opportunities (upsert by the registration id for creates, update
// by id for known records), their partner (an OpportunityPartner row), and accounts. 200 records are one
// HTTP call. Record errors come back per record; the transient ones (a row lock held by a trigger or a
// rep's save) are resent for just those records, a few times with jittered backoff, inside the call.
import type { Logger } from '../../lib/logger';
import { CrmError, type AccountWrite, type AccountWriteResult, type OpportunityWrite, type OpportunityWriteResult } from '../crm-adapter';
import { backoffMs } from '../retry-decision';
import { errorFromRecord, isTransientRecordCode } from './salesforce-errors';
import { toId18 } from './salesforce-ids';
import { SALESFORCE_DEFAULT_PIPELINE } from './salesforce-mapping-defaults';
import { SALESFORCE_REGISTRATION_ID_FIELD } from './salesforce-schema';
import { CALL_RETRY_POLICY, type SalesforceCaller } from './salesforce-transport';
import { sfSaveResultsWire, type SfSaveResult } from './salesforce-wire';

/** sObject Collections take 200 records a call. */
export const SALESFORCE_COLLECTION_SIZE = 200;
/** Sends of one record whose error is transient (the first one included). */
export const RECORD_ATTEMPTS = 3;
/** Salesforce requires a close date; without one from the mapping or the protection window, this far out. */
export const DEFAULT_CLOSE_DAYS = 90;

/** Standard Opportunity partner roles for dealreg's partner types (Setup → Partner Roles). */
export const PARTNER_ROLES: Readonly<Record<string, string>> = {
  reseller: 'VAR/Reseller',
  referral: 'Consultant',
  affiliate: 'Agency',
  technology: 'Developer',
};

export type SaveOutcome = { ok: true; id: string; created: boolean } | { ok: false; error: CrmError };

interface CollectionCall {
  op: string;
  method: 'POST' | 'PATCH';
  url: string;
  /** Creates are resent only when they never reached Salesforce; upserts and updates by id always may be. */
  resend: 'always' | 'unsent';
}

export interface WriterDeps {
  caller: SalesforceCaller;
  log: Logger;
  logBase: Record<string, string>;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

function invalidInput(message: string, crmCode: string): CrmError {
  return new CrmError('salesforce', 'INVALID', message, { crmCode });
}

export function requireAtMost(what: string, n: number, max: number): void {
  if (n > max) throw invalidInput(`${what} takes at most ${max} items per call, got ${n}: split the batch`, 'BATCH_TOO_LARGE');
}

function outcomeOf(r: SfSaveResult, op: string): SaveOutcome {
  if (r.success) {
    const id = r.id ? toId18(r.id) : null;
    if (id) return { ok: true, id, created: r.created === true };
    return { ok: false, error: new CrmError('salesforce', 'TEMPORARY', `Salesforce reported success for a record of ${op} without its id`, { crmCode: 'MISSING_RESULT' }) };
  }
  return { ok: false, error: errorFromRecord(r.errors[0] ?? {}, op) };
}

/**
 * Sends up to 200 records in one sObject Collections call (allOrNone false) and returns one outcome per
 * record, in order (Salesforce answers in the order sent). Records failing with a transient error are
 * resent alone. A whole-call failure of the first send is thrown; of a resend, it becomes the outcome of
 * the records it left undone, so that what was saved is still reported.
 */
export async function saveAll(d: WriterDeps, call: CollectionCall, records: Array<Record<string, unknown>>): Promise<SaveOutcome[]> {
  const outcomes: SaveOutcome[] = new Array<SaveOutcome>(records.length);
  let pending = records.map((_, i) => i);
  for (let round = 1; pending.length > 0; round++) {
    let results: SfSaveResult[];
    try {
      results = await d.caller.call({ ...call, json: { allOrNone: false, records: pending.map((i) => records[i]) }, schema: sfSaveResultsWire });
    } catch (e) {
      if (round === 1 || !(e instanceof CrmError)) throw e;
      for (const i of pending) outcomes[i] = { ok: false, error: e };
      break;
    }
    const again: number[] = [];
    pending.forEach((index, j) => {
      const r = results[j];
      if (!r) {
        outcomes[index] = { ok: false, error: new CrmError('salesforce', 'TEMPORARY', `Salesforce's answer to ${call.op} has no result for record ${index + 1}`, { crmCode: 'MISSING_RESULT' }) };
      } else if (!r.success && isTransientRecordCode(r.errors[0]?.statusCode) && round < RECORD_ATTEMPTS) again.push(index);
      else outcomes[index] = outcomeOf(r, call.op);
    });
    if (again.length > 0) {
      const waitMs = backoffMs(round, d.random, CALL_RETRY_POLICY);
      d.log.info({ ...d.logBase, op: call.op, records: again.length, round, waitMs }, 'salesforce records were locked or busy; resending them');
      await d.sleep(waitMs);
    }
    pending = again;
  }
  return outcomes;
}

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** The key a record uses for a field (API names are case-insensitive; the mapping may spell them its way). */
function fieldNamed(rec: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(rec).find((k) => k.toLowerCase() === lower);
}

/** Sets a field under the key the record already uses for it, else under `name`. */
function setField(rec: Record<string, unknown>, name: string, value: unknown): void {
  rec[fieldNamed(rec, name) ?? name] = value;
}

function valueOf(rec: Record<string, unknown>, name: string): unknown {
  const key = fieldNamed(rec, name);
  return key === undefined ? undefined : rec[key];
}

/** YYYY-MM-DD, `days` after today (UTC). */
function daysFromToday(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function opportunityRecord(w: OpportunityWrite, id: string | null): Record<string, unknown> {
  const rec: Record<string, unknown> = { attributes: { type: 'Opportunity' } };
  for (const [k, v] of Object.entries(w.fields)) {
    if (id === null && v === null) continue; // nothing to clear on a new record
    rec[k] = v;
  }
  if (w.stageId) setField(rec, 'StageName', w.stageId);
  if (w.pipelineId && w.pipelineId !== SALESFORCE_DEFAULT_PIPELINE) setField(rec, 'RecordTypeId', toId18(w.pipelineId) ?? w.pipelineId);
  if (w.accountExternalId) setField(rec, 'AccountId', toId18(w.accountExternalId) ?? w.accountExternalId);
  if (id !== null) {
    rec.id = id;
    return rec;
  }
  setField(rec, SALESFORCE_REGISTRATION_ID_FIELD, w.registrationId);
  // Salesforce requires both on create; a mapping need not provide them.
  if (!present(valueOf(rec, 'CloseDate'))) {
    const protectionEnd = valueOf(rec, 'Dealreg_Protection_End__c');
    setField(rec, 'CloseDate', typeof protectionEnd === 'string' && /^\d{4}-\d{2}-\d{2}/.test(protectionEnd) ? protectionEnd.slice(0, 10) : daysFromToday(DEFAULT_CLOSE_DAYS));
  }
  if (!present(valueOf(rec, 'Name'))) setField(rec, 'Name', `Dealreg registration ${w.registrationId}`);
  return rec;
}

export async function writeOpportunities(d: WriterDeps, writes: OpportunityWrite[]): Promise<OpportunityWriteResult[]> {
  requireAtMost('writeOpportunities', writes.length, SALESFORCE_COLLECTION_SIZE);
  const results: OpportunityWriteResult[] = [];
  const creates: OpportunityWrite[] = [];
  const updates: Array<{ write: OpportunityWrite; id: string }> = [];
  const seenRegistrations = new Set<string>();
  const seenIds = new Set<string>();
  const refuse = (w: OpportunityWrite, message: string, crmCode: string): void => {
    results.push({ registrationId: w.registrationId, ok: false, error: invalidInput(message, crmCode) });
  };
  for (const w of writes) {
    if (w.externalId === null) {
      if (seenRegistrations.has(w.registrationId)) refuse(w, `registration ${w.registrationId} appears twice in one writeOpportunities call`, 'DUPLICATE_INPUT');
      else {
        seenRegistrations.add(w.registrationId);
        creates.push(w);
      }
      continue;
    }
    const id = toId18(w.externalId);
    if (!id) refuse(w, `"${w.externalId}" is not a Salesforce id`, 'MALFORMED_ID');
    else if (seenIds.has(id)) refuse(w, `opportunity ${id} appears twice in one writeOpportunities call`, 'DUPLICATE_INPUT');
    else {
      seenIds.add(id);
      updates.push({ write: w, id });
    }
  }

  // Once something was written, a whole-call failure of a later step becomes the result of the writes
  // it left undone (the written ones are reported, so that nobody writes them again as new).
  const failRemaining = (e: unknown, remaining: OpportunityWrite[]): void => {
    if (!(e instanceof CrmError) || !results.some((r) => r.ok)) throw e;
    d.log.warn({ ...d.logBase, code: e.code, remaining: remaining.length }, 'salesforce write step failed after earlier steps succeeded');
    for (const w of remaining) results.push({ registrationId: w.registrationId, ok: false, error: e });
  };

  // 1. Creates: upsert by the registration id, so that a create repeated after a crash updates the record
  //    it made the first time instead of making a second one (`created: false` then).
  const created: Array<{ write: OpportunityWrite; id: string }> = [];
  if (creates.length > 0) {
    const call = { op: 'opportunities.upsert', method: 'PATCH' as const, url: `/composite/sobjects/Opportunity/${SALESFORCE_REGISTRATION_ID_FIELD}`, resend: 'always' as const };
    const outcomes = await saveAll(d, call, creates.map((w) => opportunityRecord(w, null)));
    outcomes.forEach((o, i) => {
      const w = creates[i]!;
      if (o.ok) {
        results.push({ registrationId: w.registrationId, ok: true, externalId: o.id, created: o.created });
        if (o.created) created.push({ write: w, id: o.id });
      } else results.push({ registrationId: w.registrationId, ok: false, error: o.error });
    });
  }

  // 2. Updates by id.
  if (updates.length > 0) {
    const call = { op: 'opportunities.update', method: 'PATCH' as const, url: '/composite/sobjects', resend: 'always' as const };
    try {
      const outcomes = await saveAll(d, call, updates.map((u) => opportunityRecord(u.write, u.id)));
      outcomes.forEach((o, i) => {
        const u = updates[i]!;
        results.push(o.ok ? { registrationId: u.write.registrationId, ok: true, externalId: o.id, created: false } : { registrationId: u.write.registrationId, ok: false, error: o.error });
      });
    } catch (e) {
      failRemaining(e, updates.map((u) => u.write));
    }
  }

  // 3. The registering partner of each new opportunity, as its primary OpportunityPartner.
  await recordPartners(d, created);
  return results;
}

/** One collection create of Partner rows. A failure is logged: the opportunity itself is written. */
async function recordPartners(d: WriterDeps, created: Array<{ write: OpportunityWrite; id: string }>): Promise<void> {
  const rows = created.flatMap(({ write, id }) => {
    const account = write.partner ? toId18(write.partner.accountExternalId) : null;
    if (!write.partner || !account) return [];
    const role = PARTNER_ROLES[write.partner.type];
    return [{ registrationId: write.registrationId, record: { attributes: { type: 'Partner' }, OpportunityId: id, AccountToId: account, ...(role ? { Role: role } : {}), IsPrimary: true } }];
  });
  if (rows.length === 0) return;
  const call = { op: 'partners.create', method: 'POST' as const, url: '/composite/sobjects', resend: 'unsent' as const };
  let outcomes: SaveOutcome[];
  try {
    outcomes = await saveAll(d, call, rows.map((r) => r.record));
  } catch (e) {
    if (!(e instanceof CrmError)) throw e;
    d.log.warn({ ...d.logBase, code: e.code, crmCode: e.crmCode, partners: rows.length, err: e.message }, 'could not record the partners of new salesforce opportunities');
    return;
  }
  outcomes.forEach((o, i) => {
    if (!o.ok) d.log.warn({ ...d.logBase, registrationId: rows[i]!.registrationId, code: o.error.code, crmCode: o.error.crmCode, err: o.error.message }, 'could not record the partner of a new salesforce opportunity');
  });
}

export async function createAccounts(d: WriterDeps, accounts: AccountWrite[]): Promise<AccountWriteResult[]> {
  requireAtMost('createAccounts', accounts.length, SALESFORCE_COLLECTION_SIZE);
  const results: AccountWriteResult[] = [];
  const send: AccountWrite[] = [];
  const seen = new Set<string>();
  for (const a of accounts) {
    if (seen.has(a.key)) results.push({ key: a.key, ok: false, error: invalidInput(`account key ${a.key} appears twice in one createAccounts call`, 'DUPLICATE_INPUT') });
    else {
      seen.add(a.key);
      send.push(a);
    }
  }
  if (send.length === 0) return results;
  const call = { op: 'accounts.create', method: 'POST' as const, url: '/composite/sobjects', resend: 'unsent' as const };
  const outcomes = await saveAll(d, call, send.map((a) => ({ attributes: { type: 'Account' }, Name: a.name, Website: a.domain })));
  outcomes.forEach((o, i) => {
    const a = send[i]!;
    results.push(o.ok ? { key: a.key, ok: true, externalId: o.id } : { key: a.key, ok: false, error: o.error });
  });
  return results;
}
