-- expect: none
-- runner: psql
CREATE SCHEMA billing;
SET search_path TO billing, public;

CREATE TABLE "Invoice" (
    "Id" bigint PRIMARY KEY,
    "CustomerName" varchar(80) NOT NULL,
    "Total" numeric(12,2) NOT NULL
);
CREATE TABLE Payments (
    Id bigint PRIMARY KEY,
    InvoiceId bigint NOT NULL,
    Amount numeric(12,2) NOT NULL
);
-- unquoted names fold to lower case: this is the payments table created just above
CREATE INDEX payments_invoiceid_idx ON "payments" (invoiceid);
CREATE INDEX "Invoice_CustomerName_idx" ON "Invoice" ("CustomerName");
