//! Signed province exports (issue 21 finding 1, SECURITY.md). A plain SHA-256 proves only that a
//! file was not changed by accident: anyone can recompute it. So each unit signs its exports with
//! its own Ed25519 key, and the province takes an export only when its signature verifies under a
//! public key it registered for that very unit and has not revoked.
//!
//! The commune side ([`create_key`], [`signer`]): an admin creates or rotates the unit's export
//! key (`sipas export-key create|rotate`); the private half is stored only sealed, AES-256-GCM
//! under a key derived from the service secret (like the session cookies, with its own label),
//! bound to its unit and key id; its public half and a short key id (the fingerprint: the first
//! 16 hex digits of the SHA-256 of the public key) are shown for registration with the province.
//! No key is created at an export by itself: a key the province never registered signs nothing it
//! would take, and the public half must travel to the province on purpose anyway, so an export of
//! a unit without a key says plainly that it is unsigned ([`Block::unsigned`]).
//!
//! The province side ([`register`], [`revoke`], [`registered`]): the public keys communes sent,
//! each registered for one unit for good, revocable; every registration and revocation is in the
//! audit log.
//!
//! What is signed: the canonical bytes of the document's `content` (`content::canonical`), the
//! same bytes its `sha256` covers.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::schema::{export_keys as ek, province_keys as pk};

/// The algorithm a signed export names.
pub const ALGORITHM: &str = "ed25519";
/// The algorithm an unsigned export names.
pub const UNSIGNED: &str = "none";
/// What an unsigned export says about itself, in Vietnamese and English.
pub const UNSIGNED_NOTE: &str = "Bản xuất chưa được ký: đơn vị chưa có khóa ký bản xuất (quản trị viên tạo bằng `sipas export-key create`), tỉnh sẽ không nhận bản này. / \
Unsigned: the unit has no export signing key yet (an admin creates one with `sipas export-key create`); the province will not accept this export.";
/// What an export says when the unit's key exists but cannot be opened with this service secret.
pub const UNSEALED_NOTE: &str = "Bản xuất chưa được ký: không mở được khóa ký của đơn vị bằng khóa bí mật hiện tại của hệ thống (SECRET_KEY đã đổi?); quản trị viên tạo khóa mới bằng `sipas export-key rotate` và gửi tỉnh đăng ký. / \
Unsigned: the unit's signing key cannot be opened with the service's current secret (was SECRET_KEY changed?); an admin rotates it with `sipas export-key rotate` and sends the new public key to the province.";

/// The signature block of an export document. Signed: `algorithm` "ed25519", `key_id`,
/// `public_key` (32 bytes, base64) and `signature` (64 bytes, base64) over the canonical content.
/// Unsigned: `algorithm` "none" and a `note` saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Block {
    pub fn unsigned(note: &str) -> Block {
        Block {
            algorithm: UNSIGNED.into(),
            key_id: None,
            public_key: None,
            signature: None,
            note: Some(note.into()),
        }
    }

    /// The key id of a signed block, or `unsigned`.
    pub fn label(&self) -> &str {
        self.key_id.as_deref().filter(|_| self.algorithm == ALGORITHM).unwrap_or("unsigned")
    }
}

/// The short key id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public_key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public_key))[..16].to_string()
}

/// A unit's signing key, opened for one export.
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

impl Signer {
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The signature block over `message` (the canonical content).
    pub fn sign(&self, message: &[u8]) -> Block {
        Block {
            algorithm: ALGORITHM.into(),
            key_id: Some(self.key_id.clone()),
            public_key: Some(STANDARD.encode(self.public_key())),
            signature: Some(STANDARD.encode(self.key.sign(message).to_bytes())),
            note: None,
        }
    }
}

// ------------------------------------------------------------------------------------ sealing

fn seal_key(secret: &[u8]) -> Aes256Gcm {
    let mut h = Sha256::new();
    h.update(b"sipas export signing key seal v1\0");
    h.update(secret);
    let key: [u8; 32] = h.finalize().into();
    Aes256Gcm::new(&key.into())
}

fn aad(unit: &str, key_id: &str) -> Vec<u8> {
    format!("{unit}\0{key_id}").into_bytes()
}

/// The private key sealed for its row: a random 96-bit nonce, then the ciphertext and tag; the
/// unit and key id are authenticated with it, so a sealed key moved to another row does not open.
fn seal(secret: &[u8], unit: &str, key_id: &str, private: &[u8; 32]) -> Result<Vec<u8>, String> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = seal_key(secret)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: private, aad: &aad(unit, key_id) })
        .map_err(|_| "cannot seal the export key".to_string())?;
    Ok([nonce.as_slice(), &sealed].concat())
}

