//! Staff accounts, sign-in throttling and the audit log in the database: plain sync diesel.
//! Every change to an account appends to the audit log in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::model::{self, Account, CLIENT_LOCK, CLIENT_MAX_FAILURES, CLIENT_WINDOW, account_delay};
use crate::auth::role::{Role, Scope};
use crate::auth::store::{SessionUser, session_user};
use crate::kernel::audit::audit;
use crate::schema::{audit_log, login_throttle, officers, units, users};

diesel::define_sql_function! {
    /// PostgreSQL's `lower`, for case-insensitive usernames.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Why an account could not be created or changed. Messages are shown to the admin.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "Tên đăng nhập chỉ gồm 3–64 chữ cái không dấu, chữ số, '.', '_' hoặc '-' (username: 3 to 64 letters, digits, '.', '_' or '-')."
    )]
    BadUsername,
    #[error("Tên đăng nhập `{0}` đã có (username `{0}` is taken).")]
    UsernameTaken(String),
    #[error("Không có đơn vị `{0}` (unit `{0}` does not exist).")]
    UnknownUnit(String),
    #[error("Không có cán bộ `{0}` (officer `{0}` does not exist).")]
    UnknownOfficer(String),
    #[error(
        "Cán bộ `{officer}` thuộc đơn vị `{actual}`, không phải `{unit}` (officer `{officer}` belongs to unit `{actual}`)."
    )]
    OfficerOutsideUnit { officer: String, unit: String, actual: String },
    #[error("Không có tài khoản {0} (account {0} does not exist).")]
    UnknownAccount(i64),
    #[error(
        "Không thể tự khóa hoặc hạ quyền tài khoản quản trị của chính mình (you cannot deactivate or demote your own admin account)."
    )]
    SelfDemotion,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

