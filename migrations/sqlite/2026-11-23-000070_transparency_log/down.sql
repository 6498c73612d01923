ALTER TABLE issuer_keys DROP COLUMN revoked_at;
ALTER TABLE issuer_keys DROP COLUMN retired_at;
DELETE FROM counters WHERE name = 'log_size';
DROP TABLE log_checkpoints;
DROP TABLE log_nodes;
DROP TABLE log_entries;
