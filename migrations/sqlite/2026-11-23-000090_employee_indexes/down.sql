PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE employees_rebuilt (
    id BIGINT PRIMARY KEY NOT NULL,
    nip TEXT UNIQUE,
    nik TEXT NOT NULL UNIQUE,
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
    FROM employees;
DROP TABLE employees;
ALTER TABLE employees_rebuilt RENAME TO employees;
CREATE INDEX employees_village_code ON employees (village_code);
COMMIT;
PRAGMA foreign_keys = ON;
