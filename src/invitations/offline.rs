//! Issuing while the commune's line is down (issue 20). A paired desk computer holds an Ed25519
//! key pair made by its browser (WebCrypto; the private half never leaves it); the service keeps
//! the public half (`desk_keys`). Offline, the desk signs the facts of an invitation into a token
//! (`/o/{token}` on the slip's QR) and queues it; whichever reaches the service first — the
//! resident's scan or the desk's queued record — makes the invitation, once per nonce.
//!
//! The token, URL-safe base64 without padding of:
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | version, [`VERSION`] |
//! | 4 | desk key id, big-endian |
//! | 4 | issued at, Unix seconds, big-endian |
//! | 16 | nonce (random) |
//! | 1 + n, three times | unit, officer and procedure codes, each its length then its ASCII |
//! | 64 | Ed25519 signature of [`CONTEXT`] followed by every byte above |
//!
//! About 150 characters for this commune's codes: the QR stays small enough for an 80 mm slip.
//! The invitation's survey token is the nonce itself (128 random bits, base64url), so
//! `/o/{token}` sends the resident on to `/s/{nonce}`; its typed code is
//! [`TypedCode::derived`] from the nonce, so the desk prints the same code the service stores.
//! Like every survey token, the nonce is stored only as its keyed hash (and sealed with the
//! code, `kernel::survey_secrets`): the token hash's unique index makes one invitation per nonce.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel::result::Error as DbError;
use ed25519_dalek::{Signature, VerifyingKey};

use super::model::TypedCode;
use super::store::{self, DeskKey, Invitation, NewInvitation};
use crate::kernel::audit::audit;
use crate::kernel::survey_secrets;
use crate::stats::rollup::{self, InvitationFacts};

/// The token layout's version.
pub const VERSION: u8 = 1;
/// Signed before the token's bytes, so a desk key's signature means nothing anywhere else.
pub const CONTEXT: &[u8] = b"sipas-offline-v1";
/// Random bytes of a token's nonce.
pub const NONCE_BYTES: usize = 16;
/// How far ahead of the service's clock a desk's clock may be: a token dated later is refused.
pub const FUTURE_SKEW_SECS: i64 = 5 * 60;
/// Longest token accepted (three codes of 32 characters): anything longer is not one.
pub const TOKEN_MAX: usize = 260;
/// Longest code in a token (the master data's own limit).
const CODE_MAX: usize = 32;
const SIGNATURE_BYTES: usize = 64;

/// The facts a desk signed, read from a token whose signature is not checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFacts {
    pub key_id: i64,
    pub issued_at: DateTime<Utc>,
    pub nonce: [u8; NONCE_BYTES],
    pub unit_code: String,
    pub officer_code: String,
    pub procedure_code: String,
    /// Every byte before the signature.
    body: Vec<u8>,
    signature: [u8; SIGNATURE_BYTES],
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Some(head)
}

fn take_code(bytes: &mut &[u8]) -> Option<String> {
    let len = usize::from(*take(bytes, 1)?.first()?);
    if len == 0 || len > CODE_MAX {
        return None;
    }
    let raw = take(bytes, len)?;
    raw.iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        .then(|| String::from_utf8_lossy(raw).into_owned())
}

impl SignedFacts {
    /// Reads a token; `None` for anything that is not one (its signature is checked by
    /// [`SignedFacts::verify`]).
    pub fn parse(token: &str) -> Option<SignedFacts> {
        if token.len() > TOKEN_MAX {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() < SIGNATURE_BYTES {
            return None;
        }
        let (body, signature) = raw.split_at(raw.len() - SIGNATURE_BYTES);
        let mut rest = body;
        if take(&mut rest, 1)? != [VERSION] {
            return None;
        }
        let key_id = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?);
        let secs = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?);
        let nonce: [u8; NONCE_BYTES] = take(&mut rest, NONCE_BYTES)?.try_into().ok()?;
        let unit_code = take_code(&mut rest)?;
        let officer_code = take_code(&mut rest)?;
        let procedure_code = take_code(&mut rest)?;
        if !rest.is_empty() {
            return None;
        }
        Some(SignedFacts {
            key_id: i64::from(key_id),
            issued_at: Utc.timestamp_opt(i64::from(secs), 0).single()?,
            nonce,
            unit_code,
            officer_code,
            procedure_code,
            body: body.to_vec(),
            signature: signature.try_into().ok()?,
        })
    }

    /// Whether the desk key `public_key` signed these bytes (strict Ed25519, RFC 8032).
    pub fn verify(&self, public_key: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 32]>::try_from(public_key) else { return false };
        let Ok(key) = VerifyingKey::from_bytes(&bytes) else { return false };
        let mut message = Vec::with_capacity(CONTEXT.len() + self.body.len());
        message.extend_from_slice(CONTEXT);
        message.extend_from_slice(&self.body);
        key.verify_strict(&message, &Signature::from_bytes(&self.signature)).is_ok()
    }

    /// The survey token of the invitation made from these facts.
    pub fn survey_token(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.nonce)
    }
}

