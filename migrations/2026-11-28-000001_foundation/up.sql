-- Settings the service keeps in its database so that every instance shares them (the generated
-- secret key when SECRET_KEY is unset).
CREATE TABLE service_settings (
    name text PRIMARY KEY,
    value text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Master data, questionnaire versions, API keys, invitations, responses and the audit log:
-- the core every capability stands on.

CREATE TABLE units (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    province_code text NOT NULL CHECK (length(province_code) BETWEEN 1 AND 32),
    public_page boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE officers (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit_code text NOT NULL REFERENCES units (code),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX officers_unit_idx ON officers (unit_code);

-- A field (lĩnh vực) groups procedures; its name comes with the procedures import.
CREATE TABLE fields (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,32}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE procedures (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]\.[0-9]{6}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    field_code text NOT NULL REFERENCES fields (code),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX procedures_field_idx ON procedures (field_code);

-- Every questionnaire version the service has loaded; a published version is never edited,
-- so the same id and version with another hash stops start-up.
CREATE TABLE instrument_versions (
    instrument_id text NOT NULL,
    version text NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    has_unverified_items boolean NOT NULL,
    first_loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_id, version)
);

-- API keys for one-stop systems; only a SHA-256 of the key is stored.
CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    unit_code text NOT NULL REFERENCES units (code),
    name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- A survey invitation bound to one handed-back case. `token` is the unguessable secret in the
-- survey address; `code` the short typed fallback (stored upper-case, with its check character).
CREATE TABLE invitations (
    id bigserial PRIMARY KEY,
    token text NOT NULL UNIQUE CHECK (token ~ '^[A-Za-z0-9_-]{22,64}$'),
    code text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-Z]{6,12}$'),
    unit_code text NOT NULL REFERENCES units (code),
    officer_code text NOT NULL REFERENCES officers (code),
    procedure_code text NOT NULL REFERENCES procedures (code),
    channel text NOT NULL CHECK (channel IN ('desk', 'online', 'postal')),
    instrument_id text NOT NULL,
    instrument_version text NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- who issued it: 'api-key:<id>' or 'user:<id>'
    issued_by text NOT NULL,
    FOREIGN KEY (instrument_id, instrument_version) REFERENCES instrument_versions (instrument_id, version),
    CHECK (expires_at > issued_at)
);
CREATE INDEX invitations_issued_idx ON invitations (issued_at);
CREATE INDEX invitations_officer_idx ON invitations (officer_code, issued_at);

-- The link between an invitation (and so its response) and the case number, kept apart from the
-- answers so that it can be purged without touching any statistic.
CREATE TABLE case_links (
    invitation_id bigint PRIMARY KEY REFERENCES invitations (id) ON DELETE CASCADE,
    unit_code text NOT NULL REFERENCES units (code),
    case_number text NOT NULL CHECK (length(case_number) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_code, case_number)
);

-- One response per invitation, enforced here: the unique key is what makes a token answer once.
-- The invitation's unit, officer, procedure and channel are copied so statistics need no join.
CREATE TABLE responses (
    id bigserial PRIMARY KEY,
    invitation_id bigint NOT NULL UNIQUE REFERENCES invitations (id),
    instrument_id text NOT NULL,
    instrument_version text NOT NULL,
    unit_code text NOT NULL REFERENCES units (code),
    officer_code text NOT NULL REFERENCES officers (code),
    procedure_code text NOT NULL REFERENCES procedures (code),
    channel text NOT NULL CHECK (channel IN ('desk', 'online', 'postal')),
    submitted_at timestamptz NOT NULL DEFAULT now(),
    last_added_at timestamptz NOT NULL DEFAULT now(),
    -- salted hashes for the integrity window only; purged after it
    client_hash text,
    device_hash text,
    FOREIGN KEY (instrument_id, instrument_version) REFERENCES instrument_versions (instrument_id, version)
);
CREATE INDEX responses_submitted_idx ON responses (submitted_at);
CREATE INDEX responses_officer_idx ON responses (officer_code, submitted_at);

-- One row per answered item. A scale or choice answer is `level`; a multi answer `choices`;
-- a text answer `text`. Exactly one of them is set.
CREATE TABLE answers (
    response_id bigint NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    item_code text NOT NULL CHECK (length(item_code) BETWEEN 1 AND 32),
    level smallint,
    choices smallint[],
    text text CHECK (length(text) <= 4000),
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (response_id, item_code),
    CHECK (num_nonnulls(level, choices, text) = 1)
);

-- Append-only record of every staff action that changes data. The trigger refuses updates and
-- deletes whoever asks, the service's own database user included.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
