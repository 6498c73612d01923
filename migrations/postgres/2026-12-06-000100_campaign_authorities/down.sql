DROP TABLE campaign_authorities;
