ALTER TABLE invitations DROP COLUMN fact_i2_points, DROP COLUMN fact_timing;
DROP TABLE case_facts;
