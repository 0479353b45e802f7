-- The burst check's bounded read: each response records whether its first answer gave
-- CASE.OVERALL the top level of its scale (known at insert: the first post must rate it and an
-- answered item never changes), and a partial index serves "this officer's latest top scores
-- before t" in a few index entries however many answers the officer has had. Without it the check
-- joined every response of the officer in its window to its answers (see src/integrity/checks.rs).
ALTER TABLE responses ADD COLUMN top_score boolean NOT NULL DEFAULT false;

UPDATE responses r SET top_score = true
FROM answers a
WHERE a.response_id = r.id AND a.item_code = 'CASE.OVERALL' AND a.level = 5;

CREATE INDEX responses_officer_top_idx ON responses (officer_code, submitted_at) WHERE top_score;
