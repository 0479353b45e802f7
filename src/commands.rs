//! What each `sipas` subcommand does; `main.rs` only parses the command line and calls these.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use rand::Rng;

use crate::config::Config;
use crate::db::cluster::{Cluster, ClusterOptions, DB_NAME};
use crate::db::{self, Pool};
use crate::health::metrics::Metrics;
use crate::instrument::{Instruments, store::record_versions};
use crate::schema::service_settings;
use crate::startup::{self, AppState};

/// The database the service uses: given by `DATABASE_URL`, or a private cluster it runs itself.
pub struct Database {
    pub url: String,
    /// Present when the service manages the cluster; dropping it stops the cluster.
    pub cluster: Option<Cluster>,
}

/// Resolves the database: `DATABASE_URL`, or starts the private cluster under `DATA_DIR`.
pub fn database(config: &Config) -> Result<Database, String> {
    database_for(config, false)
}

fn database_for(config: &Config, serving: bool) -> Result<Database, String> {
    match &config.database_url {
        Some(url) => Ok(Database { url: url.clone(), cluster: None }),
        None => {
            let dir = config.data_dir.join("postgres");
            tracing::info!(dir = %dir.display(), "DATABASE_URL is unset: starting the private PostgreSQL cluster");
            let options = ClusterOptions { stop_adopted: serving, ..ClusterOptions::new(dir) };
            let cluster = Cluster::start(&options).map_err(|e| e.to_string())?;
            Ok(Database { url: cluster.url(DB_NAME), cluster: Some(cluster) })
        }
    }
}

/// Migrates, records the questionnaire versions, and returns the shared secret: everything the
/// database must hold before the service answers its first request.
pub fn prepare_database(url: &str, config: &Config, instruments: &Instruments) -> Result<Vec<u8>, String> {
    let mut conn = db::connect(url)?;
    let applied = db::migrate(&mut conn)?;
    tracing::info!(applied, "migrations are up to date");
    record_versions(&mut conn, instruments.all()).map_err(|e| e.to_string())?;
    match &config.secret_key {
        Some(key) => Ok(key.as_bytes().to_vec()),
        None => load_or_create_secret(&mut conn).map_err(|e| format!("cannot read the secret key: {e}")),
    }
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

/// Builds the shared state for a prepared database.
pub fn state(url: &str, config: Config, instruments: Instruments, secret: Vec<u8>) -> AppState {
    let pool: Pool = db::build_pool(url, config.db_pool_size, Duration::from_secs(config.db_timeout_secs));
    let instruments = Arc::new(instruments);
    let answers = crate::responses::committer::Committer::start(
        pool.clone(),
        instruments.clone(),
        crate::responses::submit::Limits::from_config(&config),
        config.answer_writers,
        config.answer_batch,
    );
    AppState {
        pool,
        config: Arc::new(config),
        instruments,
        metrics: Metrics::new(),
        secret: Arc::new(secret),
        answers,
    }
}

/// `sipas serve`: runs until SIGINT or SIGTERM, then stops the private cluster if it started one.
pub async fn serve(config: Config) -> Result<(), String> {
    let instruments = Instruments::load_published()?;
    let database = database_for(&config, true)?;
    let secret = prepare_database(&database.url, &config, &instruments)?;
    let listener = TcpListener::bind(config.bind_addr)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = config.public_base_url.clone();
    let compact_every = Duration::from_secs(config.rollup_compact_seconds);
    let state = state(&database.url, config, instruments, secret);
    let _compactor = crate::stats::rollup::spawn_compactor(state.pool.clone(), compact_every)
        .map_err(|e| format!("cannot start the roll-up compactor: {e}"))?;
    let _retention = crate::integrity::retention::spawn(
        state.pool.clone(),
        state.config.integrity_retention_days,
        state.config.case_link_retention_days,
        Duration::from_secs(3600),
    )
    .map_err(|e| format!("cannot start the retention job: {e}"))?;
    let server = startup::run(listener, state).map_err(|e| e.to_string())?;
    tracing::info!(%addr, public_base_url = %base, "sipas is serving");
    let result = server.await.map_err(|e| format!("server error: {e}"));
    tracing::info!("stopped serving");
    drop(database);
    result
}

/// `sipas migrate`: applies the migrations and records the questionnaire versions.
pub fn migrate(config: &Config) -> Result<(), String> {
    let instruments = Instruments::load_published()?;
    let database = database(config)?;
    prepare_database(&database.url, config, &instruments)?;
    Ok(())
}

/// Connects to the prepared database for a one-off command (migrating first, so a fresh
/// installation works from its first command).
fn connect_prepared(config: &Config) -> Result<(Database, PgConnection), String> {
    let instruments = Instruments::load_published()?;
    let database = database(config)?;
    prepare_database(&database.url, config, &instruments)?;
    let conn = db::connect(&database.url)?;
    Ok((database, conn))
}

/// `sipas import units|officers|procedures FILE.csv`: all or nothing; prints what it did.
pub fn import(
    config: &Config,
    kind: crate::masterdata::Kind,
    file: &std::path::Path,
) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = crate::masterdata::parse(kind, &bytes)
        .map_err(|e| format!("{}: {e}; nothing was imported", file.display()))?;
    let (_db, mut conn) = connect_prepared(config)?;
    let summary = crate::masterdata::store::import(&mut conn, &rows, "cli").map_err(|e| match e {
        crate::masterdata::store::StoreError::Row(e) => {
            format!("{}: {e}; nothing was imported", file.display())
        }
        other => format!("{other}; nothing was imported"),
    })?;
    Ok(format!(
        "imported {} rows from {}: {} new, {} updated",
        rows.len(),
        file.display(),
        summary.created,
        summary.updated
    ))
}

