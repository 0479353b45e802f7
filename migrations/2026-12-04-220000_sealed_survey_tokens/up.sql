-- Survey tokens and typed codes are no longer stored in clear (issue 21, finding 14): lookups
-- go through keyed hashes of them (`kernel::survey_secrets`), and the clear token and code are
-- sealed together (AES-256-GCM under a key derived from the service secret, the row's id as
-- associated data) for the few flows that must show them again. The clear columns stay, empty,
-- for one release: the service converts the rows still holding them at start-up (`app::prepare`),
-- since the secret may live outside the database and SQL alone cannot seal. An offline slip's
-- nonce is its survey token, so it goes too: its token's hash keeps it to one invitation.
ALTER TABLE invitations
    ADD COLUMN token_hash text CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN code_hash text CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    -- a random 96-bit nonce, then the ciphertext and its tag
    ADD COLUMN sealed bytea CHECK (length(sealed) > 28),
    ALTER COLUMN token DROP NOT NULL,
    ALTER COLUMN code DROP NOT NULL,
    DROP CONSTRAINT invitations_offline_pair,
    ADD CONSTRAINT invitations_offline_nonce_cleared CHECK (offline_nonce IS NULL OR desk_key_id IS NOT NULL);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE UNIQUE INDEX invitations_code_hash_key ON invitations (code_hash);
