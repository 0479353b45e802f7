//! The shared state every handler can reach, and the database it needs before the first request.
//! It sits low (the floor and the questionnaire only), so every capability may import it; the
//! wiring of routes sits high, in `router`.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use rand::Rng;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::db::{self, Pool};
use crate::http::metrics::Metrics;
use crate::instrument::Instruments;
use crate::instrument::store::{record_translations, record_versions};
use crate::kernel::ratelimit::Submissions;
use crate::kernel::survey_secrets;
use crate::schema::service_settings;

/// What every handler can reach. Cheap to clone; nothing in it is per-instance state that two
/// instances would need to agree on (that lives in the database).
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// The hot standby of `DATABASE_READ_URL`, if any: statistics, dashboards, exports and the
    /// public page read there through `db::run_read` (the primary when it gives no connection).
    pub read_pool: Option<Pool>,
    pub config: Arc<Config>,
    pub instruments: Arc<Instruments>,
    pub metrics: Metrics,
    /// Signs cookies and salts client hashes; shared by every instance through the database
    /// unless `SECRET_KEY` sets it.
    pub secret: Arc<Vec<u8>>,
    /// The survey answers' rate-limit counters (their purge watermark is per process).
    pub submissions: Arc<Submissions>,
}

impl AppState {
    /// The state for a prepared database (see [`prepare`]): its pool and the process's metrics.
    pub fn build(url: &str, config: Config, instruments: Instruments, secret: Vec<u8>) -> AppState {
        let pool: Pool =
            db::build_pool(url, config.db_pool_size, Duration::from_secs(config.db_timeout_secs));
        // a replica that does not answer within a second is skipped for the primary
        let read_pool = config
            .database_read_url
            .as_deref()
            .map(|u| db::build_pool(u, config.db_pool_size, Duration::from_secs(1)));
        AppState {
            pool,
            read_pool,
            config: Arc::new(config),
            instruments: Arc::new(instruments),
            metrics: Metrics::new(),
            secret: Arc::new(secret),
            submissions: Arc::new(Submissions::default()),
        }
    }
}

impl AppState {
    /// Runs a read that need not see the caller's own write on the read replica when there is
    /// one (see [`db::run_read`]).
    pub async fn read<F, T>(&self, f: F) -> Result<T, crate::error::AppError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, crate::error::AppError> + Send + 'static,
        T: Send + 'static,
    {
        db::run_read(&self.pool, self.read_pool.as_ref(), f).await
    }

    /// The smallest group whose rates are shown (the configured `MIN_N`, else the
    /// questionnaire's), which is also the size of an officer's release blocks (`kernel::release`).
    pub fn min_n(&self) -> u64 {
        u64::from(self.config.min_n.unwrap_or(self.instruments.current().computation.min_n))
    }
}

/// Migrates, records the questionnaire versions, converts the survey tokens and codes an earlier
/// release stored in clear (`kernel::survey_secrets`), and returns the shared secret: everything
/// the database must hold before the service answers its first request.
pub fn prepare(url: &str, config: &Config, instruments: &Instruments) -> Result<Vec<u8>, String> {
    let mut conn = db::connect(url)?;
    let applied = db::migrate(&mut conn)?;
    tracing::info!(applied, "migrations are up to date");
    record_versions(&mut conn, instruments.all()).map_err(|e| e.to_string())?;
    record_translations(&mut conn, instruments.all_translations()).map_err(|e| e.to_string())?;
    let secret = match &config.secret_key {
        Some(key) => key.expose_secret().as_bytes().to_vec(),
        None => load_or_create_secret(&mut conn).map_err(|e| format!("cannot read the secret key: {e}"))?,
    };
    // survey tokens and codes written in clear by an earlier release: hashed and sealed now
    let converted = survey_secrets::convert_clear_rows(&mut conn, &secret)
        .map_err(|e| format!("cannot convert the survey tokens stored in clear: {e}"))?;
    if converted > 0 {
        tracing::info!(converted, "survey tokens and codes stored in clear are now hashed and sealed");
    }
    Ok(secret)
}

/// The generated secret kept in the database, created by whichever instance starts first.
fn load_or_create_secret(conn: &mut PgConnection) -> QueryResult<Vec<u8>> {
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    diesel::insert_into(service_settings::table)
        .values((service_settings::name.eq("secret_key"), service_settings::value.eq(hex::encode(fresh))))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let value: String =
        service_settings::table.find("secret_key").select(service_settings::value).first(conn)?;
    Ok(hex::decode(&value).unwrap_or_else(|_| value.into_bytes()))
}
