-- expect: alter-column-type-rewrite
ALTER TABLE "users" ALTER COLUMN "id" TYPE bigint USING "id"::bigint;
ALTER SEQUENCE IF EXISTS users_id_seq AS bigint;
