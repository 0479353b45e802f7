-- Integrity signals, their review, the one-stop system's daily caseload (for offer rates) and
-- follow-ups of comments and complaints.

-- Why a response looks staged; a response can have several reasons. Flagged responses are kept
-- and held out of the statistics (responses.held) until a leader reviews them genuine.
CREATE TABLE integrity_flags (
    response_id bigint NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    reason text NOT NULL CHECK (reason IN ('desk_network', 'too_fast', 'same_device', 'burst')),
    flagged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (response_id, reason)
);

-- A leader's verdict on a flagged response: genuine (counts again) or invalid (stays out). The
-- latest verdict is kept here; every review is also in the audit log.
CREATE TABLE integrity_reviews (
    response_id bigint PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
    verdict text NOT NULL CHECK (verdict IN ('genuine', 'invalid')),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    reviewed_by text NOT NULL,
    reviewed_at timestamptz NOT NULL DEFAULT now()
);

-- Same-device and burst checks look back from each new response.
CREATE INDEX responses_device_idx ON responses (device_hash, submitted_at) WHERE device_hash IS NOT NULL;

-- Cases handled per officer and local day, as the one-stop system reports them.
CREATE TABLE cases_daily (
    officer_code text NOT NULL REFERENCES officers (code),
    day date NOT NULL,
    unit_code text NOT NULL REFERENCES units (code),
    cases integer NOT NULL CHECK (cases BETWEEN 0 AND 100000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    PRIMARY KEY (officer_code, day)
);
CREATE INDEX cases_daily_unit_idx ON cases_daily (unit_code, day);

-- A comment, low score or complaint that needs an answer. `owner` names who must answer:
-- 'leader:<unit>' (the unit's leader, the default) or a staff member or officer the case was
-- reassigned to. The reply is shown to the resident at the survey address.
CREATE TABLE followups (
    id bigserial PRIMARY KEY,
    response_id bigint NOT NULL UNIQUE REFERENCES responses (id) ON DELETE CASCADE,
    unit_code text NOT NULL REFERENCES units (code),
    officer_code text NOT NULL REFERENCES officers (code),
    triggers text[] NOT NULL CHECK (cardinality(triggers) > 0),
    owner text NOT NULL CHECK (length(owner) BETWEEN 1 AND 100),
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'answered', 'closed')),
    opened_at timestamptz NOT NULL,
    deadline date NOT NULL,
    reply text CHECK (length(reply) BETWEEN 1 AND 4000),
    replied_at timestamptz,
    replied_by text,
    outcome text CHECK (outcome IN ('resolved', 'unfounded', 'no_action')),
    outcome_note text NOT NULL DEFAULT '' CHECK (length(outcome_note) <= 2000),
    closed_at timestamptz,
    closed_by text,
    CHECK ((status = 'closed') = (outcome IS NOT NULL))
);
CREATE INDEX followups_unit_idx ON followups (unit_code, status, deadline);
