// The one interface every CRM connector implements (HubSpot now, Salesforce next), the canonical shapes
// that cross it, and the closed set of CRM error codes. Nothing outside src/crm/<name>/ sees a CRM's wire
// shapes: adapters parse every response with zod and answer in these types. Field names that RevOps puts
// in a sync mapping (a HubSpot property, a Salesforce field API name) are configuration data: they
// appear in `fields` records, never in code outside the adapter.
import type { CrmName } from '../domain/types';

export type { CrmName };

/**
 * What went wrong, as a closed set (STYLE.md 3). One pure function (src/crm/retry-decision.ts) turns a
 * code into retry / pause / park / fail.
 * - RATE_LIMITED: the CRM said slow down (HubSpot 429, Salesforce REQUEST_LIMIT_EXCEEDED).
 * - TEMPORARY: 5xx, timeouts, connection resets, row locks: try again later.
 * - AUTH: the credentials do not work and could not be refreshed.
 * - NOT_FOUND: the record (or endpoint) does not exist (deleted, merged away).
 * - CONFLICT: a uniqueness clash or a concurrent change.
 * - INVALID: the CRM refused the input (bad property, wrong type): retrying the same input will not help.
 */
export const CRM_ERROR_CODES = ['RATE_LIMITED', 'TEMPORARY', 'AUTH', 'NOT_FOUND', 'CONFLICT', 'INVALID'] as const;
export type CrmErrorCode = (typeof CRM_ERROR_CODES)[number];

