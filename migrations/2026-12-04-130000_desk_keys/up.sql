-- Issuing while the commune's line is down (issue 20): each desk computer holds an Ed25519 key
-- pair made by its browser; the service keeps only the public half, paired and approved by an
-- admin, revocable. Invitations made from a desk's signed token carry its nonce (once each).
CREATE TABLE desk_keys (
    id bigserial PRIMARY KEY,
    unit_code text NOT NULL REFERENCES units (code),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    public_key bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    -- the admin who paired the desk and so approved the key (`user:<id>`)
    approved_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE invitations
    ADD COLUMN desk_key_id bigint REFERENCES desk_keys (id),
    ADD COLUMN offline_nonce bytea UNIQUE CHECK (length(offline_nonce) = 16),
    -- when the desk's queued issue record arrived (null until then, and for online issues)
    ADD COLUMN offline_record_at timestamptz,
    ADD CONSTRAINT invitations_offline_pair CHECK ((desk_key_id IS NULL) = (offline_nonce IS NULL));
