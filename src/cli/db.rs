//! The database a command works on: `DATABASE_URL`, or the private cluster under `DATA_DIR`,
//! migrated before the command touches it (so a fresh installation works from its first command).

use diesel::PgConnection;

use crate::app;
use crate::config::Config;
use crate::db::{
    self,
    cluster::{Cluster, ClusterOptions, DB_NAME},
};
use crate::instrument::Instruments;

/// The database the service uses: given by `DATABASE_URL`, or a private cluster it runs itself.
pub struct Database {
    pub url: String,
    /// Present when the service manages the cluster; dropping it stops the cluster.
    pub cluster: Option<Cluster>,
}

/// Resolves the database: `DATABASE_URL`, or starts the private cluster under `DATA_DIR`.
/// `serving`: the cluster was adopted by a server, which stops it when it stops.
pub fn database(config: &Config, serving: bool) -> Result<Database, String> {
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

/// Connects to the migrated database of the configuration, with the published questionnaire.
pub fn open(config: &Config) -> Result<(Database, PgConnection, Instruments), String> {
    let instruments = Instruments::load(config.translations_dir.as_deref())?;
    let database = database(config, false)?;
    app::prepare(&database.url, config, &instruments)?;
    let conn = db::connect(&database.url)?;
    Ok((database, conn, instruments))
}

/// [`open`], and the service secret (`SECRET_KEY`, or the one kept in the database) for the
/// commands that seal or open the unit's export key.
pub fn open_with_secret(config: &Config) -> Result<(Database, PgConnection, Instruments, Vec<u8>), String> {
    let instruments = Instruments::load(config.translations_dir.as_deref())?;
    let database = database(config, false)?;
    let secret = app::prepare(&database.url, config, &instruments)?;
    let conn = db::connect(&database.url)?;
    Ok((database, conn, instruments, secret))
}