fn unseal(secret: &[u8], unit: &str, key_id: &str, sealed: &[u8]) -> Option<SigningKey> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, body) = sealed.split_at(12);
    let plain = seal_key(secret)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: &aad(unit, key_id) })
        .ok()?;
    let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
    let key = SigningKey::from_bytes(&bytes);
    (self::key_id(&key.verifying_key().to_bytes()) == key_id).then_some(key)
}

// --------------------------------------------------------------------------------- commune side

/// A unit's export key as shown for registration with the province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub unit: String,
    pub key_id: String,
    /// base64 of the 32 bytes
    pub public_key: String,
    pub created_at: DateTime<Utc>,
}

impl PublicKeyInfo {
    /// What the commune sends to the province, and the command the province runs with it.
    pub fn registration(&self) -> String {
        format!(
            "unit:       {}\nkey id:     {}\npublic key: {}\ncreated:    {}\n\n\
             Send the unit, key id and public key to the province; its IT officer registers them with\n  \
             sipas province key register --unit {} --key-id {} --public-key {}",
            self.unit,
            self.key_id,
            self.public_key,
            self.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
            self.unit,
            self.key_id,
            self.public_key
        )
    }
}

/// Why a key could not be created, registered or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unit `{0}` is not in the master data")]
    UnknownUnit(String),
    #[error("unit `{0}` already has an export key ({1}); rotate it to replace it")]
    Exists(String, String),
    #[error("unit `{0}` has no export key yet; create one first")]
    NoKey(String),
    #[error("the public key is not 32 bytes of base64 (an Ed25519 public key)")]
    BadPublicKey,
    #[error(
        "the key id {given} does not match the public key (its key id is {actual}): check what the commune sent"
    )]
    KeyIdMismatch { given: String, actual: String },
    #[error("key {key_id} is already registered for unit {unit}")]
    Registered { key_id: String, unit: String },
    #[error("no registered key {0}")]
    NotRegistered(String),
    #[error("{0}")]
    Seal(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

fn unit_exists(conn: &mut PgConnection, unit: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(crate::schema::units::table.find(unit))).get_result(conn)
}

/// Creates the unit's export key (`rotate`: retiring the current one first). Audited.
pub fn create_key(
    conn: &mut PgConnection,
    secret: &[u8],
    unit: &str,
    rotate: bool,
    actor: &str,
) -> Result<PublicKeyInfo, KeyError> {
    conn.transaction(|conn| {
        if !unit_exists(conn, unit)? {
            return Err(KeyError::UnknownUnit(unit.into()));
        }
        let current: Option<String> = ek::table
            .filter(ek::unit_code.eq(unit).and(ek::retired_at.is_null()))
            .select(ek::key_id)
            .for_update()
            .first(conn)
            .optional()?;
        match (&current, rotate) {
            (Some(id), false) => return Err(KeyError::Exists(unit.into(), id.clone())),
            (None, true) => return Err(KeyError::NoKey(unit.into())),
            (Some(id), true) => {
                diesel::update(ek::table.find(id)).set(ek::retired_at.eq(Utc::now())).execute(conn)?;
            }
            (None, false) => {}
        }
        let mut private = [0u8; 32];
        rand::rng().fill_bytes(&mut private);
        let key = SigningKey::from_bytes(&private);
        let public = key.verifying_key().to_bytes();
        let id = key_id(&public);
        let sealed = seal(secret, unit, &id, &private).map_err(KeyError::Seal)?;
        let now = Utc::now();
        diesel::insert_into(ek::table)
            .values((
                ek::key_id.eq(&id),
                ek::unit_code.eq(unit),
                ek::public_key.eq(public.as_slice()),
                ek::sealed_private.eq(&sealed),
                ek::created_at.eq(now),
                ek::created_by.eq(actor),
            ))
            .execute(conn)?;
        crate::kernel::audit::audit(
            conn,
            actor,
            if rotate { "export_key.rotate" } else { "export_key.create" },
            unit,
            serde_json::json!({"key_id": id, "retired": current}),
        )?;
        Ok(PublicKeyInfo {
            unit: unit.into(),
            key_id: id,
            public_key: STANDARD.encode(public),
            created_at: now,
        })
    })
}

/// The unit's current export key, for registration.
pub fn current_key(conn: &mut PgConnection, unit: &str) -> QueryResult<Option<PublicKeyInfo>> {
    let row: Option<(String, Vec<u8>, DateTime<Utc>)> = ek::table
        .filter(ek::unit_code.eq(unit).and(ek::retired_at.is_null()))
        .select((ek::key_id, ek::public_key, ek::created_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(key_id, public, created_at)| PublicKeyInfo {
        unit: unit.into(),
        key_id,
        public_key: STANDARD.encode(public),
        created_at,
    }))
}

