//! `sipas api-key create|revoke`.

use super::db::open;
use crate::auth::apikeys;
use crate::config::Config;

/// `sipas api-key create`: the key is the last line of the output, shown only this once.
pub fn create(config: &Config, unit: &str, name: &str) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let (id, key) = apikeys::create(&mut conn, unit, name, "cli").map_err(|e| e.to_string())?;
    Ok(format!("API key {id} for unit {unit} (store it now; it is not shown again):\n{key}"))
}

/// `sipas api-key revoke ID`.
pub fn revoke(config: &Config, id: i64) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    apikeys::revoke(&mut conn, id, "cli").map_err(|e| e.to_string())?;
    Ok(format!("API key {id} is revoked"))
}
