//! `sipas serve` and `sipas migrate`.

use std::net::TcpListener;
use std::time::Duration;

use super::db::database;
use crate::app::{self, AppState};
use crate::config::Config;
use crate::instrument::Instruments;
use crate::responses::committer::Committer;

/// `sipas serve`: runs until SIGINT or SIGTERM, then stops the private cluster if it started one.
pub async fn serve(config: Config) -> Result<(), String> {
    let instruments = Instruments::load(config.translations_dir.as_deref())?;
    let database = database(&config, true)?;
    let secret = app::prepare(&database.url, &config, &instruments)?;
    let listener = TcpListener::bind(config.bind_addr)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = config.public_base_url().clone();
    let compact_every = Duration::from_secs(config.rollup_compact_seconds);
    let state = AppState::build(&database.url, config, instruments, secret);
    let answers = Committer::for_state(&state);
    let _compactor = crate::stats::rollup::spawn_compactor(state.pool.clone(), compact_every)
        .map_err(|e| format!("cannot start the roll-up compactor: {e}"))?;
    let _spread = crate::integrity::spread::spawn(
        state.pool.clone(),
        state.instruments.clone(),
        crate::integrity::spread::EVERY,
    )
    .map_err(|e| format!("cannot start the integrity job: {e}"))?;
    let _retention = crate::integrity::retention::spawn(
        state.pool.clone(),
        state.config.integrity.retention_days,
        state.config.integrity.case_link_retention_days,
        Duration::from_secs(3600),
    )
    .map_err(|e| format!("cannot start the retention job: {e}"))?;
    let server = crate::router::run(listener, state, answers).map_err(|e| e.to_string())?;
    tracing::info!(%addr, public_base_url = %base, "sipas is serving");
    let result = server.await.map_err(|e| format!("server error: {e}"));
    tracing::info!("stopped serving");
    drop(database);
    result
}

/// `sipas migrate`: applies the migrations and records the questionnaire versions.
pub fn migrate(config: &Config) -> Result<String, String> {
    let instruments = Instruments::load(config.translations_dir.as_deref())?;
    let database = database(config, false)?;
    app::prepare(&database.url, config, &instruments)?;
    Ok("migrations are up to date".to_string())
}
