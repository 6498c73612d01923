-- Where a certificate's issuance sits in the public log, kept on the certificate itself: a QR scan
-- then reads the certificate and finds its log entry without two more searches (an index and a
-- table) on pages far apart. Written when the certificate is logged; NULL for certificates
-- logged before this column existed, whose index is found in log_entries as before.
ALTER TABLE certificates ADD COLUMN log_index BIGINT;
