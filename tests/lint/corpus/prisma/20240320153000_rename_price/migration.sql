-- expect: rename-column, missing-lock-timeout
-- runner: psql
-- AlterTable
ALTER TABLE "Order" RENAME COLUMN "priceCents" TO "amountCents";
