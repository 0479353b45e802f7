//! What the invitations table keeps of a survey's two secrets, the token on the slip's QR code
//! (`/s/{token}`) and the short typed code (`/c/{code}`): neither in clear (issue 21, finding
//! 14). Lookups go through keyed hashes, one per purpose ([`token_hash`], [`code_hash`]: one
//! SHA-256 each, so the answer path costs no extra round trip); the clear pair is sealed once,
//! together ([`seal`]: AES-256-GCM under a key derived from the service secret with its own
//! label, a random 96-bit nonce stored before the ciphertext, the row's id as associated data),
//! for the flows that must show it again ([`open`]: the re-issue of a case number, the customer
//! screen's latest slip, a printed slip). Whoever has a copy of the database but not the secret
//! gets neither; changing `SECRET_KEY` invalidates every open slip and every sealed pair.
//!
//! Rows written before this was built still hold the clear columns; [`convert_clear_rows`] turns
//! them into hashes and a seal at start-up, in batches, before the service serves.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Nullable, Text};
use rand::Rng;
use sha2::{Digest, Sha256};

use super::hashing::keyed_hash;

/// The label of the token's lookup hash.
pub const TOKEN_LABEL: &str = "survey-token";
/// The label of the typed code's lookup hash.
pub const CODE_LABEL: &str = "survey-code";
/// The label the seal's key is derived with.
const SEAL_LABEL: &str = "survey-seal";
const NONCE_BYTES: usize = 12;

/// The stored form of a survey token: `keyed_hash(secret, ["survey-token", token])`.
pub fn token_hash(secret: &[u8], token: &str) -> String {
    keyed_hash(secret, &[TOKEN_LABEL, token])
}

/// The stored form of a typed code (upper-case, without separator):
/// `keyed_hash(secret, ["survey-code", code])`.
pub fn code_hash(secret: &[u8], code: &str) -> String {
    keyed_hash(secret, &[CODE_LABEL, code])
}

fn cipher(secret: &[u8]) -> Aes256Gcm {
    // the same length-prefixed construction as keyed_hash, raw bytes instead of hex
    let mut h = Sha256::new();
    for part in [secret, SEAL_LABEL.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let key: [u8; 32] = h.finalize().into();
    Aes256Gcm::new(&key.into())
}

fn aad(id: i64) -> Vec<u8> {
    [SEAL_LABEL.as_bytes(), b"\0", &id.to_be_bytes()].concat()
}

/// The token and code of invitation `id`, sealed together: a random nonce, then the ciphertext
/// and its tag. Moved to another row, it does not open.
pub fn seal(secret: &[u8], id: i64, token: &str, code: &str) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    let plain = format!("{token}\0{code}");
    // AES-GCM fails only for a message beyond 64 GB; a token and a code are a few dozen bytes
    let sealed = cipher(secret)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: &aad(id) })
        .unwrap_or_default();
    [nonce.as_slice(), &sealed].concat()
}

/// The (token, code) sealed for invitation `id`; `None` when the seal was made under another
/// secret, for another row, or altered.
pub fn open(secret: &[u8], id: i64, sealed: &[u8]) -> Option<(String, String)> {
    if sealed.len() <= NONCE_BYTES {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let plain =
        cipher(secret).decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: &aad(id) }).ok()?;
    let plain = String::from_utf8(plain).ok()?;
    let (token, code) = plain.split_once('\0')?;
    Some((token.to_string(), code.to_string()))
}

/// Rows converted per statement at start-up.
pub const CONVERT_BATCH: i64 = 1000;

#[derive(QueryableByName)]
struct ClearRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    token: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
}

