DROP INDEX invitations_issuer_idx;
DROP TABLE rate_limits;