/// Whether `public_key` is a raw Ed25519 public key a desk may be paired with: 32 bytes, a point
/// on the curve, and not one of small order (a "weak" key, whose signatures prove nothing).
pub fn is_usable_key(public_key: &[u8]) -> bool {
    <[u8; 32]>::try_from(public_key)
        .ok()
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
        .is_some_and(|key| !key.is_weak())
}

/// The bytes a desk signs for these facts, for tests and tools (the desk's browser builds the
/// same in `web/static/desk.js`). Returns (body, message to sign).
pub fn unsigned(
    key_id: u32,
    issued_at: u32,
    nonce: &[u8; NONCE_BYTES],
    codes: [&str; 3],
) -> (Vec<u8>, Vec<u8>) {
    let mut body = vec![VERSION];
    body.extend_from_slice(&key_id.to_be_bytes());
    body.extend_from_slice(&issued_at.to_be_bytes());
    body.extend_from_slice(nonce);
    for code in codes {
        body.push(u8::try_from(code.len()).unwrap_or(u8::MAX));
        body.extend_from_slice(code.as_bytes());
    }
    let mut message = CONTEXT.to_vec();
    message.extend_from_slice(&body);
    (body, message)
}

/// How an offline token reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// A resident scanned the slip (`GET /o/{token}`).
    Scan,
    /// The desk sent its queued record (`POST /api/v1/desk/offline-issues`).
    Record,
}

impl Arrival {
    fn as_str(self) -> &'static str {
        match self {
            Arrival::Scan => "scan",
            Arrival::Record => "record",
        }
    }
}

/// What an invitation made from a token is made with.
pub struct Context<'a> {
    /// The published versions: the invitation answers its unit's chosen version, else the
    /// default (the slip itself names no version).
    pub instruments: &'a crate::instrument::Instruments,
    pub ttl_days: i64,
    pub now: DateTime<Utc>,
    pub arrival: Arrival,
    /// The service secret: the token and code are stored as its keyed hashes and sealed under it.
    pub secret: &'a [u8],
}

/// What became of a token.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Its invitation was made now.
    Created(Invitation),
    /// Its invitation existed already (an earlier scan or record).
    Existing(Invitation),
    /// Refused, nothing written: the reason (the survey answers every one with the same 404).
    Refused(&'static str),
}

/// Tries to draw a typed code again when the derived one belongs to another invitation.
const INSERT_ATTEMPTS: usize = 5;

/// Verifies a token and makes its invitation exactly once, in a savepoint of the caller's
/// transaction: through the same look-ups and insert as every invitation (`store`), counted in
/// the roll-ups at its signed issue time, audited on arrival.
pub fn arrive(conn: &mut PgConnection, ctx: &Context<'_>, token: &str) -> Result<Outcome, DbError> {
    let Some(facts) = SignedFacts::parse(token) else { return Ok(Outcome::Refused("not_found")) };
    let Some(key) = store::desk_key(conn, facts.key_id)? else { return Ok(Outcome::Refused("not_found")) };
    if !facts.verify(&key.public_key) || facts.unit_code != key.unit_code {
        return Ok(Outcome::Refused("not_found"));
    }
    if let Some(refusal) = refusal(&key, &facts, ctx.now) {
        return Ok(Outcome::Refused(refusal));
    }
    let token = facts.survey_token();
    let token_hash = survey_secrets::token_hash(ctx.secret, &token);
    if let Some(existing) = store::by_token_hash(conn, &token_hash)? {
        return existing_one(conn, ctx, existing, &key);
    }
    let (Some(officer), Some(procedure)) =
        (store::officer(conn, &facts.officer_code)?, store::procedure(conn, &facts.procedure_code)?)
    else {
        return Ok(Outcome::Refused("unknown_master_data"));
    };
    if officer.unit_code != key.unit_code {
        return Ok(Outcome::Refused("unknown_master_data"));
    }
    let issued_by = format!("desk-key:{}", key.id);
    let expires_at = facts.issued_at + Duration::days(ctx.ttl_days);
    let choice = store::unit_instrument(conn, &key.unit_code)?;
    let instrument = ctx.instruments.for_unit(choice.as_ref().map(|(i, v)| (i.as_str(), v.as_str())));
    conn.transaction(|conn| {
        let mut code = TypedCode::derived(&facts.nonce);
        for _ in 0..INSERT_ATTEMPTS {
            let new = NewInvitation {
                token: &token,
                code: code.as_str(),
                unit_code: &key.unit_code,
                officer_code: &officer.code,
                procedure_code: &procedure.code,
                channel: "desk",
                instrument_id: &instrument.meta.id,
                instrument_version: &instrument.meta.version,
                issued_at: facts.issued_at,
                expires_at,
                issued_by: &issued_by,
                fact_timing: None,
                fact_i2_points: None,
                preprinted: false,
                desk_key_id: Some(key.id),
            };
            if let Some(inv) = store::insert(conn, ctx.secret, &new)? {
                rollup::apply_invitation_issued(
                    conn,
                    &InvitationFacts {
                        issued_at: facts.issued_at,
                        unit_code: &key.unit_code,
                        officer_code: &officer.code,
                        procedure_code: &procedure.code,
                        channel: "desk",
                    },
                )?;
                audit(
                    conn,
                    &issued_by,
                    "invitation.issue_offline",
                    &format!("invitation:{}", inv.id),
                    serde_json::json!({
                        "desk_key_id": key.id,
                        "unit_code": key.unit_code,
                        "officer_code": officer.code,
                        "procedure_code": procedure.code,
                        "issued_at": facts.issued_at,
                        "arrived_by": ctx.arrival.as_str(),
                        "derived_code": code == TypedCode::derived(&facts.nonce),
                    }),
                )?;
                if ctx.arrival == Arrival::Record {
                    store::mark_offline_record(conn, inv.id, ctx.now)?;
                }
                return Ok(Outcome::Created(inv));
            }
            // the nonce arrived meanwhile by the other way, or the derived code is taken
            if let Some(existing) = store::by_token_hash(conn, &token_hash)? {
                return existing_one(conn, ctx, existing, &key);
            }
            code = TypedCode::generate();
        }
        Err(DbError::RollbackTransaction)
    })
}

