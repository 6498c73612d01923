ALTER TABLE certificates DROP COLUMN log_index;
