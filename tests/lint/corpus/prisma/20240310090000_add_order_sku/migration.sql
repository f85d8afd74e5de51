-- expect: add-column-not-null-no-default, missing-lock-timeout
-- runner: psql
/*
  Warnings:

  - Added the required column `sku` to the `Order` table without a default value. This is not possible if the table is not empty.

*/
-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "sku" TEXT NOT NULL;
