-- AlterTable
ALTER TABLE "crm_connections" ADD COLUMN     "feed_cursor" TEXT,
ADD COLUMN     "feed_read_at" TIMESTAMPTZ(3);
