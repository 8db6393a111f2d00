// The Salesforce side of CrmAdapter. Every call goes through SalesforceCaller (daily budget, shared
// limiter, one refresh after a 401, REQUEST_LIMIT_EXCEEDED → pause, in-call retries of 5xx), every answer
// is parsed with the wire schemas of salesforce-wire.ts and mapped to our shapes. Reads are SOQL, writes
// sObject Collections (salesforce-writes.ts), change events a replayable feed (salesforce-change-feed.ts).
import type { z } from 'zod';
import type { Logger } from '../../lib/logger';
import {
  CrmError,
  type AccessTokenSource,
  type CallGate,
  type ChangedSince,
  type CrmAccount,
  type CrmAdapter,
  type CrmDescribe,
  type CrmOpportunity,
  type Page,
  type SchemaReport,
} from '../crm-adapter';
import type { ApiBudget } from './salesforce-budget';
import { createSandboxChangeFeed } from './salesforce-change-feed';
import { errorFromOauthAnswer, firstError, REVOKE_ALREADY_GONE } from './salesforce-errors';
import { toId18 } from './salesforce-ids';
import { DEALREG_OPPORTUNITY_FIELDS, SALESFORCE_DEPLOY_HINT, SALESFORCE_REGISTRATION_ID_FIELD, type DealregFieldSpec } from './salesforce-schema';
import { isApiName, parseInstant, soqlDateTimeAtOrAfter, soqlId, soqlIdList } from './salesforce-soql';
import { DEFAULT_TIMEOUT_MS, SalesforceCaller } from './salesforce-transport';
import {
  ACCOUNT_FIELDS,
  OPPORTUNITY_BASE_FIELDS,
  OPPORTUNITY_OPTIONAL_FIELDS,
  sfAccountRowWire,
  sfDescribeWire,
  sfOpportunityRowWire,
  sfQueryWire,
  sfStageRowWire,
  sfUserInfoWire,
  sfUserRowWire,
  toCrmAccount,
  toCrmFieldInfo,
  toCrmOpportunity,
  toCrmOwner,
  toPipelines,
  type OpportunityContext,
  type SfDescribe,
  type SfField,
} from './salesforce-wire';
import { createAccounts, requireAtMost, SALESFORCE_COLLECTION_SIZE, writeOpportunities, type WriterDeps } from './salesforce-writes';

export { SALESFORCE_COLLECTION_SIZE };

/** SOQL answers up to 2000 rows a page; a changed-since page asks for at most that many. */
export const SALESFORCE_QUERY_PAGE = 2000;

export interface SalesforceAdapterOptions {
  /** 18-char org id (the connection's externalAccountId). */
  orgId: string;
  instanceUrl: string;
  /** e.g. '66.0': every call names it (jsforce's own default, 50.0, is never used). */
  apiVersion: string;
  /** For revoke (POST {loginUrl}/services/oauth2/revoke). */
  loginUrl: string;
  tokens: AccessTokenSource;
  /** Per-connection shared limiter: acquired before every call; told about REQUEST_LIMIT_EXCEEDED. */
  gate: CallGate;
  /** The org's daily API budget (optional so that tests can omit it). */
  budget?: ApiBudget;
  log: Logger;
  /** The stored refresh token, for revoke(). */
  refreshToken?: () => Promise<string | null>;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Budget per HTTP exchange (default 30 s); a long poll gets its wait on top. */
  timeoutMs?: number;
}

/** A list cursor: the query locator to continue with, and the last Id seen to restart after when the locator expired. */
interface ListCursor {
  next: string;
  after: string;
}

function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string): ListCursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<ListCursor>;
    if (typeof c.next === 'string' && c.next.startsWith('/services/data/') && typeof c.after === 'string' && toId18(c.after)) return { next: c.next, after: c.after };
  } catch {
    // falls through to the error below
  }
  throw new CrmError('salesforce', 'INVALID', 'not a Salesforce list cursor', { crmCode: 'INVALID_CURSOR' });
}

const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

/** Why an existing field cannot serve as the dealreg field `spec` (null when it can). */
function definitionProblem(spec: DealregFieldSpec, f: SfField): string | null {
  if (f.type !== spec.type) return `is a ${f.type} field, dealreg needs ${spec.type}`;
  if (spec.externalId && !f.externalId) return 'is not an External ID field (dealreg upserts by it)';
  return null;
}

