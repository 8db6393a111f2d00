-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "StaffRole" AS ENUM ('admin', 'revops', 'partner_manager');

-- CreateEnum
CREATE TYPE "PartnerType" AS ENUM ('reseller', 'referral', 'affiliate', 'technology');

-- CreateEnum
CREATE TYPE "PartnerTier" AS ENUM ('registered', 'silver', 'gold');

-- CreateEnum
CREATE TYPE "PartnerStatus" AS ENUM ('active', 'inactive');

-- CreateEnum
CREATE TYPE "RegistrationStatus" AS ENUM ('pending_review', 'approved', 'rejected', 'won', 'lost', 'expired', 'withdrawn');

-- CreateEnum
CREATE TYPE "ExtensionRequestStatus" AS ENUM ('pending', 'approved', 'rejected');

-- CreateTable
CREATE TABLE "workspaces" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_tokens" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "StaffRole" NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "staff_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "partners" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" "PartnerType" NOT NULL,
    "tier" "PartnerTier" NOT NULL DEFAULT 'registered',
    "status" "PartnerStatus" NOT NULL DEFAULT 'active',
    "contact_name" TEXT,
    "contact_email" TEXT,
    "crm_refs" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "partners_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "partner_api_keys" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "key_hash" TEXT NOT NULL,
    "key_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "partner_api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registrations" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "status" "RegistrationStatus" NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'api',
    "company_name" TEXT NOT NULL,
    "company_name_key" TEXT NOT NULL,
    "company_domain" TEXT NOT NULL,
    "company_country" TEXT,
    "contact_name" TEXT NOT NULL,
    "contact_email" TEXT NOT NULL,
    "amount_value" DECIMAL(18,2),
    "amount_currency" TEXT,
    "expected_close_date" DATE,
    "notes" TEXT,
    "verdict" JSONB NOT NULL,
    "evidence" JSONB NOT NULL,
    "policy_version" INTEGER NOT NULL,
    "protection_starts_at" TIMESTAMPTZ(3),
    "protection_ends_at" TIMESTAMPTZ(3),
    "extensions_used" INTEGER NOT NULL DEFAULT 0,
    "reminders_sent" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "next_reminder_at" TIMESTAMPTZ(3),
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "decided_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "registrations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_holds" (
    "workspace_id" UUID NOT NULL,
    "domain" TEXT NOT NULL,
    "registration_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_holds_pkey" PRIMARY KEY ("workspace_id","domain")
);

