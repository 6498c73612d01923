DROP TABLE seal_certificates;
