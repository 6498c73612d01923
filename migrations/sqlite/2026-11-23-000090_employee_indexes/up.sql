-- SQLite keeps a column's UNIQUE constraint as an index that cannot be dropped. As named indexes,
-- NIK and NIP uniqueness can be set aside by a first load into an empty roster and built again at
-- its end with one sort each, instead of millions of inserts at random places in two B-trees.
-- The id becomes the table's own key (INTEGER PRIMARY KEY is the rowid): one B-tree fewer, a
-- lookup by id is one search instead of two, and the ascending ids of a bulk load append rows.
-- The table is rebuilt as SQLite documents for a change it cannot make in place: with foreign keys
-- off, since dropping the old table would otherwise count every certificate pointing
-- at it as broken. Every row is copied with its id, so those references hold afterwards.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE employees_rebuilt (
    id INTEGER PRIMARY KEY NOT NULL,
    nip TEXT,
    nik TEXT NOT NULL,
    full_name TEXT NOT NULL,
    position TEXT NOT NULL,
    agency TEXT NOT NULL,
    unit TEXT NOT NULL,
    employee_type TEXT NOT NULL,
    village_code TEXT NOT NULL REFERENCES areas (code),
    email TEXT,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO employees_rebuilt (id, nip, nik, full_name, position, agency, unit, employee_type,
                               village_code, email, active, updated_at)
    SELECT id, nip, nik, full_name, position, agency, unit, employee_type, village_code, email,
           active, updated_at
    FROM employees ORDER BY id;
DROP TABLE employees;
ALTER TABLE employees_rebuilt RENAME TO employees;
CREATE UNIQUE INDEX employees_nik ON employees (nik);
CREATE UNIQUE INDEX employees_nip ON employees (nip);
CREATE INDEX employees_village_code ON employees (village_code);
COMMIT;
PRAGMA foreign_keys = ON;
