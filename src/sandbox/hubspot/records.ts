// Writes to CRM records: create, update, archive, merge. Each maintains what HubSpot maintains
// (hs_object_id, createdate, hs_lastmodifieddate, the calculated deal-stage properties, per-property
// history, the unique-value index) and emits the webhook events the change produces.
import { moveAssociations } from './association-store';
import type { CrmRecord, HistoryEntry } from './model';
import type { ObjectType } from './object-types';
import { SINGULAR } from './object-types';
import type { Portal } from './portal';
import type { WriteCtx } from './state';
import { index, unindex } from './search-index';
import { isoTime, stageOf } from './values';

const HISTORY_DEPTH = 20;
/** Properties whose changes do not produce propertyChange events (bookkeeping, not data). */
const SILENT = new Set(['hs_lastmodifieddate', 'hs_object_id', 'hs_all_owner_ids', 'hs_is_closed', 'hs_is_closed_won', 'hs_deal_stage_probability', 'hs_closed_won_date']);

function sourceOf(ctx: WriteCtx): Omit<HistoryEntry, 'value' | 'timestamp'> {
  return ctx.actor.kind === 'user'
    ? { sourceType: 'CRM_UI', sourceId: `userId:${ctx.actor.userId}`, updatedByUserId: ctx.actor.userId }
    : { sourceType: 'INTEGRATION', sourceId: String(ctx.portal.appId) };
}

function pushHistory(r: CrmRecord, name: string, entry: HistoryEntry): void {
  const list = r.history[name] ?? (r.history[name] = []);
  list.unshift(entry);
  if (list.length > HISTORY_DEPTH) list.length = HISTORY_DEPTH;
}

/** Keeps what search saw before this write, while HubSpot's index would still lag behind. */
function shadow(ctx: WriteCtx, type: ObjectType, r: CrmRecord, isNew: boolean): void {
  const lag = ctx.portal.searchLagMs;
  if (lag <= 0) return;
  const shadows = ctx.portal.searchShadow[type];
  const prev = shadows.get(r.id);
  const record = prev && prev.until > ctx.now ? prev.record : isNew ? null : structuredClone(r);
  shadows.set(r.id, { until: ctx.now + lag, record });
}

/** Sets calculated properties (deal stage flags, owner list); returns the names that changed. */
function recalculate(portal: Portal, type: ObjectType, r: CrmRecord, now: number): string[] {
  const next: Record<string, string | undefined> = {};
  if (type === 'deals') {
    const { stage } = stageOf(portal, r.props.pipeline, r.props.dealstage);
    const won = !!stage && stage.isClosed && Number(stage.probability) >= 1;
    next.hs_is_closed = stage ? String(stage.isClosed) : undefined;
    next.hs_is_closed_won = stage ? String(won) : undefined;
    next.hs_deal_stage_probability = stage ? stage.probability : undefined;
    next.hs_closed_won_date = won ? (r.props.hs_closed_won_date ?? isoTime(now)) : undefined;
  }
  next.hs_all_owner_ids = r.props.hubspot_owner_id;
  const changed: string[] = [];
  for (const [name, value] of Object.entries(next)) {
    if (r.props[name] === value) continue;
    if (value === undefined) delete r.props[name];
    else r.props[name] = value;
    changed.push(name);
    if (value !== undefined) pushHistory(r, name, { value, timestamp: now, sourceType: 'CALCULATED' });
  }
  return changed;
}

function indexUnique(portal: Portal, type: ObjectType, r: CrmRecord, add: boolean): void {
  for (const [name, index] of portal.unique[type]) {
    const v = r.props[name];
    if (v === undefined) continue;
    if (add) index.set(v, r.id);
    else if (index.get(v) === r.id) index.delete(v);
  }
}

function emitPropertyChanges(ctx: WriteCtx, type: ObjectType, r: CrmRecord, names: string[]): void {
  for (const name of names) {
    if (SILENT.has(name)) continue;
    ctx.emit({ subscriptionType: `${SINGULAR[type]}.propertyChange`, objectId: Number(r.id), propertyName: name, propertyValue: r.props[name] ?? '' });
  }
}

