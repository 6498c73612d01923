-- The revocations in the public log, in log order: what a node reads to let every verdict follow
-- the log even where a certificate row was altered (docs/log.md).
CREATE INDEX log_entries_revocations ON log_entries (idx) WHERE kind = 'revoked';
