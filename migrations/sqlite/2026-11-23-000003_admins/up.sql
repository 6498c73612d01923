-- Sign-in codes and sessions now belong to a subject, "pegawai:<id>" or "admin:<id>", so employees
-- and administrators share one sign-in mechanism and one set of limits. Both tables only hold
-- short-lived secrets, so they are recreated rather than migrated.
DROP TABLE sessions;
DROP TABLE login_codes;

CREATE TABLE login_codes (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    used BOOLEAN NOT NULL
);
CREATE INDEX login_codes_subject ON login_codes (subject, created_at);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- An administrator manages one area subtree ('' = the nation), optionally one agency only.
CREATE TABLE admins (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    totp_secret BLOB,
    totp_last_step BIGINT,
    invited_by TEXT,
    created_at BIGINT NOT NULL,
    active BOOLEAN NOT NULL
);

-- Append-only: each entry carries the hash of the one before it. The triggers below refuse
-- updates and deletes; 'ikrar audit verify' finds rows changed behind the triggers' back.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE INDEX audit_log_scope ON audit_log (scope_code, seq);
CREATE INDEX audit_log_client ON audit_log (client_addr, action, at);
INSERT INTO counters (name, value) VALUES ('audit_seq', 0);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The nation as an area (code '', level 0), so national campaigns satisfy the foreign key.
-- A database whose reference is not loaded yet gets it with the reference.
INSERT INTO areas (code, parent_code, level, name)
SELECT '', NULL, 0, 'Indonesia' WHERE EXISTS (SELECT 1 FROM areas);
