// Where change events come from. Salesforce delivers Change Data Capture over the Pub/Sub API (gRPC,
// Avro) or CometD; the sandbox serves the same events, replayable by id, from a long-polling REST resource
// (`GET /services/data/vXX.X/sandbox/change-events`). This module is the only place that knows the
// delivery: a Pub/Sub subscriber would replace it, returning the same ChangeFeedPage, while the mapping
// (salesforce-change-events.ts) stays as it is.
//
// The feed is not metered as API requests (Salesforce counts event delivery separately) and a long poll
// may wait up to a minute: it passes neither the daily budget nor the per-second gate.
import type { ChangeFeedPage } from '../crm-adapter';
import { toCrmChangeEvents } from './salesforce-change-events';
import { errorFromAnswer, firstError } from './salesforce-errors';
import { parseBody, type SalesforceCaller } from './salesforce-transport';
import { sfChangeFeedWire, sfInvalidReplayWire } from './salesforce-wire';

/** Every CDC-enabled object; the mapping keeps Opportunity and Account. */
export const CHANGE_CHANNEL = '/data/ChangeEvents';
/** Replay id meaning "only events published from now on". */
const TIP = -1;
const MAX_LIMIT = 1000;
const MAX_WAIT_MS = 60_000;

export interface ChangeFeed {
  pull(cursor: string | null, opts: { limit: number; waitMs?: number }): Promise<ChangeFeedPage>;
}

export function createSandboxChangeFeed(caller: SalesforceCaller): ChangeFeed {
  const read = (replayId: number, limit: number, waitMs: number) => {
    const query = new URLSearchParams({ channel: CHANGE_CHANNEL, replayId: String(replayId), limit: String(limit), waitMs: String(waitMs) });
    return caller.exchange({ op: 'change-events.read', method: 'GET', url: `/sandbox/change-events?${query.toString()}`, kind: 'feed', longPollMs: waitMs });
  };

  /** The feed's tip, for a subscription that has to start over. */
  const gapPage = async (latestReplayId: number | undefined): Promise<ChangeFeedPage> => {
    let tip = latestReplayId;
    if (tip === undefined) {
      const answer = await read(TIP, 1, 0);
      if (answer.status !== 200) throw errorFromAnswer(answer, 'change-events.read');
      tip = parseBody(sfChangeFeedWire, answer, 'change-events.read').nextReplayId;
    }
    return { events: [], cursor: String(tip), more: false, gap: true };
  };

  return {
    async pull(cursor, opts) {
      // A cursor that is not a replay id is as unknown as an expired one.
      if (cursor !== null && !/^\d+$/.test(cursor)) return gapPage(undefined);
      const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(opts.limit)));
      const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, Math.floor(opts.waitMs ?? 0)));
      const answer = await read(cursor === null ? TIP : Number(cursor), limit, waitMs);
      if (answer.status === 400 && firstError(answer.body).errorCode === 'INVALID_REPLAY_ID') {
        // Older than the feed retains (or from another org's sequence): events may be lost.
        return gapPage(sfInvalidReplayWire.safeParse(answer.body).data?.[0]?.latestReplayId);
      }
      if (answer.status !== 200) throw errorFromAnswer(answer, 'change-events.read');
      const page = parseBody(sfChangeFeedWire, answer, 'change-events.read');
      const mapped = toCrmChangeEvents(page.events);
      return { events: mapped.events, cursor: String(page.nextReplayId), more: page.hasMore, gap: mapped.lost };
    },
  };
}
