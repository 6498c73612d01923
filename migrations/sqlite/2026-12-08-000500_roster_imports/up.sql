-- One row per roster import. It is written in the transaction of the import's first chunk,
-- together with the audit row that says the import began, and every later chunk moves it on in
-- its own transaction: after a crash the roster, this row and the audit trail agree on how far the
-- file got, and a node finishes the import from there (src/roster/kept.rs).
CREATE TABLE roster_imports (
    id TEXT PRIMARY KEY NOT NULL,
    file_sha256 TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    -- The importing admin's scope, which a resumed import keeps; role '' is the command line.
    role TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    rows_total BIGINT NOT NULL,
    rows_done BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('berjalan', 'selesai', 'gagal')),
    started_at BIGINT NOT NULL,
    progressed_at BIGINT NOT NULL,
    finished_at BIGINT,
    note TEXT NOT NULL
);
CREATE INDEX roster_imports_state ON roster_imports (state, started_at);
