-- Areas of the Kemendagri reference: provinces (level 1) down to villages (level 4).
CREATE TABLE areas (
    code TEXT PRIMARY KEY NOT NULL,
    parent_code TEXT REFERENCES areas (code),
    level INTEGER NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX areas_parent_code ON areas (parent_code);

CREATE TABLE employees (
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
CREATE INDEX employees_village_code ON employees (village_code);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    scope_code TEXT NOT NULL REFERENCES areas (code),
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each version of a campaign's text; a version is named by the SHA-256 of its exact bytes.
CREATE TABLE documents (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

CREATE TABLE issuer_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT
);

-- A signature and the snapshot of the signer it attests. The claim bytes are what the key signed.
CREATE TABLE certificates (
    id TEXT PRIMARY KEY NOT NULL,
    serial BIGINT NOT NULL UNIQUE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    employee_id BIGINT NOT NULL REFERENCES employees (id),
    document_sha256 TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    signer_name TEXT NOT NULL,
    signer_nip TEXT,
    signer_nik TEXT NOT NULL,
    position TEXT NOT NULL,
    agency TEXT NOT NULL,
    unit TEXT NOT NULL,
    employee_type TEXT NOT NULL,
    village_code TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES issuer_keys (key_id),
    record_salt BYTEA NOT NULL,
    claim BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    revoked_at BIGINT,
    revocation_reason TEXT
);
-- Exactly one standing certificate per employee and campaign; a revoked one frees the slot.
CREATE UNIQUE INDEX certificates_one_standing ON certificates (campaign_id, employee_id) WHERE revoked_at IS NULL;
CREATE INDEX certificates_employee ON certificates (employee_id);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('certificate_serial', 0);

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
