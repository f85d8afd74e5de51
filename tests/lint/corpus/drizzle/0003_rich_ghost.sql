-- expect: missing-lock-timeout
-- runner: psql
ALTER TABLE "users" ALTER COLUMN "email" SET DATA TYPE varchar(512);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "is_admin" boolean DEFAULT false NOT NULL;
