-- expect: add-check-without-not-valid, missing-lock-timeout
-- runner: psql
ALTER TABLE ONLY inventory.stock ADD COLUMN reserved integer DEFAULT 0 NOT NULL;
ALTER TABLE inventory.stock ADD CONSTRAINT stock_reserved_le_qty CHECK (reserved <= qty);
