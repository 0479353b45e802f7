DROP TABLE followups;
DROP TABLE cases_daily;
DROP INDEX responses_device_idx;
DROP TABLE integrity_reviews;
DROP TABLE integrity_flags;
