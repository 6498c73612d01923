-- Every request for a sign-in code, known id or not, for the per-id and per-address hourly
-- limits. The id is kept only as a keyed hash (the key is derived from the issuer key file, which
-- is not in the database), so a copy of this table does not tell which NIPs were tried.
CREATE TABLE sign_in_requests (
    id TEXT PRIMARY KEY NOT NULL,
    id_hash TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sign_in_requests_by_id ON sign_in_requests (id_hash, created_at);
CREATE INDEX sign_in_requests_by_address ON sign_in_requests (client_addr, created_at);

-- Code requests waiting for a node's drain to resolve the id, make the code and mail it. A row
-- lives for milliseconds: the drain deletes it once handled, so the submitted id is not kept.
CREATE TABLE sign_in_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    -- 'pegawai' (NIP or NIK) or 'admin' (email address).
    kind TEXT NOT NULL,
    login TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- A node holds a job it is handling until this instant; another may take it afterwards.
    taken_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sign_in_jobs_by_age ON sign_in_jobs (created_at);
