ALTER TABLE users ADD COLUMN beta boolean;
INSERT INTO feature_flags (name, enabled) VALUES ('beta', false);

-- pgshift:down
-- Fault: the flag row stays, so the INSERT fails the second time.
ALTER TABLE users DROP COLUMN beta;
