-- The leaf hashes of each full block of 32 log entries, concatenated (1,024 bytes): a proof reads
-- the block around its certificate as one row instead of 32. Filled as blocks complete; blocks of
-- a log from before this table are filled in the background after a start (db::log::fill_blocks).
-- Derived data: `ikrar log verify` checks every row against the leaves.
CREATE TABLE log_blocks (
    block BIGINT PRIMARY KEY,
    leaves BYTEA NOT NULL
);
