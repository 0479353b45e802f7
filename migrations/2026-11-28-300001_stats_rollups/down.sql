ALTER TABLE responses DROP COLUMN held;
ALTER TABLE responses DROP COLUMN tt01_i7_unfounded;
DROP TABLE rollup_month;
DROP TABLE rollup_day;
DROP TABLE rollup_deltas;
