-- Links waiting to be pushed, per connection, oldest first: the push job's claim query uses this.
CREATE INDEX "crm_links_to_push_idx" ON "crm_links" ("connection_id", "updated_at") WHERE "pushed_version" < "wanted_version" AND "state" <> 'deleted';
-- Unprocessed inbox events per connection, in arrival order.
CREATE INDEX "inbox_events_pending_idx" ON "inbox_events" ("connection_id", "id") WHERE "processed_at" IS NULL;
-- Processed events are kept a while for dedupe, then cleaned up by received_at.
CREATE INDEX "inbox_events_received_idx" ON "inbox_events" ("received_at");
