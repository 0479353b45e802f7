-- TT 01/2018 indicators 5, 6 and 9 are the unit's, per period (issue 16): recorded by a leader
-- with an evidence note, or sent by the one-stop system through the API. One current value per
-- unit, indicator and period (the row with `superseded_at` null); a new record supersedes the
-- old one, which stays, so the history is kept here as well as in the audit log.
CREATE TABLE unit_indicator_scores (
    id bigserial PRIMARY KEY,
    unit_code text NOT NULL REFERENCES units (code),
    indicator smallint NOT NULL CHECK (indicator IN (5, 6, 9)),
    -- a quarter, half-year or year, as the statistics and exports write them: 2026-Q1, 2026-H1, 2026
    period text NOT NULL CHECK (period ~ '^[0-9]{4}(-Q[1-4]|-H[12])?$'),
    points smallint NOT NULL CHECK (points BETWEEN 0 AND 2),
    note text NOT NULL CHECK (length(btrim(note)) BETWEEN 1 AND 2000),
    -- who recorded it: `user:<id>` (a leader or an admin) or `api-key:<id>` (the unit's one-stop system)
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    superseded_at timestamptz
);
CREATE UNIQUE INDEX unit_indicator_scores_current
    ON unit_indicator_scores (unit_code, indicator, period) WHERE superseded_at IS NULL;
