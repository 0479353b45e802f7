ALTER TABLE invitations DROP CONSTRAINT invitations_token_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_token_check CHECK (token ~ '^[A-Za-z0-9_-]{22,64}$');
ALTER TABLE responses DROP COLUMN held;
ALTER TABLE responses DROP COLUMN tt01_i7_unfounded;
DROP TABLE rollup_month;
DROP TABLE rollup_day;
DROP TABLE rollup_deltas;
