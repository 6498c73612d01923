-- Letters to signers waiting to be sent: the certificate PDF after signing ('terbit') and the
-- notice of a revocation ('cabut'). Written in the transaction that signs or revokes, drained
-- by the node, so a mail server that is down never fails or slows a signature.
CREATE TABLE certificate_mail (
    id TEXT PRIMARY KEY NOT NULL,
    -- No foreign key: a letter never stands in the way of deleting or repairing a record.
    certificate_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX certificate_mail_due ON certificate_mail (next_attempt_at) WHERE sent_at IS NULL;