/// The signer of the unit's exports: `Ok(None)` when it has no key, `Err(note)` when its key
/// cannot be opened with this secret (the export then says so and is unsigned).
pub fn signer(
    conn: &mut PgConnection,
    secret: &[u8],
    unit: &str,
) -> QueryResult<Result<Option<Signer>, &'static str>> {
    let row: Option<(String, Vec<u8>)> = ek::table
        .filter(ek::unit_code.eq(unit).and(ek::retired_at.is_null()))
        .select((ek::key_id, ek::sealed_private))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Ok(None),
        Some((key_id, sealed)) => match unseal(secret, unit, &key_id, &sealed) {
            Some(key) => Ok(Some(Signer { key, key_id })),
            None => {
                tracing::warn!(unit, key.id = %key_id, "the unit's export key cannot be opened with this secret");
                Err(UNSEALED_NOTE)
            }
        },
    })
}

/// The signature block of an export whose canonical content is `message`.
pub fn block_for(conn: &mut PgConnection, secret: &[u8], unit: &str, message: &[u8]) -> QueryResult<Block> {
    Ok(match signer(conn, secret, unit)? {
        Ok(Some(s)) => s.sign(message),
        Ok(None) => Block::unsigned(UNSIGNED_NOTE),
        Err(note) => Block::unsigned(note),
    })
}

// -------------------------------------------------------------------------------- verification

/// A signature block that verified against the key it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub key_id: String,
    pub public_key: [u8; 32],
}

/// Why a signature block does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockError {
    /// No block, or `algorithm` "none" (with the export's own note, if any).
    Unsigned(Option<String>),
    /// A block that does not verify, and why.
    Invalid(String),
}

fn decode<const N: usize>(what: &str, s: Option<&String>) -> Result<[u8; N], BlockError> {
    let s = s.ok_or_else(|| BlockError::Invalid(format!("the block has no {what}")))?;
    STANDARD
        .decode(s)
        .ok()
        .and_then(|b| <[u8; N]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| BlockError::Invalid(format!("the {what} is not {N} bytes of base64")))
}

/// Checks a signature block against the canonical content `message`: the algorithm, the key id
/// against the public key it names, and the signature (strict Ed25519 verification). Whether that
/// key is registered for the export's unit is the registry's question ([`registered`]).
pub fn check(block: Option<&Block>, message: &[u8]) -> Result<Checked, BlockError> {
    let b = match block {
        None => return Err(BlockError::Unsigned(None)),
        Some(b) if b.algorithm == UNSIGNED => return Err(BlockError::Unsigned(b.note.clone())),
        Some(b) => b,
    };
    if b.algorithm != ALGORITHM {
        return Err(BlockError::Invalid(format!("algorithm `{}` is not {ALGORITHM}", b.algorithm)));
    }
    let public: [u8; 32] = decode("public key", b.public_key.as_ref())?;
    let signature: [u8; 64] = decode("signature", b.signature.as_ref())?;
    let id = key_id(&public);
    if b.key_id.as_deref() != Some(id.as_str()) {
        return Err(BlockError::Invalid(format!(
            "the key id {} is not that of its public key ({id})",
            b.key_id.as_deref().unwrap_or("(none)")
        )));
    }
    let key = VerifyingKey::from_bytes(&public)
        .map_err(|_| BlockError::Invalid("the public key is not an Ed25519 key".into()))?;
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| BlockError::Invalid(format!("the signature does not verify under key {id}")))?;
    Ok(Checked { key_id: id, public_key: public })
}

// -------------------------------------------------------------------------------- province side

/// A key of the province's registry.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Registered {
    pub key_id: String,
    pub unit_code: String,
    pub public_key: Vec<u8>,
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

fn columns() -> (
    pk::key_id,
    pk::unit_code,
    pk::public_key,
    pk::registered_at,
    pk::registered_by,
    pk::revoked_at,
    pk::revoked_by,
) {
    (
        pk::key_id,
        pk::unit_code,
        pk::public_key,
        pk::registered_at,
        pk::registered_by,
        pk::revoked_at,
        pk::revoked_by,
    )
}

