ALTER TABLE responses DROP COLUMN completed_burst;
