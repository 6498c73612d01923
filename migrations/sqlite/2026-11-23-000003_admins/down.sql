DELETE FROM areas WHERE code = '';
DROP TABLE audit_log;

DELETE FROM counters WHERE name = 'audit_seq';
DROP TABLE admins;
DROP TABLE sessions;
DROP TABLE login_codes;
CREATE TABLE login_codes (
    id TEXT PRIMARY KEY NOT NULL,
    employee_id BIGINT NOT NULL REFERENCES employees (id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    used BOOLEAN NOT NULL
);
CREATE INDEX login_codes_employee ON login_codes (employee_id, created_at);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    employee_id BIGINT NOT NULL REFERENCES employees (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
