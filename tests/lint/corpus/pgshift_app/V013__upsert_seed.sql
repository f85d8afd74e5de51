-- expect: none
INSERT INTO audit (id, user_id, note) VALUES (1, NULL, 'seed')
ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note;
DELETE FROM audit WHERE id = 1;
