-- Nothing to change here: the SQLite twin of this migration turns the employees' NIK and NIP
-- constraints into named indexes that a bulk load may drop, and PostgreSQL keeps its indexes
-- during a bulk load (dropping one would lock the table against every reader).
SELECT 1;
