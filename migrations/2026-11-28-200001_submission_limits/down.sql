DROP TABLE submission_limits;
