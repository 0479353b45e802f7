-- The language a resident chose for their survey, remembered on the token (vi, en or the code of
-- a translation of the invitation's questionnaire version); NULL until they choose.
ALTER TABLE invitations ADD COLUMN lang text CHECK (lang ~ '^[a-z]{2,8}$');

-- Translations of a questionnaire version the service has loaded: a published translation is
-- never edited (start-up refuses one whose text changed), as for the versions themselves.
CREATE TABLE instrument_translations (
    instrument_id text NOT NULL,
    version text NOT NULL,
    lang text NOT NULL,
    sha256 text NOT NULL,
    name text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_id, version, lang),
    FOREIGN KEY (instrument_id, version) REFERENCES instrument_versions (instrument_id, version)
);
