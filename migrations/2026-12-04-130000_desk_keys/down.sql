ALTER TABLE invitations
    DROP CONSTRAINT invitations_offline_pair,
    DROP COLUMN offline_record_at,
    DROP COLUMN offline_nonce,
    DROP COLUMN desk_key_id;
DROP TABLE desk_keys;
