-- expect: create-index-non-concurrent, missing-lock-timeout
-- runner: psql
/*
  Warnings:

  - A unique constraint covering the columns `[sku]` on the table `Order` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateIndex
CREATE UNIQUE INDEX "Order_sku_key" ON "Order"("sku");
