-- pgbench script: the least durable work one answer needs, without the service: spend the token
-- (lock the invitation, insert its one response), insert the response's answers, commit.
-- Each transaction takes the next unanswered invitation from bench_seq. The rating is 4, not the
-- top 5: the service shares these officers, and its burst check must not see a wall of top scores.
BEGIN;
SELECT id AS inv FROM invitations WHERE id = (SELECT nextval('bench_seq')) FOR UPDATE \gset
INSERT INTO responses (invitation_id, instrument_id, instrument_version, unit_code, officer_code, procedure_code, channel)
  SELECT id, instrument_id, instrument_version, unit_code, officer_code, procedure_code, channel
  FROM invitations WHERE id = :inv RETURNING id AS rid \gset
INSERT INTO answers (response_id, item_code, level) VALUES
  (:rid, 'CASE.OVERALL', 4), (:rid, 'TT01.I1', 2), (:rid, 'TT01.I3', 1), (:rid, 'TT01.I4', 1), (:rid, 'TT01.I7', 1);
COMMIT;
