DROP INDEX log_entries_keys;
ALTER TABLE issuer_keys DROP COLUMN roles;
