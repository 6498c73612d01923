-- Start-up checks whether the public log misses any revocation by counting revoked certificates;
-- without this index that count reads the whole certificates table (1.1 s at 2.8 million).
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;
