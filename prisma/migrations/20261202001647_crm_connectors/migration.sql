-- CreateEnum
CREATE TYPE "CrmConnectionStatus" AS ENUM ('active', 'parked', 'disconnected');

-- CreateTable
CREATE TABLE "crm_connections" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "external_account_id" TEXT NOT NULL,
    "auth_type" TEXT NOT NULL,
    "access_token_enc" TEXT,
    "refresh_token_enc" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "secrets_enc" TEXT,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "status" "CrmConnectionStatus" NOT NULL DEFAULT 'active',
    "status_reason" TEXT,
    "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "backfill" JSONB NOT NULL DEFAULT '{}',
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "crm_connections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm_links" (
    "connection_id" UUID NOT NULL,
    "registration_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "external_id" TEXT,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "wanted_version" INTEGER NOT NULL,
    "pushed_version" INTEGER NOT NULL DEFAULT 0,
    "pushed_hash" TEXT,
    "pushed_values" JSONB,
    "crm_owner_id" TEXT,
    "crm_stage_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "not_before" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_pushed_at" TIMESTAMPTZ(3),
    "last_inbound_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "crm_links_pkey" PRIMARY KEY ("connection_id","registration_id")
);

-- CreateTable
CREATE TABLE "sync_mappings" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "body" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_mappings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox_events" (
    "id" BIGSERIAL NOT NULL,
    "connection_id" UUID NOT NULL,
    "event_key" TEXT NOT NULL,
    "object_type" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "change" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    "outcome" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "inbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "crm_connections_crm_external_account_id_idx" ON "crm_connections"("crm", "external_account_id");

-- CreateIndex
CREATE UNIQUE INDEX "crm_connections_workspace_id_crm_external_account_id_key" ON "crm_connections"("workspace_id", "crm", "external_account_id");

-- CreateIndex
CREATE INDEX "crm_links_registration_id_idx" ON "crm_links"("registration_id");

-- CreateIndex
CREATE UNIQUE INDEX "crm_links_connection_id_external_id_key" ON "crm_links"("connection_id", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "sync_mappings_workspace_id_crm_version_key" ON "sync_mappings"("workspace_id", "crm", "version");

-- CreateIndex
CREATE UNIQUE INDEX "inbox_events_connection_id_event_key_key" ON "inbox_events"("connection_id", "event_key");

-- AddForeignKey
ALTER TABLE "crm_connections" ADD CONSTRAINT "crm_connections_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crm_links" ADD CONSTRAINT "crm_links_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "crm_connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crm_links" ADD CONSTRAINT "crm_links_registration_id_fkey" FOREIGN KEY ("registration_id") REFERENCES "registrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_mappings" ADD CONSTRAINT "sync_mappings_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inbox_events" ADD CONSTRAINT "inbox_events_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "crm_connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Custom SQL (prisma/sql/crm_connectors.sql)
-- Links waiting to be pushed, per connection, oldest first: the push job's claim query uses this.
CREATE INDEX "crm_links_to_push_idx" ON "crm_links" ("connection_id", "updated_at") WHERE "pushed_version" < "wanted_version" AND "state" <> 'deleted';
-- Unprocessed inbox events per connection, in arrival order.
CREATE INDEX "inbox_events_pending_idx" ON "inbox_events" ("connection_id", "id") WHERE "processed_at" IS NULL;
-- Processed events are kept a while for dedupe, then cleaned up by received_at.
CREATE INDEX "inbox_events_received_idx" ON "inbox_events" ("received_at");
