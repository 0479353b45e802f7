DELETE FROM login_throttle WHERE client_hash LIKE 'u%';
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_client_hash_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_client_hash_check
    CHECK (client_hash ~ '^[0-9a-f]{64}$');
