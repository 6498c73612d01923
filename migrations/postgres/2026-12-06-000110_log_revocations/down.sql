DROP INDEX log_entries_revocations;