export class CrmError extends Error {
  readonly crm: CrmName;
  readonly code: CrmErrorCode;
  /** HTTP status when there was one. */
  readonly status?: number;
  /** How long the CRM asked us to wait (Retry-After, or the rate window), in ms. */
  readonly retryAfterMs?: number;
  /** The CRM's own error code or category (e.g. "VALIDATION_ERROR", "UNABLE_TO_LOCK_ROW"), for logs. */
  readonly crmCode?: string;
  /** For CONFLICT on a unique value: the id of the record that already holds it. */
  readonly existingId?: string;
  constructor(
    crm: CrmName,
    code: CrmErrorCode,
    message: string,
    extra: { status?: number; retryAfterMs?: number; crmCode?: string; existingId?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'CrmError';
    this.crm = crm;
    this.code = code;
    this.status = extra.status;
    this.retryAfterMs = extra.retryAfterMs;
    this.crmCode = extra.crmCode;
    this.existingId = extra.existingId;
  }
}

export const isCrmError = (e: unknown): e is CrmError => e instanceof CrmError;

/** A field of the opportunity object as the CRM describes it (for mapping validation and previews). */
export interface CrmFieldInfo {
  name: string;
  label: string;
  /** Our coarse type: what a mapping transform must produce. */
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'boolean' | 'reference';
  options?: { value: string; label: string }[];
  readOnly: boolean;
  /** Unique-value / external-id field. */
  unique: boolean;
}

export interface CrmStageInfo {
  id: string;
  label: string;
  isClosed: boolean;
  isWon: boolean;
  order: number;
}

export interface CrmPipelineInfo {
  id: string;
  label: string;
  stages: CrmStageInfo[];
}

/** What a CRM account (portal / org) offers for opportunities: fields and pipelines with stages. */
export interface CrmDescribe {
  crm: CrmName;
  opportunityFields: CrmFieldInfo[];
  pipelines: CrmPipelineInfo[];
  fetchedAt: string;
}

/** Result of making sure the fields dealreg writes exist (HubSpot: creates them; Salesforce: reports). */
export interface SchemaReport {
  created: string[];
  present: string[];
  /** Fields that should exist but could not be created (Salesforce: deploy the metadata). */
  missing: string[];
}

/** One opportunity (deal) to write. `fields` are CRM field names → values already in the CRM's format. */
export interface OpportunityWrite {
  registrationId: string;
  /** Known CRM id (update) or null (create, keyed by the registration id external-id field). */
  externalId: string | null;
  fields: Record<string, string | number | boolean | null>;
  pipelineId?: string | null;
  stageId?: string | null;
  /** Account (company) to associate as primary, when known. */
  accountExternalId?: string | null;
  /**
   * The registering partner's own account in this CRM (partner.crmRefs), when it has one. Salesforce
   * records it as an OpportunityPartner on a newly created opportunity; HubSpot ignores it.
   */
  partner?: { accountExternalId: string; name: string; type: string } | null;
}

export type OpportunityWriteResult =
  | { registrationId: string; ok: true; externalId: string; created: boolean }
  | { registrationId: string; ok: false; error: CrmError };

/** An account (company) to create when the mapping says so. */
export interface AccountWrite {
  key: string;
  name: string;
  domain: string;
}

export type AccountWriteResult = { key: string; ok: true; externalId: string } | { key: string; ok: false; error: CrmError };

/** An opportunity as read back from the CRM, in our shape. */
export interface CrmOpportunity {
  externalId: string;
  /** The value of our external-id field, when the record is one of ours. */
  registrationId: string | null;
  name: string;
  amount: number | null;
  currency: string | null;
  closeDate: string | null; // YYYY-MM-DD
  pipelineId: string | null;
  stageId: string | null;
  isClosed: boolean;
  isWon: boolean;
  ownerId: string | null;
  accountExternalIds: string[];
  /** Every field that was asked for, by CRM name, as the CRM's raw string value (null when empty). */
  fields: Record<string, string | null>;
  /** When each field last changed and who changed it (when the CRM says). */
  fieldChanges?: Record<string, { at: string; origin: ChangeOrigin }>;
  updatedAt: string;
  /** Other ids this record absorbed in a merge. */
  mergedIds: string[];
}

/** An account (company) as read back from the CRM. */
export interface CrmAccount {
  externalId: string;
  name: string;
  /** Registrable domains (already normalised). */
  domains: string[];
  country: string | null;
  ownerId: string | null;
  isCustomer: boolean;
  updatedAt: string;
  mergedIds: string[];
}

export interface CrmOwner {
  id: string;
  name: string | null;
  email: string | null;
  teamIds: string[];
  /** The CRM user id behind the owner (HubSpot userId), to recognise "who changed it". */
  userId: string | null;
}

/** Who made a change: dealreg itself (echo), a person, or something else (workflow, other app, import). */
export type ChangeOrigin = { kind: 'self' } | { kind: 'user'; userId: string } | { kind: 'other'; source: string };

/** A change notification from a webhook or change-event feed, normalised. */
export interface CrmChangeEvent {
  /** Unique per CRM account: the inbox deduplicates on it. */
  eventKey: string;
  object: 'opportunity' | 'account';
  externalId: string;
  change: 'created' | 'updated' | 'deleted' | 'merged' | 'associated';
  changedFields: string[];
  origin: ChangeOrigin;
  occurredAt: string;
  /** Merge: the surviving record and the ids merged into it. */
  merge?: { survivorId: string; mergedIds: string[] };
}

/**
 * A page of a CRM's change-event feed (Salesforce Change Data Capture, replayed by id). HubSpot pushes
 * webhooks instead and has no feed.
 */
export interface ChangeFeedPage {
  /** One event per record (a CDC event naming several records is split), our own writes already marked `self`. */
  events: CrmChangeEvent[];
  /** Where the next pull starts; persist it once `events` are stored. */
  cursor: string;
  /** More events are waiting right now: pull again at once. */
  more: boolean;
  /**
   * Events may have been lost: the cursor given was unknown or older than the feed retains (`cursor` is
   * then the feed's tip), or the CRM said it dropped some (a CDC overflow or gap event). Store `events`,
   * then catch up with `*ChangedSince`.
   */
  gap: boolean;
}

export interface Page<T> {
  records: T[];
  /** Pass back to get the next page; null when done. */
  next: string | null;
}

/** Records modified at or after a timestamp, oldest first (reconcile sweeps). */
export interface ChangedSince<T> {
  records: T[];
  /**
   * Where the next call continues (its `since`): the newest modification time seen, or just past it when
   * the adapter read a crowded timestamp to its end (Salesforce: every record of that second was
   * returned, so the next page starts after it). Null if nothing came back.
   */
  newestAt: string | null;
  /** More records are waiting at or after newestAt. */
  more: boolean;
}

export interface CrmAdapter {
  readonly crm: CrmName;
  /** The CRM account this adapter talks to (HubSpot portal id, Salesforce org id). */
  readonly accountId: string;
  /** Most records one write call takes (HubSpot batch: 100, Salesforce collections: 200). */
  readonly writeBatchSize: number;
  /** Most ids one read call takes. */
  readonly readBatchSize: number;

