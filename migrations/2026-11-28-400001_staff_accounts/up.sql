-- Staff accounts: admins, leaders (of a unit) and desk officers (of a unit, linked to their
-- officer code). Passwords are Argon2id PHC strings; `session_epoch` is bumped whenever existing
-- sessions must end (password reset, role change, deactivation), since sessions live in cookies.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    username text NOT NULL CHECK (username ~ '^[A-Za-z0-9._-]{3,64}$'),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role text NOT NULL CHECK (role IN ('admin', 'leader', 'officer')),
    unit_code text REFERENCES units (code),
    officer_code text REFERENCES officers (code),
    active boolean NOT NULL DEFAULT true,
    -- wrong passwords in a row since the last successful sign-in
    failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until timestamptz,
    session_epoch integer NOT NULL DEFAULT 0,
    last_login_at timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'admin' OR unit_code IS NOT NULL),
    CHECK ((role = 'officer') = (officer_code IS NOT NULL))
);
-- "Lan" and "lan" are the same account.
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username));

-- Wrong passwords per client, keyed by a salted SHA-256 of the client address (never the
-- address itself), so a client trying many accounts is slowed as well as each account.
CREATE TABLE login_throttle (
    client_hash text PRIMARY KEY CHECK (client_hash ~ '^[0-9a-f]{64}$'),
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at);

-- The audit page filters by action and actor, newest first.
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
