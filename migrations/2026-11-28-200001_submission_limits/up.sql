-- Survey submissions per client (a salted hash of its address, never the address) in fixed
-- windows, so that the limit holds across every instance of the service. Rows older than a few
-- windows are deleted as new windows open; nothing here outlives the integrity window.
CREATE TABLE submission_limits (
    client_hash text NOT NULL CHECK (client_hash ~ '^[0-9a-f]{64}$'),
    window_start timestamptz NOT NULL,
    count integer NOT NULL CHECK (count > 0),
    PRIMARY KEY (client_hash, window_start)
);
CREATE INDEX submission_limits_window_idx ON submission_limits (window_start);
