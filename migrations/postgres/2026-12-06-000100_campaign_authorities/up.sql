-- The authority that issues a campaign's certificates, printed on their letterhead. Each edit is a
-- new version, in force from effective_at; a certificate shows the version in force when it was
-- signed, so that editing the authority never changes a certificate already issued.
CREATE TABLE campaign_authorities (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    office TEXT NOT NULL,
    address TEXT NOT NULL,
    place TEXT NOT NULL,
    logo_png BYTEA,
    effective_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, version)
);
