-- expect: none
CREATE TABLE invoices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_ref varchar(64) NOT NULL,
    amount       integer NOT NULL,
    status       text NOT NULL DEFAULT 'draft',
    issued_on    date
);
CREATE INDEX invoices_customer_ref_idx ON invoices (customer_ref);
INSERT INTO invoices (customer_ref, amount) VALUES ('seed', 0);

-- pgshift:down
DROP TABLE invoices;
