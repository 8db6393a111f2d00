// The HubSpot side of CrmAdapter. Every call goes through HubspotCaller (shared limiter, access token,
// one refresh after a 401, 429 → pause), every answer is parsed with the wire schemas of hubspot-wire.ts
// and mapped to our shapes. Batches stay batches: 100 new deals are one HTTP call.
import {
  AssociationSpecAssociationCategoryEnum as DealAssociationCategory,
  FilterOperatorEnum,
  type SimplePublicObjectBatchInputForCreate,
} from '@hubspot/api-client/lib/codegen/crm/deals';
import { AssociationSpecAssociationCategoryEnum as V4AssociationCategory } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import type { PropertyCreate, PropertyUpdate } from '@hubspot/api-client/lib/codegen/crm/properties';
import {
  CrmError,
  type AccessTokenSource,
  type AccountWrite,
  type AccountWriteResult,
  type CallGate,
  type ChangedSince,
  type CrmAccount,
  type CrmAdapter,
  type CrmDescribe,
  type CrmOpportunity,
  type CrmOwner,
  type OpportunityWrite,
  type OpportunityWriteResult,
  type Page,
  type SchemaReport,
} from '../crm-adapter';
import { errorFromAnswer, errorFromBatchItem, errorFromOauthAnswer, uniqueValueClash } from './hubspot-errors';
import { DEALREG_DEAL_PROPERTIES, DEALREG_PROPERTY_GROUP, propertyCreateInput, REGISTRATION_ID_PROPERTY, type DealregPropertySpec } from './hubspot-schema';
import { DEFAULT_TIMEOUT_MS, HubspotCaller, silentHubspotLogger, type HubspotLogger, type SdkCall } from './hubspot-transport';
import {
  ACCOUNT_PROPERTIES,
  companyIdsFromV3,
  companyIdsFromV4,
  DEAL_TO_COMPANY_PRIMARY,
  errorContext,
  hsAccessTokenInfoWire,
  hsAssociationCreateWire,
  hsAssociationsBatchWire,
  hsBatchWire,
  hsObjectWire,
  hsOwnerWire,
  hsPageWire,
  hsPipelineWire,
  hsPropertyGroupWire,
  hsPropertyWire,
  hsSearchWire,
  OPPORTUNITY_PROPERTIES,
  toCrmAccount,
  toCrmFieldInfo,
  toCrmOpportunity,
  toCrmOwner,
  toCrmPipeline,
  type HsBatchError,
  type HsObject,
  type HsProperty,
} from './hubspot-wire';

/** HubSpot batch endpoints take 100 inputs. */
export const HUBSPOT_BATCH_SIZE = 100;
/** List endpoints answer at most 100 records a page. */
export const HUBSPOT_PAGE_SIZE = 100;
/** Search answers at most 200 records a call (and never pages past 10,000). */
export const HUBSPOT_SEARCH_LIMIT = 200;
/** A batch read that asks for property history takes at most 50 ids (HubSpot refuses more). */
export const HUBSPOT_HISTORY_BATCH_SIZE = 50;

export interface HubspotAdapterOptions {
  portalId: string;
  /** `https://api.hubapi.com`, or a sandbox. */
  baseUrl: string;
  tokens: AccessTokenSource;
  gate: CallGate;
  /** Our HubSpot app id: recognises our own writes in property history. Learned by verifyCredentials() when absent. */
  appId?: string | null;
  /** Budget per HTTP call (default 15 s). */
  timeoutMs?: number;
  log?: HubspotLogger;
  /** The connection's OAuth refresh token, for revoke() on disconnect. Absent (or null) for private-app tokens. */
  refreshToken?: () => Promise<string | null>;
}

export interface HubspotAdapter extends CrmAdapter {
  readonly crm: 'hubspot';
  /** Our app id as configured, or as learned from token introspection. */
  readonly appId: string | null;
}

type WriteValue = OpportunityWrite['fields'][string];

const wireValue = (v: WriteValue): string => (v === null ? '' : typeof v === 'string' ? v : String(v));

function invalidInput(message: string, crmCode = 'BATCH_TOO_LARGE'): CrmError {
  return new CrmError('hubspot', 'INVALID', message, { crmCode });
}

function requireAtMost(what: string, n: number, max: number): void {
  if (n > max) throw invalidInput(`${what} takes at most ${max} items per call, got ${n}: split the batch`);
}

/** Whole-call errors that may be caused by one bad input, so that splitting the batch isolates it. */
function isInputError(e: unknown): e is CrmError {
  return e instanceof CrmError && (e.code === 'INVALID' || e.code === 'NOT_FOUND' || e.code === 'CONFLICT') && e.status !== undefined && e.status >= 400 && e.status < 500;
}