-- CreateTable
CREATE TABLE "extension_requests" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "registration_id" UUID NOT NULL,
    "requested_days" INTEGER NOT NULL,
    "reason" TEXT,
    "status" "ExtensionRequestStatus" NOT NULL DEFAULT 'pending',
    "decided_at" TIMESTAMPTZ(3),
    "decided_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "extension_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policies" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "body" JSONB NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_heads" (
    "workspace_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "hash" TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',

    CONSTRAINT "ledger_heads_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "ledger_events" (
    "id" BIGSERIAL NOT NULL,
    "workspace_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "registration_id" UUID,
    "type" TEXT NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT,
    "source" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "content_hash" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ledger_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" BIGSERIAL NOT NULL,
    "workspace_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "registration_id" UUID,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mirror_accounts" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "country" TEXT,
    "owner_external_id" TEXT,
    "owner_name" TEXT,
    "owner_role" TEXT NOT NULL DEFAULT 'unknown',
    "is_customer" BOOLEAN NOT NULL DEFAULT false,
    "external_updated_at" TIMESTAMPTZ(3),
    "synced_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mirror_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mirror_account_domains" (
    "workspace_id" UUID NOT NULL,
    "domain" TEXT NOT NULL,
    "account_id" UUID NOT NULL,

    CONSTRAINT "mirror_account_domains_pkey" PRIMARY KEY ("workspace_id","domain","account_id")
);

-- CreateTable
CREATE TABLE "mirror_opportunities" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "account_external_id" TEXT,
    "name" TEXT NOT NULL,
    "stage" TEXT,
    "is_closed" BOOLEAN NOT NULL DEFAULT false,
    "is_won" BOOLEAN NOT NULL DEFAULT false,
    "amount" DECIMAL(18,2),
    "owner_external_id" TEXT,
    "owner_name" TEXT,
    "registration_id" UUID,
    "external_updated_at" TIMESTAMPTZ(3),
    "synced_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mirror_opportunities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mirror_states" (
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "synced_at" TIMESTAMPTZ(3),
    "cursor" TEXT,
    "accounts_count" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "mirror_states_pkey" PRIMARY KEY ("workspace_id","crm")
);

-- CreateIndex
CREATE UNIQUE INDEX "staff_tokens_token_hash_key" ON "staff_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "staff_tokens_workspace_id_created_at_idx" ON "staff_tokens"("workspace_id", "created_at");

-- CreateIndex
CREATE INDEX "partners_workspace_id_id_idx" ON "partners"("workspace_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "partners_workspace_id_name_key" ON "partners"("workspace_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "partner_api_keys_key_hash_key" ON "partner_api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "partner_api_keys_partner_id_idx" ON "partner_api_keys"("partner_id");

-- CreateIndex
CREATE INDEX "registrations_workspace_id_id_idx" ON "registrations"("workspace_id", "id");

-- CreateIndex
CREATE INDEX "registrations_workspace_id_partner_id_id_idx" ON "registrations"("workspace_id", "partner_id", "id");

-- CreateIndex
CREATE INDEX "registrations_workspace_id_status_id_idx" ON "registrations"("workspace_id", "status", "id");

-- CreateIndex
CREATE INDEX "registrations_workspace_id_company_domain_idx" ON "registrations"("workspace_id", "company_domain");

-- CreateIndex
CREATE INDEX "registrations_workspace_id_company_name_key_status_idx" ON "registrations"("workspace_id", "company_name_key", "status");

-- CreateIndex
CREATE INDEX "registrations_status_protection_ends_at_idx" ON "registrations"("status", "protection_ends_at");

-- CreateIndex
CREATE INDEX "registrations_status_next_reminder_at_idx" ON "registrations"("status", "next_reminder_at");

-- CreateIndex
CREATE UNIQUE INDEX "registrations_workspace_id_partner_id_idempotency_key_key" ON "registrations"("workspace_id", "partner_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "account_holds_registration_id_key" ON "account_holds"("registration_id");

-- CreateIndex
CREATE INDEX "account_holds_workspace_id_partner_id_idx" ON "account_holds"("workspace_id", "partner_id");

-- CreateIndex
CREATE INDEX "extension_requests_workspace_id_registration_id_idx" ON "extension_requests"("workspace_id", "registration_id");

-- CreateIndex
CREATE UNIQUE INDEX "policies_workspace_id_version_key" ON "policies"("workspace_id", "version");

-- CreateIndex
CREATE INDEX "ledger_events_workspace_id_registration_id_seq_idx" ON "ledger_events"("workspace_id", "registration_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_events_workspace_id_seq_key" ON "ledger_events"("workspace_id", "seq");

-- CreateIndex
CREATE INDEX "outbox_dispatched_at_id_idx" ON "outbox"("dispatched_at", "id");

-- CreateIndex
CREATE INDEX "mirror_accounts_workspace_id_name_key_idx" ON "mirror_accounts"("workspace_id", "name_key");

-- CreateIndex
CREATE UNIQUE INDEX "mirror_accounts_workspace_id_crm_external_id_key" ON "mirror_accounts"("workspace_id", "crm", "external_id");

-- CreateIndex
CREATE INDEX "mirror_account_domains_account_id_idx" ON "mirror_account_domains"("account_id");

-- CreateIndex
CREATE INDEX "mirror_opportunities_workspace_id_crm_account_external_id_i_idx" ON "mirror_opportunities"("workspace_id", "crm", "account_external_id", "is_closed");

-- CreateIndex
CREATE UNIQUE INDEX "mirror_opportunities_workspace_id_crm_external_id_key" ON "mirror_opportunities"("workspace_id", "crm", "external_id");

-- AddForeignKey
ALTER TABLE "staff_tokens" ADD CONSTRAINT "staff_tokens_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "partners" ADD CONSTRAINT "partners_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "partner_api_keys" ADD CONSTRAINT "partner_api_keys_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registrations" ADD CONSTRAINT "registrations_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_holds" ADD CONSTRAINT "account_holds_registration_id_fkey" FOREIGN KEY ("registration_id") REFERENCES "registrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "extension_requests" ADD CONSTRAINT "extension_requests_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "extension_requests" ADD CONSTRAINT "extension_requests_registration_id_fkey" FOREIGN KEY ("registration_id") REFERENCES "registrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policies" ADD CONSTRAINT "policies_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_heads" ADD CONSTRAINT "ledger_heads_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_events" ADD CONSTRAINT "ledger_events_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mirror_accounts" ADD CONSTRAINT "mirror_accounts_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mirror_account_domains" ADD CONSTRAINT "mirror_account_domains_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "mirror_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mirror_opportunities" ADD CONSTRAINT "mirror_opportunities_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mirror_states" ADD CONSTRAINT "mirror_states_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Custom SQL (prisma/sql/init.sql)
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
