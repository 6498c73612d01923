-- The public append-only log (RFC 6962 Merkle tree): one entry per issued certificate and per
-- revocation, appended in the same transaction. Entries hold hashes only (docs/log.md).
CREATE TABLE log_entries (
    idx BIGINT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    entry BYTEA NOT NULL,
    appended_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX log_entries_certificate ON log_entries (certificate_id, kind);

-- Hashes of complete subtrees, stored as they complete: node (level, idx) covers the leaves
-- idx * 2^level .. (idx + 1) * 2^level - 1. Roots and proofs are read from here, never recomputed.
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Every signed checkpoint ever published, so that an audit can check each one against the tree.
CREATE TABLE log_checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root BYTEA NOT NULL,
    key_id TEXT NOT NULL REFERENCES issuer_keys (key_id),
    created_at BIGINT NOT NULL,
    note TEXT NOT NULL
);

-- The log's size; locked by each append so that indices stay dense across nodes.
INSERT INTO counters (name, value) VALUES ('log_size', 0);

-- Rotation retires a key (it stops signing, its certificates stay genuine); revocation marks it
-- compromised from valid_until on (certificates it signed later are not genuine).
ALTER TABLE issuer_keys ADD COLUMN retired_at BIGINT;
ALTER TABLE issuer_keys ADD COLUMN revoked_at BIGINT;
