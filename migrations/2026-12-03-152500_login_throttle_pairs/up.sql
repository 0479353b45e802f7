-- Wrong passwords hold only the pair of one client and one account (SECURITY.md, finding 5):
-- such rows are keyed `u<user id>:<client hash>`, beside the per-client rows `<client hash>`.
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_client_hash_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_client_hash_check
    CHECK (client_hash ~ '^(u[0-9]+:)?[0-9a-f]{64}$');
