-- A proof reads the 32 leaves around a certificate as one range (level 0, idx a .. a + 32). In a
-- rowid table each of those rows cost a search of the key index and another of the table, on pages
-- far apart; stored in key order, the range is one search and a page or two, and each append to the
-- log writes one B-tree instead of two.
CREATE TABLE log_nodes_clustered (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
INSERT INTO log_nodes_clustered (level, idx, hash)
    SELECT level, idx, hash FROM log_nodes ORDER BY level, idx;
DROP TABLE log_nodes;
ALTER TABLE log_nodes_clustered RENAME TO log_nodes;
