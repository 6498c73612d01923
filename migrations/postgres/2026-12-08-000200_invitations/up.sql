-- Printed invitation slips: a one-time sign-in token for an employee without email, valid until
-- the campaign closes. Only the token's hash is kept; a copy of the database signs nobody in.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    employee_id BIGINT NOT NULL,
    campaign_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    printed_by TEXT NOT NULL,
    used_at BIGINT,
    retired_at BIGINT
);
-- A reprint retires the employee's slips that are still live.
CREATE INDEX invitations_employee ON invitations (employee_id) WHERE used_at IS NULL AND retired_at IS NULL;
