DROP TABLE sign_in_jobs;
DROP TABLE sign_in_requests;
