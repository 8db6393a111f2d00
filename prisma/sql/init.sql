-- The audit ledger is append-only: refuse UPDATE and DELETE (the hash chain detects anyone who
-- bypasses this, e.g. a superuser disabling the trigger: see `dealreg ledger verify`).
CREATE OR REPLACE FUNCTION dealreg_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ledger_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_events_append_only
  BEFORE UPDATE OR DELETE ON "ledger_events"
  FOR EACH ROW EXECUTE FUNCTION dealreg_ledger_append_only();

-- Undispatched outbox rows are what the dispatcher scans: keep that index small.
CREATE INDEX "outbox_pending_idx" ON "outbox" ("id") WHERE "dispatched_at" IS NULL;

-- The ledger head row is updated by every append: leave room on its page for HOT updates so that
-- pruning keeps the version chain short.
ALTER TABLE "ledger_heads" SET (fillfactor = 10);
