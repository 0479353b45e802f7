-- Windowed counters that keep the service itself stateless: a limit is a row per (bucket, client,
-- window), counted with one upsert. `client_hash` is a salted SHA-256 of the client address, never
-- the address itself. Old windows are deleted as new ones are counted.
CREATE TABLE rate_limits (
    bucket text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 64),
    client_hash text NOT NULL CHECK (client_hash ~ '^[0-9a-f]{64}$'),
    window_start timestamptz NOT NULL,
    hits integer NOT NULL DEFAULT 0 CHECK (hits >= 0),
    PRIMARY KEY (bucket, client_hash, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);

-- The customer screen asks every few seconds for the latest invitation one issuer made.
CREATE INDEX invitations_issuer_idx ON invitations (issued_by, issued_at);
