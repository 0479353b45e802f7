-- When each invitation's survey page was first shown: the too_fast rule measures from here
-- (a resident who scans the desk screen at once and reads for a few seconds is not too fast),
-- and the per-officer evidence reads issue -> shown -> answer delays. One row per invitation,
-- written once (ON CONFLICT DO NOTHING); deleted with the invitation.
CREATE TABLE survey_views (
    invitation_id bigint PRIMARY KEY REFERENCES invitations (id) ON DELETE CASCADE,
    first_shown_at timestamptz NOT NULL
);