/** Creates a record from validated values (nulls ignored). */
export function createRecord(ctx: WriteCtx, type: ObjectType, values: Record<string, string | null>, id = ctx.state.nextObjectId()): CrmRecord {
  const now = ctx.now;
  const r: CrmRecord = { id, props: {}, createdAt: now, updatedAt: now, archived: false, history: {} };
  const src = sourceOf(ctx);
  const set: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === null) continue;
    r.props[name] = value;
    set.push(name);
    pushHistory(r, name, { value, timestamp: now, ...src });
  }
  if (type === 'deals') {
    if (!r.props.pipeline) {
      r.props.pipeline = 'default';
      set.push('pipeline');
    }
    if (!r.props.dealstage) {
      const first = ctx.portal.pipelines.get(r.props.pipeline)?.stages.find((s) => !s.archived);
      if (first) {
        r.props.dealstage = first.id;
        set.push('dealstage');
      }
    }
  }
  if (r.props.createdate) r.createdAt = Date.parse(r.props.createdate);
  else r.props.createdate = isoTime(now);
  r.props.hs_object_id = id;
  r.props.hs_lastmodifieddate = isoTime(now);
  for (const name of ['hs_object_id', 'createdate', 'hs_lastmodifieddate']) {
    if (!r.history[name]) pushHistory(r, name, { value: r.props[name]!, timestamp: now, ...src });
  }
  recalculate(ctx.portal, type, r, now);
  ctx.portal.objects[type].set(id, r);
  indexUnique(ctx.portal, type, r, true);
  index(ctx.portal, type, r);
  shadow(ctx, type, r, true);
  ctx.emit({ subscriptionType: `${SINGULAR[type]}.creation`, objectId: Number(id), changeFlag: 'CREATED' });
  emitPropertyChanges(ctx, type, r, [...new Set([...set, 'createdate'])]);
  return r;
}

/** Applies validated values (null clears). Returns the names that changed; no change, no event. */
export function updateRecord(ctx: WriteCtx, type: ObjectType, r: CrmRecord, values: Record<string, string | null>): string[] {
  const changed: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const old = r.props[name];
    if (value === null ? old === undefined : old === value) continue;
    changed.push(name);
  }
  if (changed.length === 0) return changed;
  shadow(ctx, type, r, false);
  indexUnique(ctx.portal, type, r, false);
  unindex(ctx.portal, type, r);
  const src = sourceOf(ctx);
  for (const name of changed) {
    const value = values[name] ?? null;
    if (value === null) delete r.props[name];
    else r.props[name] = value;
    pushHistory(r, name, { value: value ?? '', timestamp: ctx.now, ...src });
  }
  if (changed.includes('createdate') && r.props.createdate) r.createdAt = Date.parse(r.props.createdate);
  r.updatedAt = ctx.now;
  r.props.hs_lastmodifieddate = isoTime(ctx.now);
  recalculate(ctx.portal, type, r, ctx.now);
  indexUnique(ctx.portal, type, r, true);
  index(ctx.portal, type, r);
  emitPropertyChanges(ctx, type, r, changed);
  return changed;
}

/** Moves a record to the recycle bin: reads 404, listing with archived=true shows it. */
export function archiveRecord(ctx: WriteCtx, type: ObjectType, r: CrmRecord): void {
  if (r.archived) return;
  shadow(ctx, type, r, false);
  indexUnique(ctx.portal, type, r, false);
  unindex(ctx.portal, type, r);
  r.archived = true;
  r.archivedAt = ctx.now;
  r.updatedAt = ctx.now;
  ctx.emit({ subscriptionType: `${SINGULAR[type]}.deletion`, objectId: Number(r.id), changeFlag: 'DELETED' });
}

/**
 * Merges `secondary` into `primary`: the primary keeps its values and takes the secondary's where
 * it has none, inherits its associations, and answers for the secondary's id from now on.
 */
export function mergeRecords(ctx: WriteCtx, type: ObjectType, primary: CrmRecord, secondary: CrmRecord): CrmRecord {
  const portal = ctx.portal;
  indexUnique(portal, type, secondary, false);
  unindex(portal, type, secondary);
  const moved: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(secondary.props)) {
    if (primary.props[name] !== undefined) continue;
    const def = portal.properties[type].get(name);
    if (!def || def.readOnlyValue || def.calculated || name === 'createdate') continue;
    moved[name] = value;
  }
  const mergedIds = [...(primary.props.hs_merged_object_ids?.split(';') ?? []), secondary.id, ...(secondary.props.hs_merged_object_ids?.split(';') ?? [])];
  portal.objects[type].delete(secondary.id);
  portal.merged[type].set(secondary.id, primary.id);
  for (const old of secondary.props.hs_merged_object_ids?.split(';') ?? []) portal.merged[type].set(old, primary.id);
  moveAssociations(ctx, type, secondary.id, primary.id);
  const silent: WriteCtx = { ...ctx, emit: () => undefined };
  updateRecord(silent, type, primary, moved);
  unindex(portal, type, primary);
  primary.props.hs_merged_object_ids = mergedIds.join(';');
  index(portal, type, primary);
  ctx.emit({
    subscriptionType: `${SINGULAR[type]}.merge`,
    objectId: Number(primary.id),
    primaryObjectId: Number(primary.id),
    mergedObjectIds: [Number(secondary.id)],
    newObjectId: Number(primary.id),
    numberOfPropertiesMoved: Object.keys(moved).length,
  });
  return primary;
}