/**
 * Sends a batch; when HubSpot refuses the whole batch for an input problem (one bad value fails all
 * 100), splits it in halves until the bad inputs stand alone. Costs nothing extra when all is well.
 * A whole-call failure of the first call is thrown; once split, a failure (a 429 halfway, say) becomes
 * the result of the inputs it left undone, so that the halves already written are still reported.
 */
async function bisect<T, R>(items: T[], send: (items: T[]) => Promise<R[]>, alone: (item: T, error: CrmError) => R, split = false): Promise<R[]> {
  if (items.length === 0) return [];
  try {
    return await send(items);
  } catch (e) {
    if (!isInputError(e)) {
      if (split && e instanceof CrmError) return items.map((item) => alone(item, e));
      throw e;
    }
    if (items.length === 1) return [alone(items[0]!, e)];
    const mid = Math.ceil(items.length / 2);
    const left = await bisect(items.slice(0, mid), send, alone, true);
    const right = await bisect(items.slice(mid), send, alone, true);
    return [...left, ...right];
  }
}

const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

/** Two calls in parallel; settles only when both have, so that no call of a method outlives it. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/** Is this 207 / 400 error a clash on our external-id property (so the deal already exists)? */
function registrationIdClash(message: string): { existingId: string | null } | null {
  const clash = uniqueValueClash({ message });
  if (!clash) return null;
  if (clash.propertyName === REGISTRATION_ID_PROPERTY || (clash.propertyName === null && message.includes(REGISTRATION_ID_PROPERTY))) {
    return { existingId: clash.existingId };
  }
  return null;
}

type CreateOutcome =
  | { kind: 'created'; write: OpportunityWrite; id: string }
  | { kind: 'exists'; write: OpportunityWrite; existingId: string | null }
  | { kind: 'failed'; write: OpportunityWrite; error: CrmError };

/** An update by deal id: a write with a known externalId, or a create completed as an update. */
interface UpdateItem {
  write: OpportunityWrite;
  id: string;
}