/// Registers a commune's public key (base64) for `unit`; `given_id`, when the commune sent one,
/// must be that key's id (a typing or transmission error is caught here). Audited.
pub fn register(
    conn: &mut PgConnection,
    unit: &str,
    public_key: &str,
    given_id: Option<&str>,
    actor: &str,
) -> Result<Registered, KeyError> {
    let bytes: [u8; 32] = STANDARD
        .decode(public_key.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .filter(|b| VerifyingKey::from_bytes(b).is_ok_and(|k| !k.is_weak()))
        .ok_or(KeyError::BadPublicKey)?;
    let id = key_id(&bytes);
    if let Some(given) = given_id.map(str::trim).filter(|g| *g != id) {
        return Err(KeyError::KeyIdMismatch { given: given.into(), actual: id });
    }
    conn.transaction(|conn| {
        if !unit_exists(conn, unit)? {
            return Err(KeyError::UnknownUnit(unit.into()));
        }
        let existing: Option<String> = pk::table.find(&id).select(pk::unit_code).first(conn).optional()?;
        if let Some(owner) = existing {
            return Err(KeyError::Registered { key_id: id, unit: owner });
        }
        let row: Registered = diesel::insert_into(pk::table)
            .values((
                pk::key_id.eq(&id),
                pk::unit_code.eq(unit),
                pk::public_key.eq(bytes.as_slice()),
                pk::registered_at.eq(Utc::now()),
                pk::registered_by.eq(actor),
            ))
            .returning(columns())
            .get_result(conn)?;
        crate::kernel::audit::audit(
            conn,
            actor,
            "province_key.register",
            unit,
            serde_json::json!({"key_id": id}),
        )?;
        Ok(row)
    })
}

/// Revokes a registered key: no export it signed is taken any more, whenever it claims to have
/// been made. Audited.
pub fn revoke(conn: &mut PgConnection, key_id: &str, actor: &str) -> Result<Registered, KeyError> {
    conn.transaction(|conn| {
        let row: Registered = diesel::update(pk::table.find(key_id).filter(pk::revoked_at.is_null()))
            .set((pk::revoked_at.eq(Utc::now()), pk::revoked_by.eq(actor)))
            .returning(columns())
            .get_result(conn)
            .optional()?
            .ok_or_else(|| KeyError::NotRegistered(key_id.into()))?;
        crate::kernel::audit::audit(
            conn,
            actor,
            "province_key.revoke",
            &row.unit_code,
            serde_json::json!({"key_id": key_id}),
        )?;
        Ok(row)
    })
}

/// The registered key of that id and public key, if any.
pub fn registered(conn: &mut PgConnection, checked: &Checked) -> QueryResult<Option<Registered>> {
    let row: Option<Registered> = pk::table.find(&checked.key_id).select(columns()).first(conn).optional()?;
    Ok(row.filter(|r| r.public_key == checked.public_key))
}

/// The registry, a unit's keys or all, newest first.
pub fn list(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<Registered>> {
    let mut q =
        pk::table.select(columns()).order((pk::unit_code.asc(), pk::registered_at.desc())).into_boxed();
    if let Some(u) = unit {
        q = q.filter(pk::unit_code.eq(u.to_string()));
    }
    q.load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let key_id = key_id(&key.verifying_key().to_bytes());
        Signer { key, key_id }
    }

    #[test]
    fn a_signature_verifies_only_over_the_bytes_it_signed() {
        let s = signer();
        let block = s.sign(b"{\"a\":1}");
        assert_eq!(check(Some(&block), b"{\"a\":1}").map(|c| c.key_id), Ok(s.key_id().to_string()));
        assert!(matches!(check(Some(&block), b"{\"a\":2}"), Err(BlockError::Invalid(_))));
        let mut other = block.clone();
        other.key_id = Some("0000000000000000".into());
        assert!(
            matches!(check(Some(&other), b"{\"a\":1}"), Err(BlockError::Invalid(e)) if e.contains("key id"))
        );
        assert_eq!(check(None, b"x"), Err(BlockError::Unsigned(None)));
        let unsigned = Block::unsigned("why");
        assert_eq!(check(Some(&unsigned), b"x"), Err(BlockError::Unsigned(Some("why".into()))));
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_secret_and_for_its_row() {
        let private = [9u8; 32];
        let id = key_id(&SigningKey::from_bytes(&private).verifying_key().to_bytes());
        let sealed = seal(b"secret", "CHIEMHOA", &id, &private).unwrap();
        assert!(!sealed.windows(32).any(|w| w == private), "the private key is not stored in clear");
        assert!(unseal(b"secret", "CHIEMHOA", &id, &sealed).is_some());
        assert!(unseal(b"other secret", "CHIEMHOA", &id, &sealed).is_none());
        assert!(unseal(b"secret", "KIMBINH", &id, &sealed).is_none());
        assert!(unseal(b"secret", "CHIEMHOA", &id, &sealed[..20]).is_none());
    }

    #[test]
    fn key_ids_are_sixteen_hex_digits_of_the_public_keys_hash() {
        let id = key_id(&[1u8; 32]);
        assert_eq!(id.len(), 16);
        assert_eq!(id, hex::encode(Sha256::digest([1u8; 32]))[..16]);
    }
}
