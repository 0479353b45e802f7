//! `sipas export-key create|rotate|show` (the commune's signing key) and
//! `sipas province key register|revoke|list` (the province's registry of communes' public keys).

use super::db::{open, open_with_secret};
use crate::config::Config;
use crate::reporting::signing;

/// `sipas export-key create --unit U` (`rotate`: `sipas export-key rotate --unit U`): prints what
/// the commune sends to the province.
pub fn create(config: &Config, unit: &str, rotate: bool) -> Result<String, String> {
    let (_db, mut conn, _, secret) = open_with_secret(config)?;
    let info = signing::create_key(&mut conn, &secret, unit, rotate, "cli").map_err(|e| e.to_string())?;
    let what = if rotate { "New export key (the previous one is retired)" } else { "Export key" };
    Ok(format!("{what} of unit {unit}:\n{}", info.registration()))
}

/// `sipas export-key show --unit U`.
pub fn show(config: &Config, unit: &str) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    match signing::current_key(&mut conn, unit).map_err(|e| e.to_string())? {
        Some(info) => Ok(info.registration()),
        None => Err(format!(
            "unit {unit} has no export key: create one with `sipas export-key create --unit {unit}`"
        )),
    }
}

/// `sipas province key register --unit U --public-key B64 [--key-id K]`.
pub fn register(
    config: &Config,
    unit: &str,
    public_key: &str,
    key_id: Option<&str>,
) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let r = signing::register(&mut conn, unit, public_key, key_id, "cli").map_err(|e| e.to_string())?;
    Ok(format!("registered key {} for unit {}", r.key_id, r.unit_code))
}

/// `sipas province key revoke KEY_ID`.
pub fn revoke(config: &Config, key_id: &str) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let r = signing::revoke(&mut conn, key_id, "cli").map_err(|e| e.to_string())?;
    Ok(format!("key {} of unit {} is revoked", r.key_id, r.unit_code))
}

/// `sipas province key list [--unit U]`: one line per key.
pub fn list(config: &Config, unit: Option<&str>) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let rows = signing::list(&mut conn, unit).map_err(|e| e.to_string())?;
    let t = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "{} {} registered {} by {}{}",
                r.unit_code,
                r.key_id,
                t(r.registered_at),
                r.registered_by,
                r.revoked_at.map(|at| format!(", revoked {}", t(at))).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}
