DROP TABLE sso_attempts;
