ALTER TABLE invitations DROP COLUMN preprinted;