/// The invitation a token made earlier, its code opened from the seal (the desk's record learns
/// which code was stored); a row whose seal does not open is refused like an unknown token.
fn existing_one(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    existing: store::StoredInvitation,
    key: &DeskKey,
) -> Result<Outcome, DbError> {
    let Some(existing) = existing.open(ctx.secret) else { return Ok(Outcome::Refused("not_found")) };
    record(conn, ctx, &existing, key)?;
    Ok(Outcome::Existing(existing))
}

/// Why a genuinely signed token is refused, if it is.
fn refusal(key: &DeskKey, facts: &SignedFacts, now: DateTime<Utc>) -> Option<&'static str> {
    let skew = Duration::seconds(FUTURE_SKEW_SECS);
    if facts.issued_at > now + skew {
        return Some("future_token");
    }
    if key.revoked_at.is_some_and(|revoked| facts.issued_at >= revoked) {
        return Some("revoked_key");
    }
    // a key signs nothing dated before it existed
    if facts.issued_at + skew < key.created_at {
        return Some("before_key");
    }
    None
}

/// The desk's queued record of an invitation a scan made first: noted and audited once.
fn record(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    inv: &Invitation,
    key: &DeskKey,
) -> Result<(), DbError> {
    if ctx.arrival == Arrival::Record && store::mark_offline_record(conn, inv.id, ctx.now)? {
        audit(
            conn,
            &format!("desk-key:{}", key.id),
            "invitation.offline_record",
            &format!("invitation:{}", inv.id),
            serde_json::json!({"desk_key_id": key.id}),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: [u8; NONCE_BYTES] = [7; NONCE_BYTES];

    fn signed(secret: [u8; 32], codes: [&str; 3]) -> (String, Vec<u8>) {
        use ed25519_dalek::{Signer, SigningKey};
        let key = SigningKey::from_bytes(&secret);
        let (mut body, message) = unsigned(3, 1_796_000_000, &NONCE, codes);
        body.extend_from_slice(&key.sign(&message).to_bytes());
        (URL_SAFE_NO_PAD.encode(body), key.verifying_key().to_bytes().to_vec())
    }

    #[test]
    fn a_signed_token_reads_back_its_facts_and_verifies_with_its_key_only() {
        let (token, public) = signed([1; 32], ["CHIEMHOA", "CB01", "1.001193"]);
        assert!(token.len() < 160, "{}", token.len());
        let facts = SignedFacts::parse(&token).unwrap();
        assert_eq!(
            (facts.key_id, facts.unit_code.as_str(), facts.officer_code.as_str()),
            (3, "CHIEMHOA", "CB01")
        );
        assert_eq!(facts.procedure_code, "1.001193");
        assert_eq!(facts.issued_at.timestamp(), 1_796_000_000);
        assert!(facts.verify(&public));
        let (_, other) = signed([2; 32], ["CHIEMHOA", "CB01", "1.001193"]);
        assert!(!facts.verify(&other));
        assert_eq!(facts.survey_token().len(), 22);
    }

    #[test]
    fn a_changed_byte_anywhere_breaks_the_signature_or_the_token() {
        let (token, public) = signed([1; 32], ["CHIEMHOA", "CB01", "1.001193"]);
        let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            let tampered = URL_SAFE_NO_PAD.encode(&bad);
            assert!(SignedFacts::parse(&tampered).is_none_or(|f| !f.verify(&public)), "byte {i}");
        }
        assert!(SignedFacts::parse("").is_none());
        assert!(SignedFacts::parse(&"A".repeat(TOKEN_MAX + 1)).is_none());
        assert!(SignedFacts::parse(&token[..token.len() - 4]).is_none_or(|f| !f.verify(&public)));
    }

    #[test]
    fn the_derived_code_is_a_valid_typed_code_and_the_same_every_time() {
        let code = TypedCode::derived(&NONCE);
        assert_eq!(TypedCode::parse(code.as_str()), Ok(code.clone()));
        assert_eq!(TypedCode::derived(&NONCE), code);
        assert_ne!(TypedCode::derived(&[8; NONCE_BYTES]), code);
    }
}
