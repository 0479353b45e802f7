//! API keys: generated here, shown once, stored only as a SHA-256 (a key carries 256 random
//! bits, so a fast hash is enough and lookups stay one indexed read).

use diesel::prelude::*;

use crate::kernel::audit::audit;
use crate::kernel::hashing::{random_token, sha256_hex};
use crate::schema::{api_keys, units};

const PREFIX: &str = "sipas_";

/// A new random key: `sipas_` and 43 URL-safe characters.
pub fn generate() -> String {
    format!("{PREFIX}{}", random_token(32))
}

/// The stored form of a key.
pub fn hash(key: &str) -> String {
    sha256_hex(key.as_bytes())
}

/// Why a key could not be created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unit `{0}` does not exist; import it first (sipas import units FILE.csv)")]
    UnknownUnit(String),
    #[error("API key {0} does not exist")]
    UnknownKey(i64),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates a key for a unit; returns its id and the key, which is never stored or shown again.
pub fn create(
    conn: &mut PgConnection,
    unit_code: &str,
    name: &str,
    actor: &str,
) -> Result<(i64, String), KeyError> {
    conn.transaction(|conn| {
        let exists: bool =
            diesel::select(diesel::dsl::exists(units::table.find(unit_code))).get_result(conn)?;
        if !exists {
            return Err(KeyError::UnknownUnit(unit_code.to_string()));
        }
        let key = generate();
        let id: i64 = diesel::insert_into(api_keys::table)
            .values((
                api_keys::unit_code.eq(unit_code),
                api_keys::name.eq(name),
                api_keys::key_hash.eq(hash(&key)),
            ))
            .returning(api_keys::id)
            .get_result(conn)?;
        audit(
            conn,
            actor,
            "api_key.create",
            &format!("api-key:{id}"),
            serde_json::json!({"unit": unit_code, "name": name}),
        )?;
        Ok((id, key))
    })
}

/// Revokes a key; revoking twice is harmless.
pub fn revoke(conn: &mut PgConnection, id: i64, actor: &str) -> Result<(), KeyError> {
    conn.transaction(|conn| {
        let found = diesel::update(api_keys::table.find(id))
            .set(api_keys::revoked_at.eq(Some(chrono::Utc::now())))
            .filter(api_keys::revoked_at.is_null())
            .execute(conn)?;
        if found == 0 {
            let exists: bool =
                diesel::select(diesel::dsl::exists(api_keys::table.find(id))).get_result(conn)?;
            if !exists {
                return Err(KeyError::UnknownKey(id));
            }
        }
        audit(conn, actor, "api_key.revoke", &format!("api-key:{id}"), serde_json::json!({}))?;
        Ok(())
    })
}

/// The (key id, unit) of a valid, unrevoked key; records when it was last used (at most once a
/// minute, so busy keys do not write on every request).
pub fn authenticate(conn: &mut PgConnection, key: &str) -> QueryResult<Option<(i64, String)>> {
    if !key.starts_with(PREFIX) || key.len() > 100 {
        return Ok(None);
    }
    let found: Option<(i64, String)> = api_keys::table
        .filter(api_keys::key_hash.eq(hash(key)))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, api_keys::unit_code))
        .first(conn)
        .optional()?;
    if let Some((id, _)) = &found {
        diesel::sql_query(
            "UPDATE api_keys SET last_used_at = now() WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        )
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(conn)?;
    }
    Ok(found)
}

#[derive(Queryable, Debug, Clone)]
pub struct ApiKeyRow {
    pub id: i64,
    pub unit_code: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every key, newest first (the admin page lists them; only their hashes are stored).
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .select((
            api_keys::id,
            api_keys::unit_code,
            api_keys::name,
            api_keys::created_at,
            api_keys::last_used_at,
            api_keys::revoked_at,
        ))
        .order(api_keys::id.desc())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_hashed_to_hex() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("sipas_") && a.len() == 6 + 43, "{a}");
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }
}
