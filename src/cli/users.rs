//! `sipas user create`.

use super::db::open;
use crate::auth::role::{Role, Scope};
use crate::config::Config;
use crate::staff::{password, store};

/// `sipas user create`: the password comes from `SIPAS_PASSWORD`, else the first line of
/// standard input (never from an argument, which other users of the machine could see).
pub fn create(
    config: &Config,
    username: &str,
    role: Role,
    unit: Option<String>,
    officer: Option<String>,
) -> Result<String, String> {
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
    let (_db, mut conn, _) = open(config)?;
    let id = store::create(&mut conn, username, &hash, &scope, "cli").map_err(|e| e.to_string())?;
    Ok(format!("account {id} `{username}` ({role}) is created"))
}
