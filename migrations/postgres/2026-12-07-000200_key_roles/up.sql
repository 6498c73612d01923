-- The jobs an Ed25519 key does: `claim` (signs certificates' claims), `log` (signs checkpoints and
-- the published key list). A key from before this column signed both, and keeps doing so until
-- `ikrar keys rotate --role log` gives the log a key of its own.
ALTER TABLE issuer_keys ADD COLUMN roles TEXT NOT NULL DEFAULT 'claim,log';
-- Key events in the public log, in log order: what `/.well-known/ikrar-keys.json` is derived from.
CREATE INDEX log_entries_keys ON log_entries (idx) WHERE kind = 'key';