/// `sipas api-key create`: the key is the last line of the output, shown only this once.
pub fn api_key_create(config: &Config, unit: &str, name: &str) -> Result<String, String> {
    let (_db, mut conn) = connect_prepared(config)?;
    let (id, key) = crate::auth::apikeys::create(&mut conn, unit, name, "cli").map_err(|e| e.to_string())?;
    Ok(format!("API key {id} for unit {unit} (store it now; it is not shown again):\n{key}"))
}

/// `sipas api-key revoke ID`.
pub fn api_key_revoke(config: &Config, id: i64) -> Result<String, String> {
    let (_db, mut conn) = connect_prepared(config)?;
    crate::auth::apikeys::revoke(&mut conn, id, "cli").map_err(|e| e.to_string())?;
    Ok(format!("API key {id} is revoked"))
}

/// `sipas user create`: the password comes from `SIPAS_PASSWORD`, else the first line of
/// standard input (never from an argument, which other users of the machine could see).
pub fn user_create(
    config: &Config,
    username: &str,
    role: crate::staff::model::Role,
    unit: Option<String>,
    officer: Option<String>,
) -> Result<String, String> {
    use crate::staff::{model::Scope, password, store};
    let scope = Scope::new(role, unit, officer).map_err(|e| e.to_string())?;
    let pw = match std::env::var("SIPAS_PASSWORD") {
        Ok(pw) if !pw.is_empty() => pw,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    password::check_policy(username, &pw).map_err(|e| e.to_string())?;
    let hash = password::hash(&pw)?;
    let (_db, mut conn) = connect_prepared(config)?;
    let id = store::create(&mut conn, username, &hash, &scope, "cli").map_err(|e| e.to_string())?;
    Ok(format!("account {id} `{username}` ({role}) is created"))
}

/// `sipas instrument check FILE`: validates a draft questionnaire before it is published.
pub fn instrument_check(file: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let i = crate::instrument::Instrument::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(format!(
        "{}: instrument {} {} is valid ({} sections, {} items, sha256 {})",
        file.display(),
        i.meta.id,
        i.meta.version,
        i.sections.len(),
        i.items().count(),
        i.sha256
    ))
}
