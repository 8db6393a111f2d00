// A replayable change-event log per org, shaped like Change Data Capture events: one global, contiguous
// replay id sequence per org (as the org's event bus), filtered per channel when read, trimmed by count and
// by age. Changes of one transaction share a transactionKey; identical changes to several records of the
// same object in one transaction are merged into one event with several recordIds, as Salesforce does.
import type { Org } from './org';
import { sfProblem } from './errors';

export type ChangeType = 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';

export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: ChangeType;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  nulledFields: string[];
  diffFields: string[];
  changedFields: string[];
}

export interface ChangeEvent {
  replayId: number;
  schema: string;
  payload: { ChangeEventHeader: ChangeEventHeader } & Record<string, unknown>;
}

/** One record's change as the DML layer reports it, before grouping. */
export interface PendingChange {
  entityName: string;
  recordId: string;
  changeType: ChangeType;
  /** Field values in CDC format (datetimes as ISO `Z` strings, compound address as an object). */
  fields: Record<string, unknown>;
  changedFields: string[];
  nulledFields: string[];
}

export interface CommitInfo {
  transactionKey: string;
  changeOrigin: string;
  commitUser: string;
  commitTimestamp: number;
  commitNumber: number;
}

export const ALL_CHANGES_CHANNEL = '/data/ChangeEvents';

export function channelOf(entityName: string): string {
  return `/data/${entityName}ChangeEvent`;
}

/** Appends the changes of one committed transaction to the org's log. */
export function publishChanges(org: Org, commit: CommitInfo, changes: PendingChange[], now: number): ChangeEvent[] {
  if (changes.length === 0) return [];
  const groups: Array<{ change: PendingChange; recordIds: string[] }> = [];
  const byKey = new Map<string, { change: PendingChange; recordIds: string[] }>();
  for (const c of changes) {
    const key = `${c.entityName}|${c.changeType}|${c.changedFields.join(',')}|${c.nulledFields.join(',')}|${JSON.stringify(c.fields)}`;
    const g = byKey.get(key);
    if (g) {
      g.recordIds.push(c.recordId);
    } else {
      const ng = { change: c, recordIds: [c.recordId] };
      byKey.set(key, ng);
      groups.push(ng);
    }
  }
  const out: ChangeEvent[] = [];
  let seq = 0;
  for (const g of groups) {
    seq += 1;
    const header: ChangeEventHeader = {
      entityName: g.change.entityName,
      recordIds: g.recordIds,
      changeType: g.change.changeType,
      changeOrigin: commit.changeOrigin,
      transactionKey: commit.transactionKey,
      sequenceNumber: seq,
      commitTimestamp: commit.commitTimestamp,
      commitNumber: commit.commitNumber,
      commitUser: commit.commitUser,
      nulledFields: g.change.nulledFields,
      diffFields: [],
      changedFields: g.change.changedFields,
    };
    const event: ChangeEvent = {
      replayId: org.events.nextReplayId++,
      schema: schemaIdOf(g.change.entityName),
      payload: { ChangeEventHeader: header, ...g.change.fields },
    };
    org.events.log.push(event);
    out.push(event);
  }
  trim(org, now);
  return out;
}

function schemaIdOf(entity: string): string {
  // A stable, opaque schema id per entity, like the ones Salesforce puts beside each event.
  let h = 0;
  for (const ch of entity) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `sbx${h.toString(36).padStart(7, '0')}-${entity}`;
}

/** Drops events beyond the retention count and older than the retention window. */
export function trim(org: Org, now: number): void {
  const log = org.events.log;
  let drop = Math.max(0, log.length - org.settings.eventRetention);
  const horizon = now - org.settings.eventRetentionHours * 3_600_000;
  while (drop < log.length && log[drop]!.payload.ChangeEventHeader.commitTimestamp < horizon) drop++;
  if (drop > 0) log.splice(0, drop);
}

export interface ReadResult {
  channel: string;
  events: ChangeEvent[];
  /** Pass as `replayId` on the next read: everything up to it has been scanned for this channel. */
  nextReplayId: number;
  latestReplayId: number;
  oldestReplayId: number;
  /** More matching events are waiting beyond `limit`. */
  hasMore: boolean;
}

export function knownChannel(org: Org, channel: string): boolean {
  if (channel === ALL_CHANGES_CHANNEL) return true;
  const m = /^\/data\/(\w+)ChangeEvent$/.exec(channel);
  if (!m) return false;
  return org.sobject(m[1]!)?.cdc === true;
}

export function oldestReplayId(org: Org): number {
  return org.events.log[0]?.replayId ?? org.events.nextReplayId;
}

/**
 * Reads events after `replayId` (-1 = only new ones, i.e. the tip; -2 = from the oldest retained).
 * A replay id whose successors were dropped by retention, or one from the future, is answered with
 * 400 INVALID_REPLAY_ID, as a CometD subscription would be refused.
 */
export function readChanges(org: Org, channel: string, replayId: number, limit: number, now: number): ReadResult {
  trim(org, now);
  const log = org.events.log;
  const latest = org.events.nextReplayId - 1;
  const oldest = oldestReplayId(org);
  let after: number;
  if (replayId === -1) after = latest;
  else if (replayId === -2) after = oldest - 1;
  else if (replayId >= 0 && replayId >= oldest - 1 && replayId <= latest) after = replayId;
  else {
    throw sfProblem(
      400,
      'INVALID_REPLAY_ID',
      `The replayId {${replayId}} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`,
      undefined,
      { oldestReplayId: oldest, latestReplayId: latest },
    );
  }
  const entity = channel === ALL_CHANGES_CHANNEL ? null : channel.slice('/data/'.length, -'ChangeEvent'.length);
  const events: ChangeEvent[] = [];
  let i = Math.max(0, after - oldest + 1);
  let scannedTo = after;
  let hasMore = false;
  for (; i < log.length; i++) {
    const e = log[i]!;
    if (entity === null || e.payload.ChangeEventHeader.entityName === entity) {
      if (events.length >= limit) {
        hasMore = true;
        break;
      }
      events.push(e);
    }
    scannedTo = e.replayId;
  }
  return { channel, events, nextReplayId: scannedTo, latestReplayId: latest, oldestReplayId: oldest, hasMore };
}
