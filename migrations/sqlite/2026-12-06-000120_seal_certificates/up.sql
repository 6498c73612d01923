-- Every seal certificate a deployment has sealed PDFs with (self-made or CA-issued), named by
-- the SHA-256 of its DER. An uploaded PDF is ours when its seal verifies and its signer's
-- certificate is one of these; rotated seals stay here so earlier downloads still check.
CREATE TABLE seal_certificates (
    fingerprint TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    certificate BLOB NOT NULL,
    registered_at BIGINT NOT NULL
);
