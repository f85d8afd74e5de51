-- expect: none
-- text -> citext on a column without an index: binary-coercible, nothing to rebuild.
ALTER TABLE users ALTER COLUMN handle TYPE citext;
