-- Signed province exports (issue 21 finding 1). The commune side: each unit's Ed25519 export
-- keys; the private half only sealed (AES-256-GCM under a key derived from the service secret).
-- At most one current (not retired) key per unit; a rotation retires the current one.
CREATE TABLE export_keys (
    key_id         text PRIMARY KEY,
    unit_code      text NOT NULL,
    public_key     bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    sealed_private bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    retired_at     timestamptz
);
CREATE UNIQUE INDEX export_keys_one_current ON export_keys (unit_code) WHERE retired_at IS NULL;

-- The province side: the public keys each commune sent, as the province registered them. A key
-- belongs to one unit for good (its id is unique); a revoked key signs nothing the province takes.
CREATE TABLE province_keys (
    key_id        text PRIMARY KEY,
    unit_code     text NOT NULL,
    public_key    bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    revoked_at    timestamptz,
    revoked_by    text
);
CREATE INDEX province_keys_unit ON province_keys (unit_code);

-- which registered key signed each stored export
ALTER TABLE province_exports ADD COLUMN key_id text;
