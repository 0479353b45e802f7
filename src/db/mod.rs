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
pub fn build_pool(database_url: &str, max_size: u32, checkout_timeout: Duration) -> Pool {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(checkout_timeout)
        // a connection the server dropped (restart, failover) is found and replaced at checkout
        .test_on_check_out(true)
        .connection_customizer(Box::new(SessionSettings { statement_timeout_ms: 30_000 }))
        .build_unchecked(ConnectionManager::new(database_url))
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
