DROP INDEX IF EXISTS audit_log_actor_idx;
DROP INDEX IF EXISTS audit_log_action_idx;
DROP TABLE IF EXISTS login_throttle;
DROP TABLE IF EXISTS users;
