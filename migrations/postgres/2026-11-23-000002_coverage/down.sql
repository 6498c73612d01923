DROP TABLE daily_signings;
DROP TABLE signed_counts;
DROP TABLE roster_counts;
