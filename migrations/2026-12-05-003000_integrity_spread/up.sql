-- Issue 15: earlier answers that a new answer shows to be part of a pattern (the first answers of
-- a burst of top scores, a device's earlier answers of the day) gain their flag off the answer's
-- path. The answer's own transaction inserts its own flags and one row here per reason naming the
-- earlier responses it read; `integrity::spread` (a thread of `sipas serve`, every second) flags
-- them set-based, holds them out of the statistics and deletes the row. Why: two answer writers
-- flagging the same earlier answers took row locks on the same flags and responses, so an
-- officer's answers waited for each other and deadlocked (bench/answers.sh, BENCHMARKS.md).
CREATE TABLE integrity_spread (
    id bigserial PRIMARY KEY,
    reason text NOT NULL CHECK (reason IN ('desk_network', 'too_fast', 'same_device', 'burst')),
    response_ids bigint[] NOT NULL,
    -- when the answer that revealed the pattern arrived: the earlier ones' flagged_at
    flagged_at timestamptz NOT NULL
);
