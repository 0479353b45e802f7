//! The database: the r2d2 pool of diesel connections, the one helper that runs database work on
//! the blocking pool, the embedded migrations, and (in [`cluster`]) the private PostgreSQL
//! cluster used when `DATABASE_URL` is unset.

pub mod bulk;
pub mod cluster;
pub mod statement;

use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

pub type Pool = r2d2::Pool<ConnectionManager<PgConnection>>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager<PgConnection>>;

/// The migrations of `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock held while migrating, so two instances starting together take
/// turns instead of racing ("SIPAS" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0053_4950_4153;

/// Bounds every statement of a request connection, so a stuck query becomes an error, not a hang.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u64,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!(
            "SET statement_timeout = {0}; SET lock_timeout = {0}; SET TIME ZONE 'UTC'",
            self.statement_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool without connecting: the service starts, and `/healthz` reports, even while
/// the database is down; requests then get a prompt 503.
///
/// `database_url` may name several hosts the way libpq allows (`host=a,b` or `postgres://a,b/…`)
/// with `target_session_attrs=read-write`: every new connection then goes to whichever host is
/// the primary now, so after a failover the pool finds the promoted standby by itself. What makes
/// that prompt: a connection is tested at checkout (a dead one is dropped and replaced), a new
/// connection gives up on a host after `connect_timeout` (added from `checkout_timeout` unless the
/// URL sets it), and a connection whose server machine vanished is dropped by TCP keepalives and
/// `tcp_user_timeout` instead of waiting minutes (see [`with_connection_defaults`]).
pub fn build_pool(database_url: &str, max_size: u32, checkout_timeout: Duration) -> Pool {
    let url = with_connection_defaults(database_url, checkout_timeout);
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(checkout_timeout)
        // a connection the server dropped (restart, failover) is found and replaced at checkout
        .test_on_check_out(true)
        .error_handler(Box::new(LogErrors::default()))
        .connection_customizer(Box::new(SessionSettings { statement_timeout_ms: 30_000 }))
        .build_unchecked(ConnectionManager::new(url))
}

/// libpq settings every pooled connection needs to notice a dead server promptly, added to
/// `url` when it does not set them itself (both the URL and the `key=value` forms):
/// `connect_timeout` (seconds per host tried, at least 2), TCP keepalives after 10 s idle, and
/// `tcp_user_timeout` of 10 s for data sent and never acknowledged. Unix sockets ignore the TCP
/// ones.
pub fn with_connection_defaults(url: &str, checkout_timeout: Duration) -> String {
    let connect = checkout_timeout.as_secs().clamp(2, 10).to_string();
    let defaults = [
        ("connect_timeout", connect.as_str()),
        ("keepalives", "1"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "5"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ];
    let is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let mut out = url.to_string();
    for (name, value) in defaults {
        let set = if is_uri {
            url.split_once('?').is_some_and(|(_, q)| q.split('&').any(|p| p.split('=').next() == Some(name)))
        } else {
            url.split_whitespace().any(|p| p.split('=').next().map(str::trim) == Some(name))
        };
        if set {
            continue;
        }
        if is_uri {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{name}={value}"));
        } else {
            out.push_str(&format!(" {name}={value}"));
        }
    }
    out
}

/// Logs why the pool could not open a connection (the database down, a failover under way), at
/// most once a second, so an outage is visible in the log without flooding it.
#[derive(Debug, Default)]
struct LogErrors {
    last: std::sync::atomic::AtomicU64,
}

impl r2d2::HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        use std::sync::atomic::Ordering;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.last.swap(now, Ordering::Relaxed) != now {
            tracing::warn!(error = %error, "cannot open a database connection");
        }
    }
}

/// Runs `f` with a pooled connection on actix's blocking pool, inside the caller's tracing span.
/// Handlers make one such call where they can; never hold a connection across an `.await`.
pub async fn run<F, T>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Like [`run`], for a read that need not see the caller's own write: on the read replica
/// (`DATABASE_READ_URL`) when there is one and it gives a connection, else on the primary. A
/// replica that is down costs one short wait (its pool's checkout timeout), never an error.
pub async fn run_read<F, T>(primary: &Pool, replica: Option<&Pool>, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let Some(replica) = replica else { return run(primary, f).await };
    let (primary, replica) = (primary.clone(), replica.clone());
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let mut conn = match replica.get() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!(error = %e, "the read replica gives no connection; reading on the primary");
                primary.get()?
            }
        };
        f(&mut conn)
    })
    .await?
}

/// What a server is, as `/healthz` and the dashboard report it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerState {
    /// `pg_is_in_recovery()`: a standby (read-only) rather than a primary.
    pub in_recovery: bool,
    /// Seconds the server's data is behind its primary: 0 on a primary and on a standby that has
    /// replayed all it received, else the age of the last transaction it replayed. `None` when a
    /// standby has replayed nothing yet.
    pub lag_seconds: Option<f64>,
}

/// Asks the connected server whether it is a standby and how far behind it is.
pub fn server_state(conn: &mut PgConnection) -> QueryResult<ServerState> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        in_recovery: bool,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        lag: Option<f64>,
    }
    let row: Row = diesel::sql_query(
        "SELECT pg_is_in_recovery() AS in_recovery, CASE            WHEN NOT pg_is_in_recovery() THEN 0::float8            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag",
    )
    .get_result(conn)?;
    Ok(ServerState { in_recovery: row.in_recovery, lag_seconds: row.lag.map(|l| l.max(0.0)) })
}

/// Applies pending migrations under an advisory lock; returns how many were applied.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, String> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(conn)
        .map_err(|e| format!("could not take the migration lock: {e}"))?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| format!("migration failed: {e}"));
    let unlocked =
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn);
    let applied = applied?;
    unlocked.map_err(|e| format!("could not release the migration lock: {e}"))?;
    Ok(applied)
}

/// Reverts every applied migration (for the migration round-trip test and `sipas migrate --revert-all`).
pub fn revert_all(conn: &mut PgConnection) -> Result<usize, String> {
    let mut reverted = 0;
    while !conn.applied_migrations().map_err(|e| e.to_string())?.is_empty() {
        conn.revert_last_migration(MIGRATIONS).map_err(|e| format!("revert failed: {e}"))?;
        reverted += 1;
    }
    Ok(reverted)
}

/// Connects once, outside the pool (command line and start-up).
pub fn connect(database_url: &str) -> Result<PgConnection, String> {
    PgConnection::establish(database_url).map_err(|e| format!("cannot connect to the database: {e}"))
}
