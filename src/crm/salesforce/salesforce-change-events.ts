// Change Data Capture events → CrmChangeEvent. Pure: whatever delivers the events (the sandbox's replay
// feed today, a Pub/Sub API gRPC subscriber tomorrow) hands them here already decoded.
//
// CDC facts this relies on:
// - One event may name several records (`recordIds`: the same change to several records of one object in
//   one transaction): we emit one CrmChangeEvent per record, keyed `cdc:<replayId>:<recordId>`, so the
//   inbox deduplicates per record and a replay of the same event is the same keys.
// - `changeOrigin` is `com/salesforce/api/<api>/<version>;client=<client id>` when the writer set
//   `Sforce-Call-Options: client=…`; dealreg writes with `client=dealreg`, Lightning edits show
//   `client=SfdcInternalAPI/`. `commitUser` is who ran the transaction.
// - Gap events (`GAP_CREATE`, `GAP_UPDATE`, …) say "something changed, read the record": no field list.
//   `GAP_OVERFLOW` and wildcard record ids (`001*`) name no records at all: the caller must catch up.
import type { ChangeOrigin, CrmChangeEvent } from '../crm-adapter';
import { toId18 } from './salesforce-ids';
import type { SfChangeEvent, SfChangeEventHeader } from './salesforce-wire';

/** The Sforce-Call-Options client dealreg writes with. */
export const DEALREG_CLIENT_ID = 'dealreg';

const OBJECTS: Record<string, CrmChangeEvent['object']> = { Opportunity: 'opportunity', Account: 'account' };

const CHANGES: Record<string, CrmChangeEvent['change']> = { CREATE: 'created', UPDATE: 'updated', DELETE: 'deleted', UNDELETE: 'created' };

/** The `client=` part of a changeOrigin, or null. */
export function clientOf(changeOrigin: string): string | null {
  const m = /;client=([^;]*)/.exec(changeOrigin);
  return m ? m[1]! : null;
}

export function originOf(header: Pick<SfChangeEventHeader, 'changeOrigin' | 'commitUser'>): ChangeOrigin {
  const client = clientOf(header.changeOrigin);
  if (client === DEALREG_CLIENT_ID) return { kind: 'self' };
  const userId = toId18(header.commitUser);
  if (client !== null && client.startsWith('SfdcInternalAPI') && userId) return { kind: 'user', userId };
  return { kind: 'other', source: header.changeOrigin || 'salesforce' };
}

export interface MappedEvents {
  events: CrmChangeEvent[];
  /** An event said changes were lost or could not be listed (overflow, wildcard ids): catch up by query. */
  lost: boolean;
}

export function toCrmChangeEvents(raw: readonly SfChangeEvent[]): MappedEvents {
  const events: CrmChangeEvent[] = [];
  let lost = false;
  for (const e of raw) {
    const h = e.payload.ChangeEventHeader;
    const object = OBJECTS[h.entityName];
    if (!object) continue; // Partner, User, …: nothing dealreg mirrors
    const gap = h.changeType.startsWith('GAP_');
    const change = CHANGES[gap ? h.changeType.slice('GAP_'.length) : h.changeType];
    if (!change) {
      lost = true; // GAP_OVERFLOW, or a change type newer than this code
      continue;
    }
    const origin = originOf(h);
    const occurredAt = new Date(h.commitTimestamp).toISOString();
    const changedFields = gap ? [] : [...new Set([...h.changedFields, ...h.nulledFields])];
    for (const recordId of h.recordIds) {
      const externalId = toId18(recordId);
      if (!externalId) {
        lost = true; // a wildcard such as `006*`
        continue;
      }
      events.push({ eventKey: `cdc:${e.replayId}:${externalId}`, object, externalId, change, changedFields, origin, occurredAt });
    }
  }
  return { events, lost };
}
