-- Issue 16: a unit chooses which published questionnaire version its new invitations use (the
-- 2026 Hà Nội ward form, say). No row: the default line's latest version
-- (`Instruments::current`). Invitations and responses keep naming the version they used, so a
-- change of choice never touches what was issued or answered. Changed only through
-- `POST /api/v1/units/{code}/instrument` (or the leader's page), which audits it.
CREATE TABLE unit_instruments (
    unit_code text PRIMARY KEY REFERENCES units (code),
    instrument_id text NOT NULL,
    instrument_version text NOT NULL,
    -- who chose it (`user:<id>`), and when
    chosen_by text NOT NULL,
    chosen_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (instrument_id, instrument_version) REFERENCES instrument_versions (instrument_id, version)
);