/** Two calls in parallel; settles only when both have, so that no call of a method outlives it. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

export function createSalesforceAdapter(o: SalesforceAdapterOptions): CrmAdapter {
  const orgId = toId18(o.orgId) ?? o.orgId;
  const logBase = { crm: 'salesforce', orgId };
  const random = o.random ?? Math.random;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const caller = new SalesforceCaller({
    orgId,
    instanceUrl: o.instanceUrl.replace(/\/+$/, ''),
    apiVersion: o.apiVersion,
    tokens: o.tokens,
    gate: o.gate,
    budget: o.budget,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    log: o.log,
    random,
    sleep,
  });
  const writer: WriterDeps = { caller, log: o.log, logBase, random, sleep };
  const feed = createSandboxChangeFeed(caller);

  // ---- SOQL ------------------------------------------------------------------------------------------

  type QueryPage<T> = { records: T[]; next: string | null };

  async function queryPage<S extends z.ZodTypeAny>(op: string, soqlOrNext: { soql: string } | { next: string }, record: S): Promise<QueryPage<z.output<S>>> {
    const url = 'soql' in soqlOrNext ? `/query?q=${encodeURIComponent(soqlOrNext.soql)}` : soqlOrNext.next;
    const page = await caller.call({ op, method: 'GET', url, schema: sfQueryWire(record) });
    return { records: page.records, next: page.done ? null : (page.nextRecordsUrl ?? null) };
  }

  /** Every row of a query, following nextRecordsUrl. */
  async function queryAll<S extends z.ZodTypeAny>(op: string, soql: string, record: S): Promise<Array<z.output<S>>> {
    const rows: Array<z.output<S>> = [];
    let page = await queryPage(op, { soql }, record);
    rows.push(...page.records);
    while (page.next) {
      page = await queryPage(op, { next: page.next }, record);
      rows.push(...page.records);
    }
    return rows;
  }

  // ---- describe, cached for this adapter's lifetime (reads need it to pick fields) --------------------

  let opportunityDescribe: Promise<SfDescribe> | null = null;
  const warnedFields = new Set<string>();

  function describeOpportunity(fresh = false): Promise<SfDescribe> {
    if (fresh || !opportunityDescribe) {
      const p = caller.call({ op: 'opportunity.describe', method: 'GET', url: '/sobjects/Opportunity/describe', schema: sfDescribeWire });
      p.catch(() => {
        if (opportunityDescribe === p) opportunityDescribe = null;
      });
      opportunityDescribe = p;
    }
    return opportunityDescribe;
  }

  /**
   * The SELECT list of an opportunity read: what a CrmOpportunity is built from, the registration id and
   * RecordTypeId / CurrencyIsoCode where the org has them, and the requested mapping fields that exist.
   * A field the org does not have is read as null (and logged once), so a bad mapping cannot break reads.
   */
  async function opportunitySelect(fields: readonly string[]): Promise<{ select: string; ctx: OpportunityContext }> {
    const d = await describeOpportunity();
    const byLower = new Map(d.fields.map((f) => [f.name.toLowerCase(), f.name]));
    const select: string[] = [...OPPORTUNITY_BASE_FIELDS];
    const registrationIdField = byLower.get(SALESFORCE_REGISTRATION_ID_FIELD.toLowerCase()) ?? null;
    if (registrationIdField) select.push(registrationIdField);
    for (const f of OPPORTUNITY_OPTIONAL_FIELDS) {
      const name = byLower.get(f.toLowerCase());
      if (name) select.push(name);
    }
    const mapped = new Map<string, string | null>();
    for (const asked of fields) {
      const actual = isApiName(asked) ? (byLower.get(asked.toLowerCase()) ?? null) : null;
      if (actual === null && !warnedFields.has(asked)) {
        warnedFields.add(asked);
        o.log.warn({ ...logBase, field: asked }, 'the sync mapping names an Opportunity field this org does not have; it reads as empty');
      }
      mapped.set(asked, actual);
      if (actual) select.push(actual);
    }
    // SOQL refuses a field named twice ("duplicate field selected"), whatever its case.
    const byName = new Map(select.map((f) => [f.toLowerCase(), f]));
    return { select: [...byName.values()].join(', '), ctx: { fields: mapped, registrationIdField } };
  }

  const ACCOUNT_SELECT = ACCOUNT_FIELDS.join(', ');

  // ---- paging ----------------------------------------------------------------------------------------

  /**
   * One page of every record of an object in Id order. The cursor carries the query locator and the last
   * Id seen: a locator that expired (15 minutes idle, or pushed out by newer cursors) restarts the query
   * after that Id instead of failing the backfill.
   */
  async function listPage<S extends z.ZodType<{ Id: string }>>(op: string, from: string, select: string, cursor: string | null, record: S): Promise<QueryPage<z.output<S>>> {
    const base = `SELECT ${select} FROM ${from}`;
    let page: QueryPage<z.output<S>>;
    if (cursor === null) page = await queryPage(op, { soql: `${base} ORDER BY Id` }, record);
    else {
      const c = decodeCursor(cursor);
      try {
        page = await queryPage(op, { next: c.next }, record);
      } catch (e) {
        if (!(e instanceof CrmError && e.crmCode === 'INVALID_QUERY_LOCATOR')) throw e;
        o.log.info({ ...logBase, op, after: c.after }, 'salesforce query locator expired; restarting after the last id seen');
        page = await queryPage(op, { soql: `${base} WHERE Id > ${soqlId(c.after)} ORDER BY Id` }, record);
      }
    }
    const last = page.records.at(-1);
    return { records: page.records, next: page.next && last ? encodeCursor({ next: page.next, after: last.Id }) : null };
  }

  /**
   * Records modified at or after `since`, oldest first. SystemModstamp has whole seconds, so many records
   * share one: when the page is full, the rest of its last second (T) is read too, and newestAt is just
   * past T. The next call then starts after T without skipping any record stamped T and without reading
   * T again, so a second holding more records than `limit` cannot stall a sweep.
   */
  async function changedSince<S extends z.ZodType<{ Id: string; SystemModstamp: string }>>(
    op: string,
    from: string,
    select: string,
    sinceMs: number,
    limit: number,
    record: S,
  ): Promise<{ rows: Array<z.output<S>>; newestAt: string | null; more: boolean }> {
    const rows = await queryAll(op, `SELECT ${select} FROM ${from} WHERE SystemModstamp >= ${soqlDateTimeAtOrAfter(sinceMs)} ORDER BY SystemModstamp, Id LIMIT ${limit}`, record);
    const last = rows.at(-1);
    if (!last) return { rows, newestAt: null, more: false };
    const lastMs = parseInstant(last.SystemModstamp);
    if (rows.length < limit) return { rows, newestAt: new Date(lastMs).toISOString(), more: false };
    const rest = await queryAll(op, `SELECT ${select} FROM ${from} WHERE SystemModstamp = ${soqlDateTimeAtOrAfter(lastMs)} AND Id > ${soqlId(last.Id)} ORDER BY Id`, record);
    return { rows: [...rows, ...rest], newestAt: new Date(lastMs + 1).toISOString(), more: true };
  }

  /** The instant of `since`, once `since` and `limit` are known to make a query (checked before any call). */
  function sinceMsOf(since: string, limit: number, from: string): number {
    const sinceMs = parseInstant(since);
    if (!Number.isInteger(limit) || limit < 1) throw new CrmError('salesforce', 'INVALID', `limit must be a positive integer, got ${limit}`, { crmCode: 'INVALID_LIMIT' });
    requireAtMost(`${from} changed-since`, limit, SALESFORCE_QUERY_PAGE);
    return sinceMs;
  }

  // ---- the interface ---------------------------------------------------------------------------------

  async function describe(): Promise<CrmDescribe> {
    const [d, stages] = await both(
      describeOpportunity(true),
      queryAll('opportunity-stages.query', 'SELECT ApiName, MasterLabel, IsClosed, IsWon, SortOrder FROM OpportunityStage WHERE IsActive = true ORDER BY SortOrder', sfStageRowWire),
    );
    return { crm: 'salesforce', opportunityFields: d.fields.map(toCrmFieldInfo), pipelines: toPipelines(d, stages), fetchedAt: new Date().toISOString() };
  }

  async function ensureSchema(): Promise<SchemaReport> {
    const d = await describeOpportunity(true);
    const byLower = new Map(d.fields.map((f) => [f.name.toLowerCase(), f]));
    const report: SchemaReport = { created: [], present: [], missing: [] };
    for (const spec of DEALREG_OPPORTUNITY_FIELDS) {
      const f = byLower.get(spec.name.toLowerCase());
      const wrong = f ? definitionProblem(spec, f) : null;
      if (f && !wrong) report.present.push(spec.name);
      else {
        if (wrong) o.log.error({ ...logBase, field: spec.name, problem: wrong }, 'a dealreg Opportunity field exists with the wrong definition');
        report.missing.push(spec.name);
      }
    }
    // Fields cannot be created through the REST API: they ship as metadata (crm-cards/salesforce).
    if (report.missing.length > 0) o.log.warn({ ...logBase, missing: report.missing, hint: SALESFORCE_DEPLOY_HINT }, 'the org lacks dealreg Opportunity fields');
    return report;
  }

  function byAskedIds<T extends { externalId: string }>(asked: readonly string[], records: T[]): Map<string, T> {
    const byId = new Map(records.map((r) => [r.externalId, r]));
    const out = new Map<string, T>();
    for (const id of asked) {
      const r = byId.get(toId18(id) ?? id);
      if (r) out.set(id, r);
    }
    return out;
  }

  return {
    crm: 'salesforce',
    accountId: orgId,
    writeBatchSize: SALESFORCE_COLLECTION_SIZE,
    readBatchSize: SALESFORCE_COLLECTION_SIZE,

    async verifyCredentials() {
      const info = await caller.call({ op: 'oauth.userinfo', method: 'GET', url: '/services/oauth2/userinfo', kind: 'oauth', schema: sfUserInfoWire });
      if (info.organization_id !== orgId) o.log.warn({ ...logBase, tokenOrgId: info.organization_id }, 'the salesforce token belongs to another org');
      return { accountId: info.organization_id };
    },

    ensureSchema,
    describe,

    async listOwners() {
      const users = await queryAll('users.query', 'SELECT Id, Name, Email, UserRoleId, UserType FROM User WHERE IsActive = true ORDER BY Id', sfUserRowWire);
      return users.map(toCrmOwner);
    },

    writeOpportunities: (writes) => writeOpportunities(writer, writes),
    createAccounts: (accounts) => createAccounts(writer, accounts),

    async readOpportunities(ids, fields) {
      const wanted = unique(ids);
      requireAtMost('readOpportunities', wanted.length, SALESFORCE_COLLECTION_SIZE);
      if (wanted.length === 0) return new Map();
      const idList = soqlIdList(wanted);
      const { select, ctx } = await opportunitySelect(fields);
      const rows = await queryAll('opportunities.read', `SELECT ${select} FROM Opportunity WHERE Id IN ${idList}`, sfOpportunityRowWire);
      return byAskedIds(wanted, rows.map((r) => toCrmOpportunity(r, ctx)));
    },

    async readAccounts(ids) {
      const wanted = unique(ids);
      requireAtMost('readAccounts', wanted.length, SALESFORCE_COLLECTION_SIZE);
      if (wanted.length === 0) return new Map();
      const rows = await queryAll('accounts.read', `SELECT ${ACCOUNT_SELECT} FROM Account WHERE Id IN ${soqlIdList(wanted)}`, sfAccountRowWire);
      return byAskedIds(wanted, rows.map(toCrmAccount));
    },

    async listAccounts(cursor): Promise<Page<CrmAccount>> {
      const page = await listPage('accounts.list', 'Account', ACCOUNT_SELECT, cursor, sfAccountRowWire);
      return { records: page.records.map(toCrmAccount), next: page.next };
    },

    async listOpportunities(cursor, fields): Promise<Page<CrmOpportunity>> {
      const { select, ctx } = await opportunitySelect(fields);
      const page = await listPage('opportunities.list', 'Opportunity', select, cursor, sfOpportunityRowWire);
      return { records: page.records.map((r) => toCrmOpportunity(r, ctx)), next: page.next };
    },

    async accountsChangedSince(since, limit): Promise<ChangedSince<CrmAccount>> {
      const r = await changedSince('accounts.changed-since', 'Account', ACCOUNT_SELECT, sinceMsOf(since, limit, 'Account'), limit, sfAccountRowWire);
      return { records: r.rows.map(toCrmAccount), newestAt: r.newestAt, more: r.more };
    },

    async opportunitiesChangedSince(since, limit, fields): Promise<ChangedSince<CrmOpportunity>> {
      const sinceMs = sinceMsOf(since, limit, 'Opportunity');
      const { select, ctx } = await opportunitySelect(fields);
      const r = await changedSince('opportunities.changed-since', 'Opportunity', select, sinceMs, limit, sfOpportunityRowWire);
      return { records: r.rows.map((row) => toCrmOpportunity(row, ctx)), newestAt: r.newestAt, more: r.more };
    },

    async revoke() {
      const refreshToken = o.refreshToken ? await o.refreshToken() : null;
      if (!refreshToken) return;
      const op = 'oauth.revoke';
      const url = `${o.loginUrl.replace(/\/+$/, '')}/services/oauth2/revoke`;
      const answer = await caller.exchange({ op, method: 'POST', url, form: { token: refreshToken }, kind: 'oauth', authenticated: false });
      if (answer.status >= 200 && answer.status < 300) return;
      const code = firstError(answer.body).errorCode;
      if (answer.status === 400 && (REVOKE_ALREADY_GONE as readonly (string | undefined)[]).includes(code)) {
        o.log.info({ ...logBase, crmCode: code }, 'salesforce refresh token was already revoked');
        return;
      }
      throw errorFromOauthAnswer(answer, op);
    },

    pullChanges: (cursor, opts) => feed.pull(cursor, opts),
  };
}
