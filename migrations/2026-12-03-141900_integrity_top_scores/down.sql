DROP INDEX responses_officer_top_idx;
ALTER TABLE responses DROP COLUMN top_score;
