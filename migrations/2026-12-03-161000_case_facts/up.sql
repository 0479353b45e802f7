-- Case facts from the one-stop system (docs/TT01.md), stored with the invitation they came with:
-- when the file was received, the due date the law allows (and its extension with the apology
-- letter, Mẫu 04), when the result was returned, and the steps it went through.
CREATE TABLE case_facts (
    invitation_id bigint PRIMARY KEY REFERENCES invitations (id) ON DELETE CASCADE,
    received_at timestamptz,
    due_at timestamptz,
    extended_due_at timestamptz CHECK (extended_due_at > due_at),
    apology_letter boolean NOT NULL DEFAULT false,
    returned_at timestamptz,
    -- [{"unit", "due_at", "done_at"}, ...], in the order the file went through them
    steps jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps) = 'array'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What the facts give the per-case indicators, kept on the invitation so that the submission of
-- an answer reads it with the row it locks anyway: `fact_timing` is the TT01.I1 option the
-- return against the due day stands for (1 early, 2 on time, 3 late), `fact_i2_points` indicator
-- 2's points from the steps. NULL: no such fact.
ALTER TABLE invitations
    ADD COLUMN fact_timing smallint CHECK (fact_timing BETWEEN 1 AND 3),
    ADD COLUMN fact_i2_points smallint CHECK (fact_i2_points BETWEEN 0 AND 2);
