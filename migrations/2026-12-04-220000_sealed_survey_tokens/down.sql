-- Only for a database whose rows were not converted yet: converted rows have no clear token.
ALTER TABLE invitations
    DROP CONSTRAINT invitations_offline_nonce_cleared,
    DROP COLUMN sealed,
    DROP COLUMN code_hash,
    DROP COLUMN token_hash,
    ALTER COLUMN code SET NOT NULL,
    ALTER COLUMN token SET NOT NULL,
    ADD CONSTRAINT invitations_offline_pair CHECK ((desk_key_id IS NULL) = (offline_nonce IS NULL));