/// Converts every invitation still holding its token or code in clear (written before the
/// hashes existed): hashes and a seal written, the clear columns and an offline slip's nonce
/// (which is its token) emptied, [`CONVERT_BATCH`] rows per transaction. Safe to run from two
/// instances at once (`SKIP LOCKED`) and again (converted rows are left alone). Returns how many
/// rows it converted.
pub fn convert_clear_rows(conn: &mut PgConnection, secret: &[u8]) -> QueryResult<usize> {
    let mut converted = 0;
    loop {
        let done = conn.transaction(|conn| {
            let rows: Vec<ClearRow> = diesel::sql_query(
                "SELECT id, token, code FROM invitations WHERE token IS NOT NULL OR code IS NOT NULL \
                 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            )
            .bind::<BigInt, _>(CONVERT_BATCH)
            .load(conn)?;
            if rows.is_empty() {
                return Ok::<_, diesel::result::Error>(0);
            }
            let mut ids = Vec::with_capacity(rows.len());
            let mut token_hashes: Vec<Option<String>> = Vec::with_capacity(rows.len());
            let mut code_hashes: Vec<Option<String>> = Vec::with_capacity(rows.len());
            let mut seals: Vec<Option<Vec<u8>>> = Vec::with_capacity(rows.len());
            for row in &rows {
                ids.push(row.id);
                token_hashes.push(row.token.as_deref().map(|t| token_hash(secret, t)));
                code_hashes.push(row.code.as_deref().map(|c| code_hash(secret, c)));
                seals.push(match (&row.token, &row.code) {
                    (Some(t), Some(c)) => Some(seal(secret, row.id, t, c)),
                    _ => None,
                });
            }
            diesel::sql_query(
                "UPDATE invitations i SET \
                   token_hash = coalesce(c.token_hash, i.token_hash), \
                   code_hash = coalesce(c.code_hash, i.code_hash), \
                   sealed = coalesce(c.sealed, i.sealed), \
                   token = NULL, code = NULL, offline_nonce = NULL \
                 FROM unnest($1::int8[], $2::text[], $3::text[], $4::bytea[]) \
                   AS c (id, token_hash, code_hash, sealed) \
                 WHERE i.id = c.id",
            )
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<Nullable<Text>>, _>(&token_hashes)
            .bind::<Array<Nullable<Text>>, _>(&code_hashes)
            .bind::<Array<Nullable<Bytea>>, _>(&seals)
            .execute(conn)
        })?;
        if done == 0 {
            return Ok(converted);
        }
        converted += done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_pair_opens_for_its_row_and_secret_only() {
        let sealed = seal(b"secret", 7, "tok_abcdefghijklmnopqrs", "ABCD2345");
        assert_eq!(sealed.len(), 12 + 23 + 1 + 8 + 16);
        assert_eq!(
            open(b"secret", 7, &sealed),
            Some(("tok_abcdefghijklmnopqrs".to_string(), "ABCD2345".to_string()))
        );
        assert_eq!(open(b"secret", 8, &sealed), None, "another row");
        assert_eq!(open(b"other", 7, &sealed), None, "another secret");
        let mut altered = sealed.clone();
        altered[20] ^= 1;
        assert_eq!(open(b"secret", 7, &altered), None);
        assert_eq!(open(b"secret", 7, &sealed[..10]), None);
        assert_ne!(seal(b"secret", 7, "tok_abcdefghijklmnopqrs", "ABCD2345"), sealed, "fresh nonce");
        let clear = String::from_utf8_lossy(&sealed);
        assert!(!clear.contains("tok_") && !clear.contains("ABCD"));
    }

    #[test]
    fn the_two_hashes_differ_by_purpose_and_secret() {
        assert_ne!(token_hash(b"s", "ABCD2345"), code_hash(b"s", "ABCD2345"));
        assert_ne!(token_hash(b"s", "x"), token_hash(b"t", "x"));
        assert_eq!(token_hash(b"s", "x"), keyed_hash(b"s", &["survey-token", "x"]));
        // what the benchmarks compute in SQL:
        // sha256(int8send(1) || 's' || int8send(12) || 'survey-token' || int8send(1) || 'x')
        let mut h = Sha256::new();
        for part in [b"s".as_slice(), b"survey-token", b"x"] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        assert_eq!(token_hash(b"s", "x"), hex::encode(h.finalize()));
    }
}
