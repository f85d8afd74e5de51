-- expect: set-not-null-without-check, unbatched-backfill
ALTER TABLE users ADD COLUMN plan text;
UPDATE users SET plan = 'free';
-- plan is new in this file, but users is not: SET NOT NULL scans every row of users under
-- ACCESS EXCLUSIVE (the column is new, the rows are not).
ALTER TABLE users ALTER COLUMN plan SET NOT NULL;