  /** Cheap authenticated call proving the credentials work; returns the CRM account id they belong to. */
  verifyCredentials(): Promise<{ accountId: string; appId?: string | null }>;
  /** Creates what dealreg needs (idempotent: re-running changes nothing) or reports what is missing. */
  ensureSchema(): Promise<SchemaReport>;
  describe(): Promise<CrmDescribe>;
  listOwners(): Promise<CrmOwner[]>;

  /** At most writeBatchSize writes; one result per write, in any order. Throws only for whole-call failures. */
  writeOpportunities(writes: OpportunityWrite[]): Promise<OpportunityWriteResult[]>;
  createAccounts(accounts: AccountWrite[]): Promise<AccountWriteResult[]>;

  /** At most readBatchSize ids; ids that do not exist (deleted) are missing from the map. */
  readOpportunities(ids: string[], fields: string[]): Promise<Map<string, CrmOpportunity>>;
  readAccounts(ids: string[]): Promise<Map<string, CrmAccount>>;

  /** Backfill: every account / opportunity, a page at a time. */
  listAccounts(cursor: string | null): Promise<Page<CrmAccount>>;
  listOpportunities(cursor: string | null, fields: string[]): Promise<Page<CrmOpportunity>>;
  /** Reconcile: records modified at or after `since` (ISO), oldest first. */
  accountsChangedSince(since: string, limit: number): Promise<ChangedSince<CrmAccount>>;
  opportunitiesChangedSince(since: string, limit: number, fields: string[]): Promise<ChangedSince<CrmOpportunity>>;

  /** Revokes the stored refresh token where the CRM supports it (disconnect). Never throws for "already revoked". */
  revoke(): Promise<void>;

  /**
   * Feed-based CRMs (Salesforce): the change events after `cursor` (null: start at the tip, only new
   * events). `waitMs` long-polls when nothing is waiting. Absent for push-based CRMs (HubSpot webhooks).
   */
  pullChanges?(cursor: string | null, opts: { limit: number; waitMs?: number }): Promise<ChangeFeedPage>;
}

/** Where an adapter gets its access token; `refresh` is called once after a 401 with the token that failed. */
export interface AccessTokenSource {
  current(): Promise<string>;
  refresh(rejected: string): Promise<string>;
}

/**
 * Shared rate limiting for one CRM connection (all workers, through Redis). `acquire` resolves when a call
 * may go out now, or throws CrmError RATE_LIMITED with `retryAfterMs` (the job is delayed, not retried);
 * `rateLimited` records that the CRM itself said stop (429), pausing the connection for everyone.
 */
export interface CallGate {
  acquire(kind: 'api' | 'search'): Promise<void>;
  rateLimited(retryAfterMs: number): Promise<void>;
  /** What the CRM said about the remaining quota (headers), for metrics and budgets. */
  observe?(info: { remaining?: number; max?: number; intervalMs?: number; dailyUsed?: number; dailyMax?: number }): void;
}
