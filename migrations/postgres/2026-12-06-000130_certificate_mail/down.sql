DROP TABLE certificate_mail;