#[derive(Queryable, Debug)]
struct UserRow {
    id: i64,
    username: String,
    role: String,
    unit_code: Option<String>,
    officer_code: Option<String>,
    active: bool,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

type UserColumns = (
    users::id,
    users::username,
    users::role,
    users::unit_code,
    users::officer_code,
    users::active,
    users::failed_logins,
    users::locked_until,
    users::last_login_at,
    users::created_at,
);

const USER_COLUMNS: UserColumns = (
    users::id,
    users::username,
    users::role,
    users::unit_code,
    users::officer_code,
    users::active,
    users::failed_logins,
    users::locked_until,
    users::last_login_at,
    users::created_at,
);

impl UserRow {
    /// The row as an account; a row the table's checks would refuse cannot occur, but if it
    /// did it is treated as an error rather than widened to another role.
    fn into_account(self) -> QueryResult<Account> {
        let role: Role =
            self.role.parse().map_err(|e: String| diesel::result::Error::DeserializationError(e.into()))?;
        let scope = Scope::new(role, self.unit_code, self.officer_code)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        Ok(Account {
            id: self.id,
            username: self.username,
            scope,
            active: self.active,
            failed_logins: self.failed_logins,
            locked_until: self.locked_until,
            last_login_at: self.last_login_at,
            created_at: self.created_at,
        })
    }
}

/// Checks that the unit exists and the officer (if any) belongs to it.
fn check_scope(conn: &mut PgConnection, scope: &Scope) -> Result<(), AccountError> {
    if let Some(unit) = scope.unit() {
        let exists: bool = diesel::select(diesel::dsl::exists(units::table.find(unit))).get_result(conn)?;
        if !exists {
            return Err(AccountError::UnknownUnit(unit.to_string()));
        }
    }
    if let (Some(officer), Some(unit)) = (scope.officer(), scope.unit()) {
        let actual: Option<String> =
            officers::table.find(officer).select(officers::unit_code).first(conn).optional()?;
        match actual {
            None => return Err(AccountError::UnknownOfficer(officer.to_string())),
            Some(actual) if actual != unit => {
                return Err(AccountError::OfficerOutsideUnit {
                    officer: officer.to_string(),
                    unit: unit.to_string(),
                    actual,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn scope_details(scope: &Scope) -> serde_json::Value {
    json!({"role": scope.role().as_str(), "unit": scope.unit(), "officer": scope.officer()})
}

/// Creates an account with an already hashed password; returns its id.
pub fn create(
    conn: &mut PgConnection,
    username: &str,
    password_hash: &str,
    scope: &Scope,
    actor: &str,
) -> Result<i64, AccountError> {
    if !model::valid_username(username) {
        return Err(AccountError::BadUsername);
    }
    conn.transaction(|conn| {
        check_scope(conn, scope)?;
        let taken: bool = diesel::select(diesel::dsl::exists(
            users::table.filter(lower(users::username).eq(lower(username))),
        ))
        .get_result(conn)?;
        if taken {
            return Err(AccountError::UsernameTaken(username.to_string()));
        }
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::password_hash.eq(password_hash),
                users::role.eq(scope.role().as_str()),
                users::unit_code.eq(scope.unit()),
                users::officer_code.eq(scope.officer()),
            ))
            .returning(users::id)
            .get_result(conn)?;
        let mut details = scope_details(scope);
        details["username"] = json!(username);
        audit(conn, actor, "user.create", &format!("user:{id}"), details)?;
        Ok(id)
    })
}

/// Every account, admins first, then by username.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<Account>> {
    let rows: Vec<UserRow> = users::table.select(USER_COLUMNS).order(users::username.asc()).load(conn)?;
    let mut accounts = rows.into_iter().map(UserRow::into_account).collect::<QueryResult<Vec<_>>>()?;
    accounts.sort_by(|a, b| a.scope.role().cmp(&b.scope.role()).then_with(|| a.username.cmp(&b.username)));
    Ok(accounts)
}

/// One account by id.
pub fn get(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Account>> {
    users::table
        .find(id)
        .select(USER_COLUMNS)
        .first::<UserRow>(conn)
        .optional()?
        .map(UserRow::into_account)
        .transpose()
}

/// Changes the role and scope of an account; its open sessions end.
pub fn change_scope(
    conn: &mut PgConnection,
    id: i64,
    scope: &Scope,
    actor_id: i64,
    actor: &str,
) -> Result<(), AccountError> {
    conn.transaction(|conn| {
        if id == actor_id && scope.role() != Role::Admin {
            return Err(AccountError::SelfDemotion);
        }
        check_scope(conn, scope)?;
        let n = diesel::update(users::table.find(id))
            .set((
                users::role.eq(scope.role().as_str()),
                users::unit_code.eq(scope.unit()),
                users::officer_code.eq(scope.officer()),
                users::session_epoch.eq(users::session_epoch + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AccountError::UnknownAccount(id));
        }
        audit(conn, actor, "user.change_role", &format!("user:{id}"), scope_details(scope))?;
        Ok(())
    })
}

/// Activates or deactivates an account; deactivating ends its sessions at once.
pub fn set_active(
    conn: &mut PgConnection,
    id: i64,
    active: bool,
    actor_id: i64,
    actor: &str,
) -> Result<(), AccountError> {
    conn.transaction(|conn| {
        if id == actor_id && !active {
            return Err(AccountError::SelfDemotion);
        }
        let n = diesel::update(users::table.find(id))
            .set((
                users::active.eq(active),
                users::session_epoch.eq(users::session_epoch + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AccountError::UnknownAccount(id));
        }
        let action = if active { "user.activate" } else { "user.deactivate" };
        audit(conn, actor, action, &format!("user:{id}"), json!({}))?;
        Ok(())
    })
}

/// Sets a new (already hashed) password; the account's sessions end and its lock is lifted.
pub fn reset_password(
    conn: &mut PgConnection,
    id: i64,
    password_hash: &str,
    actor: &str,
) -> Result<(), AccountError> {
    conn.transaction(|conn| {
        let n = diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::password_changed_at.eq(diesel::dsl::now),
                users::failed_logins.eq(0),
                users::locked_until.eq(None::<DateTime<Utc>>),
                users::session_epoch.eq(users::session_epoch + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AccountError::UnknownAccount(id));
        }
        audit(conn, actor, "user.reset_password", &format!("user:{id}"), json!({}))?;
        Ok(())
    })
}

/// Ends every session of an account (signing out): its session epoch moves on, and sessions
/// are re-checked against it on every request.
pub fn end_sessions(conn: &mut PgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::session_epoch.eq(users::session_epoch + 1)).execute(conn)
}

/// Lifts a lock from wrong passwords.
pub fn unlock(conn: &mut PgConnection, id: i64, actor: &str) -> Result<(), AccountError> {
    conn.transaction(|conn| {
        let n = diesel::update(users::table.find(id))
            .set((
                users::failed_logins.eq(0),
                users::locked_until.eq(None::<DateTime<Utc>>),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AccountError::UnknownAccount(id));
        }
        // every client waiting on this account may try again
        diesel::delete(login_throttle::table.filter(login_throttle::client_hash.like(format!("u{id}:%"))))
            .execute(conn)?;
        audit(conn, actor, "user.unlock", &format!("user:{id}"), json!({}))?;
        Ok(())
    })
}

/// The outcome of one sign-in attempt.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// The password is right and the account active.
    SignedIn(SessionUser),
    /// Wrong username or password, a deactivated account, or an account waiting after wrong
    /// passwords: the page says the same for all, so it tells a guesser nothing.
    Refused,
    /// Too many wrong passwords from this client: refused before any password is checked.
    ClientBlocked { until: DateTime<Utc> },
}

/// Checks a sign-in attempt and writes the audit log. `verify` checks a password against a
/// stored hash (Argon2id, slow by design).
///
/// Throttling never lets a stranger lock someone else out (SECURITY.md, finding 5): wrong
/// passwords slow and then lock only the pair of *this client and this account* (rows
/// `u<id>:<client hash>` of `login_throttle`), and a client failing too often on any accounts is
/// blocked as a whole (rows `<client hash>`). The owner signing in from their own device is never
/// refused because somebody elsewhere guessed wrong; admins are protected the same way.
///
/// The audit log is not a counter (finding 9): refused attempts are counted in `login_throttle`
/// (one row per client, updated in place), and a row is appended only when something changes —
/// the first failure of a client (or of a client on an account) in its window, a lock or block
/// beginning, a success. Attempts while blocked append nothing.
pub fn attempt_login(
    conn: &mut PgConnection,
    username: &str,
    password: &str,
    client_hash: &str,
    now: DateTime<Utc>,
    verify: impl Fn(&str, &str) -> bool,
) -> QueryResult<LoginOutcome> {
    if let Some(until) = client_blocked(conn, client_hash, now)? {
        // counted in place, no audit row: a blocked client cannot grow the log
        client_failure(conn, client_hash, now)?;
        return Ok(LoginOutcome::ClientBlocked { until });
    }
    #[derive(Queryable)]
    struct Candidate {
        id: i64,
        password_hash: String,
        active: bool,
        session_epoch: i32,
    }
    let candidate: Option<Candidate> = if model::valid_username(username) {
        users::table
            .filter(lower(users::username).eq(lower(username)))
            .select((users::id, users::password_hash, users::active, users::session_epoch))
            .first(conn)
            .optional()?
    } else {
        None
    };
    let Some(c) = candidate else {
        // spend the same time as a real check, so unknown usernames are not told apart
        verify(password, super::password::DUMMY_HASH);
        let client = client_failure(conn, client_hash, now)?;
        audit_client_failure(conn, "", "unknown_user", &client)?;
        return Ok(LoginOutcome::Refused);
    };
    let subject = format!("user:{}", c.id);
    let pair = pair_key(c.id, client_hash);
    let held: Option<(i32, Option<DateTime<Utc>>)> = login_throttle::table
        .find(&pair)
        .select((login_throttle::failures, login_throttle::locked_until))
        .first(conn)
        .optional()?;
    let waiting = held.filter(|(_, until)| until.is_some_and(|t| t > now));
    // a wrong password, or an attempt while this client waits on this account: refused; an
    // attempt during a short wait counts (guessing cannot outrun the waits), one during the lock
    // does not (the lock ends when it said it would)
    let wrong = waiting.is_some() || !verify(password, &c.password_hash);
    if wrong {
        let client = client_failure(conn, client_hash, now)?;
        let locked = waiting.is_some_and(|(f, _)| f >= model::ACCOUNT_LOCK_FAILURES);
        let failures = if locked { None } else { Some(pair_failure(conn, c.id, &pair, now)?) };
        match failures {
            Some(f @ 1) | Some(f @ model::ACCOUNT_LOCK_FAILURES) => {
                let reason = if f == 1 { "wrong_password" } else { "locked_for_client" };
                audit(conn, "anonymous", "login.failed", &subject, json!({"reason": reason, "failures": f}))?;
            }
            _ => audit_client_failure(conn, &subject, "wrong_password", &client)?,
        }
        return Ok(LoginOutcome::Refused);
    }
    if !c.active {
        audit(conn, "anonymous", "login.failed", &subject, json!({"reason": "inactive"}))?;
        return Ok(LoginOutcome::Refused);
    }
    diesel::delete(login_throttle::table.find(&pair)).execute(conn)?;
    diesel::update(users::table.find(c.id))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<DateTime<Utc>>),
            users::last_login_at.eq(now),
        ))
        .execute(conn)?;
    audit(conn, &subject, "login.success", &subject, json!({}))?;
    Ok(session_user(conn, c.id, c.session_epoch)?.map_or(LoginOutcome::Refused, LoginOutcome::SignedIn))
}

/// The `login_throttle` key of one account tried from one client (the client already a salted
/// hash). Its prefix lets an admin's unlock find every client waiting on the account.
fn pair_key(user_id: i64, client_hash: &str) -> String {
    format!("u{user_id}:{client_hash}")
}

/// A client's failures so far in its window, and whether this one began its block.
#[derive(Debug, Clone, Copy)]
struct ClientCount {
    failures: i32,
    blocked_now: bool,
}

/// Appends an audit row for a failed attempt only when it is the client's first failure in its
/// window or the one that blocks it; every other failure is only counted.
fn audit_client_failure(
    conn: &mut PgConnection,
    subject: &str,
    reason: &str,
    client: &ClientCount,
) -> QueryResult<()> {
    if client.blocked_now {
        audit(conn, "anonymous", "login.blocked_client", subject, json!({"failures": client.failures}))?;
    } else if client.failures == 1 {
        audit(conn, "anonymous", "login.failed", subject, json!({"reason": reason, "failures": 1}))?;
    }
    Ok(())
}

/// Counts one more wrong password from one client on one account and sets that pair's wait
/// ([`account_delay`]); the account's own row keeps the total since its last sign-in and the
/// latest wait, for the admin pages. Returns the pair's count.
fn pair_failure(conn: &mut PgConnection, user_id: i64, pair: &str, now: DateTime<Utc>) -> QueryResult<i32> {
    use diesel::sql_types::{Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Failures {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        failures: i32,
    }
    let Failures { failures } = diesel::sql_query(
        "INSERT INTO login_throttle AS t (client_hash, failures, window_started_at, updated_at) \
         VALUES ($1, 1, $2, $2) \
         ON CONFLICT (client_hash) DO UPDATE SET failures = t.failures + 1, updated_at = $2 \
         RETURNING failures",
    )
    .bind::<Text, _>(pair)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    let until = account_delay(failures).map(|d| now + d);
    diesel::update(login_throttle::table.find(pair))
        .set(login_throttle::locked_until.eq(until))
        .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set(users::failed_logins.eq(users::failed_logins + 1))
        .execute(conn)?;
    if let Some(until) = until {
        diesel::update(
            users::table
                .find(user_id)
                .filter(users::locked_until.is_null().or(users::locked_until.lt(until))),
        )
        .set(users::locked_until.eq(until))
        .execute(conn)?;
    }
    Ok(failures)
}

/// When the client (or client-and-account pair) is blocked, until when.
fn client_blocked(
    conn: &mut PgConnection,
    key: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let until: Option<Option<DateTime<Utc>>> =
        login_throttle::table.find(key).select(login_throttle::locked_until).first(conn).optional()?;
    Ok(until.flatten().filter(|t| *t > now))
}

/// Counts one failure for the client, in a window of [`CLIENT_WINDOW`]; blocks it past
/// [`CLIENT_MAX_FAILURES`]. One statement, so concurrent attempts cannot lose a count.
fn client_failure(
    conn: &mut PgConnection,
    client_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<ClientCount> {
    use diesel::sql_types::{Integer, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        failures: i32,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        blocked_now: bool,
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO login_throttle AS t (client_hash, failures, window_started_at, updated_at) \
         VALUES ($1, 1, $2, $2) \
         ON CONFLICT (client_hash) DO UPDATE SET \
           failures = CASE WHEN t.window_started_at < $3 THEN 1 ELSE t.failures + 1 END, \
           window_started_at = CASE WHEN t.window_started_at < $3 THEN $2 ELSE t.window_started_at END, \
           locked_until = CASE WHEN t.window_started_at >= $3 AND t.failures + 1 = $4 THEN $5 ELSE t.locked_until END, \
           updated_at = $2 \
         RETURNING failures, COALESCE(failures = $4 AND locked_until = $5, false) AS blocked_now",
    )
    .bind::<Text, _>(client_hash)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now - CLIENT_WINDOW)
    .bind::<Integer, _>(CLIENT_MAX_FAILURES)
    .bind::<Timestamptz, _>(now + CLIENT_LOCK)
    .get_result(conn)?;
    // rows of clients that stopped failing long ago are of no use
    diesel::delete(
        login_throttle::table.filter(login_throttle::updated_at.lt(now - chrono::Duration::days(1))),
    )
    .execute(conn)?;
    Ok(ClientCount { failures: row.failures, blocked_now: row.blocked_now })
}

/// One row of the audit log page.
#[derive(Queryable, Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

/// A page of the audit log, newest first, optionally filtered by exact action and actor;
/// `before` is the id to continue below. Returns one row more than `limit` when there are more.
pub fn audit_page(
    conn: &mut PgConnection,
    action: Option<&str>,
    actor: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor,
            audit_log::action,
            audit_log::subject,
            audit_log::details,
        ))
        .order(audit_log::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_log::action.eq(action.to_string()));
    }
    if let Some(actor) = actor {
        query = query.filter(audit_log::actor.eq(actor.to_string()));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn)
}

/// The distinct actions in the log, for the filter.
pub fn audit_actions(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    audit_log::table.select(audit_log::action).distinct().order(audit_log::action.asc()).load(conn)
}
