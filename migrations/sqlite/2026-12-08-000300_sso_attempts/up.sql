-- Single sign-on attempts begun at /masuk/sso and not yet returned from the identity provider.
-- The state is stored only as a hash; a row is used up by the first return that names it.
CREATE TABLE sso_attempts (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used BOOLEAN NOT NULL
);
CREATE INDEX sso_attempts_expiry ON sso_attempts (expires_at);
