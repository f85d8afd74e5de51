-- expect: set-not-null-without-check, missing-lock-timeout
-- runner: psql
/*
  Warnings:

  - Made the column `region` on table `Order` required. This step will fail if there are existing NULL values in that column.

*/
-- AlterTable
ALTER TABLE "Order" ALTER COLUMN "region" SET NOT NULL;
