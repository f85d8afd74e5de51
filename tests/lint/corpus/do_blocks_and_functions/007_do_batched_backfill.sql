-- expect: none
-- runner: psql
DO $$
DECLARE
    last_id bigint := 0;
    batch_max bigint;
BEGIN
    LOOP
        SELECT max(id) INTO batch_max
        FROM (SELECT id FROM accounts WHERE id > last_id ORDER BY id LIMIT 1000) s;
        EXIT WHEN batch_max IS NULL;
        UPDATE accounts SET status = upper(status) WHERE id > last_id AND id <= batch_max;
        last_id := batch_max;
        COMMIT;
    END LOOP;
END
$$;
