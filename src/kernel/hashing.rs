//! The service's cryptographic habits, in one place (SECURITY.md points here): salted hashes that
//! stand for a client without keeping it, random tokens, and plain SHA-256 fingerprints.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// The one salted hash that stands for a client (address, device) wherever the service must
/// recognise one without keeping it: SHA-256 over the secret and the fields, each prefixed with
/// its length so no two field lists collide. Callers put a label first (`"login"`, `"rate-limit"`,
/// …) so hashes made for one purpose cannot be matched against another's.
pub fn keyed_hash(secret: &[u8], fields: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in std::iter::once(secret).chain(fields.iter().map(|f| f.as_bytes())) {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// `bytes` random bytes from the operating system's generator, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The SHA-256 of `bytes`, in lower-case hex (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyed_hash_depends_on_the_secret_and_keeps_fields_apart() {
        let a = keyed_hash(b"one", &["client", "203.0.113.7"]);
        assert_eq!(a.len(), 64);
        assert!(!a.contains("203"));
        assert_ne!(a, keyed_hash(b"two", &["client", "203.0.113.7"]));
        assert_ne!(keyed_hash(b"s", &["ab", "c"]), keyed_hash(b"s", &["a", "bc"]));
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (random_token(16), random_token(16));
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(random_token(32).len(), 43);
        assert_eq!(sha256_hex(b"abc").len(), 64);
    }
}
