-- AlterTable
ALTER TABLE "crm_connections" ADD COLUMN     "card_secret_hash" TEXT;

-- CreateTable
CREATE TABLE "registration_attributions" (
    "registration_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "partners" JSONB NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'default',
    "frozen_at" TIMESTAMPTZ(3),
    "frozen_amount" DECIMAL(18,2),
    "frozen_currency" TEXT,
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registration_attributions_pkey" PRIMARY KEY ("registration_id")
);

-- CreateTable
CREATE TABLE "crm_user_roles" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "crm" TEXT NOT NULL,
    "external_account_id" TEXT NOT NULL,
    "crm_user_id" TEXT,
    "email" TEXT,
    "role" TEXT NOT NULL,
    "name" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "crm_user_roles_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "registration_attributions_workspace_id_idx" ON "registration_attributions"("workspace_id");

-- CreateIndex
CREATE INDEX "crm_user_roles_crm_external_account_id_idx" ON "crm_user_roles"("crm", "external_account_id");

-- CreateIndex
CREATE UNIQUE INDEX "crm_user_roles_workspace_id_crm_crm_user_id_key" ON "crm_user_roles"("workspace_id", "crm", "crm_user_id");

-- CreateIndex
CREATE UNIQUE INDEX "crm_user_roles_workspace_id_crm_email_key" ON "crm_user_roles"("workspace_id", "crm", "email");

-- CreateIndex
CREATE UNIQUE INDEX "crm_connections_card_secret_hash_key" ON "crm_connections"("card_secret_hash");

-- AddForeignKey
ALTER TABLE "registration_attributions" ADD CONSTRAINT "registration_attributions_registration_id_fkey" FOREIGN KEY ("registration_id") REFERENCES "registrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
