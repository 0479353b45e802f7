DROP TABLE instrument_translations;
ALTER TABLE invitations DROP COLUMN lang;
