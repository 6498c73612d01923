CREATE TABLE log_nodes_rowid (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
INSERT INTO log_nodes_rowid (level, idx, hash)
    SELECT level, idx, hash FROM log_nodes ORDER BY level, idx;
DROP TABLE log_nodes;
ALTER TABLE log_nodes_rowid RENAME TO log_nodes;