export function createHubspotAdapter(opts: HubspotAdapterOptions): HubspotAdapter {
  const log = opts.log ?? silentHubspotLogger;
  const caller = new HubspotCaller({
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    portalId: opts.portalId,
    tokens: opts.tokens,
    gate: opts.gate,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    log,
  });
  let appId: string | null = opts.appId ?? null;
  const logBase = { crm: 'hubspot', portalId: opts.portalId };

  // ---- reads shared by several methods -------------------------------------------------------------

  /** deal id → company ids (primary first), for every id, in one v4 batch read. */
  async function companiesOfDeals(dealIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (dealIds.length === 0) return out;
    const call: SdkCall = (c, o) => c.crm.associations.v4.batchApi.getPage('deals', 'companies', { inputs: dealIds.map((id) => ({ id })) }, o);
    const { data } = await caller.call({ op: 'associations.deals-companies.batch.read', call, schema: hsAssociationsBatchWire });
    for (const r of data.results) out.set(r.from.id, companyIdsFromV4(r.to));
    for (const e of data.errors) {
      const code = errorFromBatchItem(e, 'associations.read').code;
      // NO_ASSOCIATIONS_FOUND (or an unknown deal): no companies. Anything else is worth hearing about.
      if (code !== 'NOT_FOUND') log.warn({ ...logBase, category: e.category, message: e.message }, 'hubspot association read reported an error');
    }
    return out;
  }

  /** Batch read of deals (≤ 100 ids) → records keyed by the ids asked for (merged-away ids → the survivor). */
  async function batchReadDeals(ids: string[], properties: string[], withHistory: string[]): Promise<Map<string, HsObject>> {
    const call: SdkCall = (c, o) => c.crm.deals.batchApi.read({ inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: withHistory }, undefined, o);
    const { data } = await caller.call({ op: 'deals.batch.read', call, schema: hsBatchWire(hsObjectWire) });
    return keyByRequestedIds(ids, data.results);
  }

  function keyByRequestedIds(ids: string[], records: HsObject[]): Map<string, HsObject> {
    const wanted = new Set(ids);
    const out = new Map<string, HsObject>();
    for (const r of records) {
      out.set(r.id, r);
      for (const merged of (r.properties.hs_merged_object_ids ?? '').split(';')) if (merged && wanted.has(merged)) out.set(merged, r);
    }
    return out;
  }

  function opportunityProperties(fields: string[]): string[] {
    return unique([...OPPORTUNITY_PROPERTIES, ...fields]);
  }

  function opportunitiesOf(records: HsObject[], fields: string[], companies: (r: HsObject) => string[]): CrmOpportunity[] {
    return records.map((r) => toCrmOpportunity(r, { fields, accountExternalIds: companies(r), appId }));
  }

  // ---- writes ----------------------------------------------------------------------------------------

  function dealProperties(w: OpportunityWrite, forCreate: boolean): Record<string, string> {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(w.fields)) {
      if (forCreate && v === null) continue; // nothing to clear on a new deal
      props[k] = wireValue(v);
    }
    if (w.pipelineId) props.pipeline = w.pipelineId;
    if (w.stageId) props.dealstage = w.stageId;
    if (forCreate) props[REGISTRATION_ID_PROPERTY] = w.registrationId;
    return props;
  }

  async function sendCreates(writes: OpportunityWrite[]): Promise<CreateOutcome[]> {
    const inputs: SimplePublicObjectBatchInputForCreate[] = writes.map((w) => ({
      objectWriteTraceId: w.registrationId,
      properties: dealProperties(w, true),
      associations: w.accountExternalId
        ? [{ to: { id: w.accountExternalId }, types: [{ associationCategory: DealAssociationCategory.HubspotDefined, associationTypeId: DEAL_TO_COMPANY_PRIMARY }] }]
        : [],
    }));
    const op = 'deals.batch.create';
    const { data } = await caller.call({ op, call: (c, o) => c.crm.deals.batchApi.create({ inputs }, o), schema: hsBatchWire(hsObjectWire) });
    const pending = new Map(writes.map((w) => [w.registrationId, w]));
    const out: CreateOutcome[] = [];
    for (const r of data.results) {
      const key = r.objectWriteTraceId ?? r.properties[REGISTRATION_ID_PROPERTY] ?? undefined;
      const w = key !== undefined ? pending.get(key) : undefined;
      if (!w) continue;
      pending.delete(w.registrationId);
      out.push({ kind: 'created', write: w, id: r.id });
    }
    for (const e of data.errors) {
      for (const trace of unique([...(e.objectWriteTraceId ? [e.objectWriteTraceId] : []), ...errorContext(e, 'objectWriteTraceId')])) {
        const w = pending.get(trace);
        if (!w) continue;
        pending.delete(trace);
        const clash = registrationIdClash(e.message ?? '');
        out.push(clash ? { kind: 'exists', write: w, existingId: clash.existingId } : { kind: 'failed', write: w, error: errorFromBatchItem(e, op) });
      }
    }
    for (const w of pending.values()) {
      out.push({ kind: 'failed', write: w, error: new CrmError('hubspot', 'TEMPORARY', `HubSpot's answer to ${op} said nothing about registration ${w.registrationId}`, { crmCode: 'MISSING_RESULT' }) });
    }
    return out;
  }

  /** Deal ids by registration id, for clashes that did not name the existing deal. One batch read. */
  async function findByRegistrationId(registrationIds: string[]): Promise<Map<string, string>> {
    const call: SdkCall = (c, o) =>
      c.crm.deals.batchApi.read({ idProperty: REGISTRATION_ID_PROPERTY, inputs: registrationIds.map((id) => ({ id })), properties: [REGISTRATION_ID_PROPERTY], propertiesWithHistory: [] }, undefined, o);
    const { data } = await caller.call({ op: 'deals.batch.read-by-registration-id', call, schema: hsBatchWire(hsObjectWire) });
    const out = new Map<string, string>();
    for (const r of data.results) {
      const reg = r.properties[REGISTRATION_ID_PROPERTY];
      if (reg) out.set(reg, r.id);
    }
    return out;
  }

  async function sendUpdates(items: UpdateItem[]): Promise<OpportunityWriteResult[]> {
    const op = 'deals.batch.update';
    const inputs = items.map((u) => ({ id: u.id, properties: dealProperties(u.write, false) }));
    const { data } = await caller.call({ op, call: (c, o) => c.crm.deals.batchApi.update({ inputs }, o), schema: hsBatchWire(hsObjectWire) });
    const byId = new Map(items.map((u) => [u.id, u]));
    const out: OpportunityWriteResult[] = [];
    const answered = new Set<string>();
    const ok = (u: UpdateItem, externalId: string): void => {
      answered.add(u.id);
      out.push({ registrationId: u.write.registrationId, ok: true, externalId, created: false });
    };
    const unmatched: HsObject[] = [];
    for (const r of data.results) {
      const u = byId.get(r.id);
      if (u && !answered.has(u.id)) ok(u, r.id);
      else unmatched.push(r);
    }
    for (const r of unmatched) {
      // An update of a merged-away id answers for the surviving record.
      for (const merged of (r.properties.hs_merged_object_ids ?? '').split(';')) {
        const u = byId.get(merged);
        if (u && !answered.has(u.id)) ok(u, r.id);
      }
    }
    for (const e of data.errors) {
      for (const id of errorContext(e, 'ids')) {
        const u = byId.get(id);
        if (!u || answered.has(id)) continue;
        answered.add(id);
        out.push({ registrationId: u.write.registrationId, ok: false, error: errorFromBatchItem(e, op) });
      }
    }
    for (const u of items) {
      if (answered.has(u.id)) continue;
      out.push({ registrationId: u.write.registrationId, ok: false, error: new CrmError('hubspot', 'TEMPORARY', `HubSpot's answer to ${op} said nothing about deal ${u.id}`, { crmCode: 'MISSING_RESULT' }) });
    }
    return out;
  }

  /** Makes `accountExternalId` the primary company of updated deals. One v4 batch call; errors per write. */
  async function associatePrimary(pairs: Array<{ registrationId: string; dealId: string; companyId: string }>): Promise<Map<string, CrmError>> {
    const failed = new Map<string, CrmError>();
    if (pairs.length === 0) return failed;
    const op = 'associations.deals-companies.batch.create';
    // The SDK's model names the field `_from` and serialises it as `from`.
    const inputs = pairs.map((p) => ({
      _from: { id: p.dealId },
      to: { id: p.companyId },
      types: [{ associationCategory: V4AssociationCategory.HubspotDefined, associationTypeId: DEAL_TO_COMPANY_PRIMARY }],
    }));
    const answer = await caller.exchange({ op, call: (c, o) => c.crm.associations.v4.batchApi.create('deals', 'companies', { inputs }, o) });
    if (answer.status >= 400) {
      const error = errorFromAnswer(answer, op);
      if (!isInputError(error)) throw error;
      for (const p of pairs) failed.set(p.registrationId, error);
      return failed;
    }
    const errors: HsBatchError[] = hsAssociationCreateWire.safeParse(answer.body).data?.errors ?? [];
    for (const e of errors) {
      const from = errorContext(e, 'fromObjectId');
      const to = errorContext(e, 'toObjectId');
      for (const p of pairs) if (from.includes(p.dealId) && (to.length === 0 || to.includes(p.companyId))) failed.set(p.registrationId, errorFromBatchItem(e, op));
    }
    return failed;
  }

  async function writeOpportunities(writes: OpportunityWrite[]): Promise<OpportunityWriteResult[]> {
    requireAtMost('writeOpportunities', writes.length, HUBSPOT_BATCH_SIZE);
    const results: OpportunityWriteResult[] = [];
    const creates: OpportunityWrite[] = [];
    const updates: UpdateItem[] = [];
    const seenRegistrations = new Set<string>();
    const seenDeals = new Set<string>();
    const duplicate = (w: OpportunityWrite, what: string): void => {
      results.push({ registrationId: w.registrationId, ok: false, error: invalidInput(`${what} appears twice in one writeOpportunities call`, 'DUPLICATE_INPUT') });
    };
    for (const w of writes) {
      if (w.externalId === null) {
        if (seenRegistrations.has(w.registrationId)) duplicate(w, `registration ${w.registrationId}`);
        else {
          seenRegistrations.add(w.registrationId);
          creates.push(w);
        }
      } else if (seenDeals.has(w.externalId)) duplicate(w, `deal ${w.externalId}`);
      else {
        seenDeals.add(w.externalId);
        updates.push({ write: w, id: w.externalId });
      }
    }

    // Once something was written, a whole-call failure of a later step becomes the result of the writes
    // it left undone (the written ones are reported, so nobody re-creates them).
    const wrote = (): boolean => results.some((r) => r.ok);
    const failRemaining = (e: unknown, remaining: OpportunityWrite[]): void => {
      if (!(e instanceof CrmError) || !wrote()) throw e;
      log.warn({ ...logBase, code: e.code, remaining: remaining.length }, 'hubspot write step failed after earlier steps succeeded');
      for (const w of remaining) results.push({ registrationId: w.registrationId, ok: false, error: e });
    };

    // 1. Creates: one batch call (objectWriteTraceId → one outcome per input, 207 on partial failure).
    const clashes: Array<{ write: OpportunityWrite; existingId: string | null }> = [];
    const outcomes = await bisect(creates, sendCreates, (write, error): CreateOutcome => {
      const clash = error.code === 'CONFLICT' ? registrationIdClash(error.message) : null;
      return clash ? { kind: 'exists', write, existingId: error.existingId ?? clash.existingId } : { kind: 'failed', write, error };
    });
    for (const o of outcomes) {
      if (o.kind === 'created') results.push({ registrationId: o.write.registrationId, ok: true, externalId: o.id, created: true });
      else if (o.kind === 'failed') results.push({ registrationId: o.write.registrationId, ok: false, error: o.error });
      else clashes.push(o);
    }

    // 2. A create that clashed on dealreg_registration_id: the deal exists (we crashed after creating it).
    //    Complete it as an update of that deal.
    const unnamed = clashes.filter((c) => c.existingId === null).map((c) => c.write.registrationId);
    let found = new Map<string, string>();
    if (unnamed.length > 0) {
      try {
        found = await findByRegistrationId(unnamed);
      } catch (e) {
        failRemaining(e, [...clashes.map((c) => c.write), ...updates.map((u) => u.write)]);
        return results;
      }
    }
    for (const c of clashes) {
      const id = c.existingId ?? found.get(c.write.registrationId) ?? null;
      if (id === null) {
        results.push({ registrationId: c.write.registrationId, ok: false, error: new CrmError('hubspot', 'CONFLICT', `registration ${c.write.registrationId} already has a deal in HubSpot, but it could not be found`, { crmCode: 'UNIQUE_VALUE' }) });
      } else if (seenDeals.has(id)) duplicate(c.write, `deal ${id}`);
      else {
        seenDeals.add(id);
        log.info({ ...logBase, registrationId: c.write.registrationId, externalId: id }, 'hubspot deal already existed; completing the create as an update');
        updates.push({ write: c.write, id });
      }
    }

    // 3. Updates (and completed creates): one batch call by id.
    let updated: OpportunityWriteResult[];
    try {
      updated = await bisect(updates, sendUpdates, (u, error) => ({ registrationId: u.write.registrationId, ok: false, error }));
    } catch (e) {
      failRemaining(e, updates.map((u) => u.write));
      return results;
    }

    // 4. The primary company of updated deals, when the write names one (creates carry it inline).
    const writeOf = new Map(updates.map((u) => [u.write.registrationId, u.write]));
    const pairs = updated.flatMap((r) => {
      const w = writeOf.get(r.registrationId);
      return r.ok && w?.accountExternalId ? [{ registrationId: r.registrationId, dealId: r.externalId, companyId: w.accountExternalId }] : [];
    });
    let associationErrors = new Map<string, CrmError>();
    try {
      associationErrors = await associatePrimary(pairs);
    } catch (e) {
      if (!(e instanceof CrmError)) throw e;
      for (const p of pairs) associationErrors.set(p.registrationId, e);
    }
    for (const r of updated) {
      const error = associationErrors.get(r.registrationId);
      results.push(error ? { registrationId: r.registrationId, ok: false, error } : r);
    }
    return results;
  }

  // ---- schema ----------------------------------------------------------------------------------------

  async function allDealProperties(): Promise<HsProperty[]> {
    const { data } = await caller.call({
      op: 'properties.deals.list',
      call: (c, o) => c.crm.properties.coreApi.getAll('deals', false, undefined, o),
      schema: hsPageWire(hsPropertyWire),
    });
    return data.results.filter((p) => p.archived !== true);
  }

  function mismatch(spec: DealregPropertySpec, p: HsProperty): string | null {
    if (p.type !== spec.type) return `is a ${p.type} property, dealreg needs ${spec.type}`;
    if ((p.hasUniqueValue === true) !== spec.hasUniqueValue) return spec.hasUniqueValue ? 'is not a unique-value property (HubSpot cannot change that later: archive it and run again)' : 'is a unique-value property';
    return null;
  }

  async function createPropertiesOneByOne(specs: DealregPropertySpec[], report: SchemaReport): Promise<void> {
    for (const spec of specs) {
      const answer = await caller.exchange({ op: 'properties.deals.create', call: (c, o) => c.crm.properties.coreApi.create('deals', propertyCreateInput(spec) as unknown as PropertyCreate, o) });
      if (answer.status >= 200 && answer.status < 300) report.created.push(spec.name);
      else if (answer.status === 409) report.present.push(spec.name);
      else {
        const error = errorFromAnswer(answer, 'properties.deals.create');
        if (!isInputError(error)) throw error;
        log.error({ ...logBase, property: spec.name, err: error.message }, 'hubspot refused a dealreg property');
        report.missing.push(spec.name);
      }
    }
  }

  async function ensureSchema(): Promise<SchemaReport> {
    const report: SchemaReport = { created: [], present: [], missing: [] };
    const groupOp = 'properties.deals.groups.read';
    const group = await caller.exchange({ op: groupOp, call: (c, o) => c.crm.properties.groupsApi.getByName('deals', DEALREG_PROPERTY_GROUP.name, o) });
    if (group.status !== 404 && (group.status < 200 || group.status >= 300)) throw errorFromAnswer(group, groupOp);
    const groupExists = group.status !== 404 && hsPropertyGroupWire.safeParse(group.body).data?.archived !== true;
    const existing = new Map((await allDealProperties()).map((p) => [p.name, p]));

    if (!groupExists) {
      const op = 'properties.deals.groups.create';
      const created = await caller.exchange({ op, call: (c, o) => c.crm.properties.groupsApi.create('deals', { ...DEALREG_PROPERTY_GROUP }, o) });
      if (created.status !== 409 && (created.status < 200 || created.status >= 300)) throw errorFromAnswer(created, op);
      log.info({ ...logBase, group: DEALREG_PROPERTY_GROUP.name }, created.status === 409 ? 'hubspot property group was already there' : 'created the hubspot property group');
    }

    const toCreate: DealregPropertySpec[] = [];
    for (const spec of DEALREG_DEAL_PROPERTIES) {
      const p = existing.get(spec.name);
      if (!p) {
        toCreate.push(spec);
        continue;
      }
      const wrong = mismatch(spec, p);
      if (wrong) {
        log.error({ ...logBase, property: spec.name, problem: wrong }, 'a dealreg deal property exists with the wrong definition');
        report.missing.push(spec.name);
        continue;
      }
      const have = new Set(p.options.map((o) => o.value));
      const lacking = spec.options.filter((o) => !have.has(o.value));
      if (lacking.length > 0) {
        // An older dealreg created the enumeration with fewer options: add the new ones, keep the rest.
        const op = 'properties.deals.update';
        const options = [...p.options.map((o, i) => ({ label: o.label, value: o.value, displayOrder: i, hidden: o.hidden === true })), ...lacking.map((o) => ({ ...o, hidden: false }))];
        const body = { options } as unknown as PropertyUpdate;
        await caller.call({ op, call: (c, o) => c.crm.properties.coreApi.update('deals', spec.name, body, o), schema: hsPropertyWire });
        log.info({ ...logBase, property: spec.name, added: lacking.map((o) => o.value) }, 'added options to a dealreg deal property');
      }
      report.present.push(spec.name);
    }

    if (toCreate.length > 0) {
      const op = 'properties.deals.batch.create';
      const inputs = toCreate.map((s) => propertyCreateInput(s) as unknown as PropertyCreate);
      const answer = await caller.exchange({ op, call: (c, o) => c.crm.properties.batchApi.create('deals', { inputs }, o) });
      if (answer.status >= 200 && answer.status < 300) {
        const parsed = hsBatchWire(hsPropertyWire).safeParse(answer.body);
        const results = parsed.data?.results ?? [];
        const errors = parsed.data?.errors ?? [];
        const done = new Set(results.map((p) => p.name));
        for (const spec of toCreate) {
          if (done.has(spec.name)) {
            report.created.push(spec.name);
            continue;
          }
          const e = errors.find((x) => errorContext(x, 'name').includes(spec.name) || (x.message ?? '').includes(`'${spec.name}'`));
          if (e?.category === 'OBJECT_ALREADY_EXISTS') report.present.push(spec.name);
          else {
            log.error({ ...logBase, property: spec.name, category: e?.category, err: e?.message }, 'hubspot did not create a dealreg property');
            report.missing.push(spec.name);
          }
        }
      } else {
        const error = errorFromAnswer(answer, op);
        if (!isInputError(error)) throw error;
        // The batch was refused as a whole (one name already taken, say): one by one tells them apart.
        await createPropertiesOneByOne(toCreate, report);
      }
    }
    return report;
  }

  async function describe(): Promise<CrmDescribe> {
    const [properties, pipelines] = await both(
      allDealProperties(),
      caller.call({ op: 'pipelines.deals.list', call: (c, o) => c.crm.pipelines.pipelinesApi.getAll('deals', o), schema: hsPageWire(hsPipelineWire) }),
    );
    return {
      crm: 'hubspot',
      opportunityFields: properties.map(toCrmFieldInfo),
      pipelines: pipelines.data.results
        .filter((p) => p.archived !== true)
        .sort((a, b) => a.displayOrder - b.displayOrder)
        .map(toCrmPipeline),
      fetchedAt: new Date().toISOString(),
    };
  }

  // ---- the rest of the interface ---------------------------------------------------------------------

  const adapter: HubspotAdapter = {
    crm: 'hubspot',
    accountId: opts.portalId,
    writeBatchSize: HUBSPOT_BATCH_SIZE,
    readBatchSize: HUBSPOT_BATCH_SIZE,
    get appId() {
      return appId;
    },

    async verifyCredentials() {
      await caller.call({ op: 'owners.list', call: (c, o) => c.crm.owners.ownersApi.getPage(undefined, undefined, 1, false, o), schema: hsPageWire(hsOwnerWire) });
      // Introspection tells an OAuth token's portal and app. HubSpot does not introspect private-app
      // tokens (4xx); the sandbox does (with expires_in 0). Either way the owners call proved the token.
      const token = await opts.tokens.current();
      const op = 'oauth.access-token.introspect';
      const answer = await caller.exchange({ op, authenticated: false, call: (c, o) => c.oauth.accessTokensApi.get(token, o) });
      if (answer.status === 400 || answer.status === 401 || answer.status === 404) {
        log.debug({ ...logBase, status: answer.status }, 'hubspot token is not introspectable (private app token)');
        return { accountId: opts.portalId, appId };
      }
      if (answer.status < 200 || answer.status >= 300) throw errorFromOauthAnswer(answer, op);
      const info = hsAccessTokenInfoWire.safeParse(answer.body);
      if (!info.success) return { accountId: opts.portalId, appId };
      if (appId === null && info.data.app_id) appId = info.data.app_id;
      if (info.data.hub_id !== opts.portalId) log.warn({ ...logBase, tokenPortalId: info.data.hub_id }, 'the hubspot token belongs to another portal');
      return { accountId: info.data.hub_id, appId: info.data.app_id ?? appId };
    },

    ensureSchema,
    describe,

    async listOwners(): Promise<CrmOwner[]> {
      const owners: CrmOwner[] = [];
      let after: string | undefined;
      do {
        const cursor = after;
        const { data } = await caller.call({ op: 'owners.list', call: (c, o) => c.crm.owners.ownersApi.getPage(undefined, cursor, HUBSPOT_PAGE_SIZE, false, o), schema: hsPageWire(hsOwnerWire) });
        owners.push(...data.results.map(toCrmOwner));
        after = data.paging?.next?.after;
      } while (after);
      return owners;
    },

    writeOpportunities,

    async createAccounts(accounts: AccountWrite[]): Promise<AccountWriteResult[]> {
      requireAtMost('createAccounts', accounts.length, HUBSPOT_BATCH_SIZE);
      const results: AccountWriteResult[] = [];
      const seen = new Set<string>();
      const send: AccountWrite[] = [];
      for (const a of accounts) {
        if (seen.has(a.key)) results.push({ key: a.key, ok: false, error: invalidInput(`account key ${a.key} appears twice in one createAccounts call`, 'DUPLICATE_INPUT') });
        else {
          seen.add(a.key);
          send.push(a);
        }
      }
      const op = 'companies.batch.create';
      const created = await bisect(
        send,
        async (batch): Promise<AccountWriteResult[]> => {
          const inputs = batch.map((a) => ({ objectWriteTraceId: a.key, properties: { name: a.name, domain: a.domain }, associations: [] }));
          const { data } = await caller.call({ op, call: (c, o) => c.crm.companies.batchApi.create({ inputs }, o), schema: hsBatchWire(hsObjectWire) });
          const pending = new Map(batch.map((a) => [a.key, a]));
          const out: AccountWriteResult[] = [];
          for (const r of data.results) {
            const a = r.objectWriteTraceId ? pending.get(r.objectWriteTraceId) : [...pending.values()].find((x) => x.domain === r.properties.domain && x.name === r.properties.name);
            if (!a) continue;
            pending.delete(a.key);
            out.push({ key: a.key, ok: true, externalId: r.id });
          }
          for (const e of data.errors) {
            for (const trace of unique([...(e.objectWriteTraceId ? [e.objectWriteTraceId] : []), ...errorContext(e, 'objectWriteTraceId')])) {
              if (!pending.delete(trace)) continue;
              out.push({ key: trace, ok: false, error: errorFromBatchItem(e, op) });
            }
          }
          for (const a of pending.values()) out.push({ key: a.key, ok: false, error: new CrmError('hubspot', 'TEMPORARY', `HubSpot's answer to ${op} said nothing about account ${a.key}`, { crmCode: 'MISSING_RESULT' }) });
          return out;
        },
        (a, error): AccountWriteResult => ({ key: a.key, ok: false, error }),
      );
      return [...results, ...created];
    },

    async readOpportunities(ids: string[], fields: string[]): Promise<Map<string, CrmOpportunity>> {
      const wanted = unique(ids);
      requireAtMost('readOpportunities', wanted.length, HUBSPOT_BATCH_SIZE);
      const out = new Map<string, CrmOpportunity>();
      if (wanted.length === 0) return out;
      // Property history is one call only up to 50 ids; beyond that fieldChanges is left out.
      const history = wanted.length <= HUBSPOT_HISTORY_BATCH_SIZE ? fields : [];
      const [records, companies] = await both(batchReadDeals(wanted, opportunityProperties(fields), history), companiesOfDeals(wanted));
      const survivors = unique([...records.values()].map((r) => r.id)).filter((id) => !companies.has(id) && !wanted.includes(id));
      if (survivors.length > 0) for (const [k, v] of await companiesOfDeals(survivors)) companies.set(k, v);
      const mapped = new Map<string, CrmOpportunity>();
      for (const [key, r] of records) {
        let o = mapped.get(r.id);
        if (!o) {
          o = opportunitiesOf([r], fields, (x) => companies.get(x.id) ?? [])[0]!;
          mapped.set(r.id, o);
        }
        out.set(key, o);
      }
      return out;
    },

    async readAccounts(ids: string[]): Promise<Map<string, CrmAccount>> {
      const wanted = unique(ids);
      requireAtMost('readAccounts', wanted.length, HUBSPOT_BATCH_SIZE);
      const out = new Map<string, CrmAccount>();
      if (wanted.length === 0) return out;
      const call: SdkCall = (c, o) => c.crm.companies.batchApi.read({ inputs: wanted.map((id) => ({ id })), properties: [...ACCOUNT_PROPERTIES], propertiesWithHistory: [] }, undefined, o);
      const { data } = await caller.call({ op: 'companies.batch.read', call, schema: hsBatchWire(hsObjectWire) });
      const mapped = new Map<string, CrmAccount>();
      for (const [key, r] of keyByRequestedIds(wanted, data.results)) {
        const a = mapped.get(r.id) ?? toCrmAccount(r);
        mapped.set(r.id, a);
        out.set(key, a);
      }
      return out;
    },

    async listAccounts(cursor: string | null): Promise<Page<CrmAccount>> {
      const call: SdkCall = (c, o) => c.crm.companies.basicApi.getPage(HUBSPOT_PAGE_SIZE, cursor ?? undefined, [...ACCOUNT_PROPERTIES], undefined, undefined, false, o);
      const { data } = await caller.call({ op: 'companies.list', call, schema: hsPageWire(hsObjectWire) });
      return { records: data.results.map(toCrmAccount), next: data.paging?.next?.after ?? null };
    },

    async listOpportunities(cursor: string | null, fields: string[]): Promise<Page<CrmOpportunity>> {
      const call: SdkCall = (c, o) => c.crm.deals.basicApi.getPage(HUBSPOT_PAGE_SIZE, cursor ?? undefined, opportunityProperties(fields), undefined, ['companies'], false, o);
      const { data } = await caller.call({ op: 'deals.list', call, schema: hsPageWire(hsObjectWire) });
      return { records: opportunitiesOf(data.results, fields, (r) => companyIdsFromV3(r.associations)), next: data.paging?.next?.after ?? null };
    },

    async accountsChangedSince(since: string, limit: number): Promise<ChangedSince<CrmAccount>> {
      const { records, total } = await searchModifiedSince('companies', since, limit, [...ACCOUNT_PROPERTIES]);
      const accounts = records.map(toCrmAccount);
      return { records: accounts, newestAt: accounts.at(-1)?.updatedAt ?? null, more: total > records.length };
    },

    async opportunitiesChangedSince(since: string, limit: number, fields: string[]): Promise<ChangedSince<CrmOpportunity>> {
      const { records, total } = await searchModifiedSince('deals', since, limit, opportunityProperties(fields));
      const companies = await companiesOfDeals(records.map((r) => r.id));
      const opportunities = opportunitiesOf(records, fields, (r) => companies.get(r.id) ?? []);
      return { records: opportunities, newestAt: opportunities.at(-1)?.updatedAt ?? null, more: total > records.length };
    },

    async revoke(): Promise<void> {
      const refreshToken = opts.refreshToken ? await opts.refreshToken() : null;
      if (!refreshToken) return;
      const op = 'oauth.refresh-token.revoke';
      const answer = await caller.exchange({ op, authenticated: false, call: (c, o) => c.oauth.refreshTokensApi.archive(refreshToken, o) });
      if (answer.status >= 200 && answer.status < 300) return;
      if (answer.status === 400 || answer.status === 404) return; // already revoked or unknown
      throw errorFromOauthAnswer(answer, op);
    },
  };

  async function searchModifiedSince(type: 'deals' | 'companies', since: string, limit: number, properties: string[]): Promise<{ records: HsObject[]; total: number }> {
    const sinceMs = Date.parse(since);
    if (Number.isNaN(sinceMs)) throw invalidInput(`"${since}" is not an ISO timestamp`, 'INVALID_CURSOR');
    if (!Number.isInteger(limit) || limit < 1) throw invalidInput(`limit must be a positive integer, got ${limit}`, 'INVALID_LIMIT');
    requireAtMost(`${type} changed-since search`, limit, HUBSPOT_SEARCH_LIMIT);
    const request = {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: FilterOperatorEnum.Gte, value: String(sinceMs) }] }],
      // HubSpot documents sorts as objects; the SDK types them as strings and passes them through.
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }] as unknown as string[],
      properties,
      limit,
    };
    const call: SdkCall = type === 'deals' ? (c, o) => c.crm.deals.searchApi.doSearch(request, o) : (c, o) => c.crm.companies.searchApi.doSearch(request, o);
    const { data } = await caller.call({ op: `${type}.search.modified-since`, kind: 'search', call, schema: hsSearchWire });
    return { records: data.results, total: data.total };
  }

  return adapter;
}
