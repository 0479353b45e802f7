//! Staff passwords: the policy a new password must meet, and Argon2id hashing.
//!
//! `common-passwords.txt` is the list of the 20,000 most common passwords (lower-cased,
//! deduplicated) compiled by Royce Williams, as shipped by Django
//! (`django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted.
pub const MIN_LEN: usize = 10;
/// Longest password accepted (Argon2 takes any length; this bounds the work per request).
pub const MAX_LEN: usize = 200;

const COMMON: &str = include_str!("common-passwords.txt");

/// Why a new password was refused; the message is shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "Mật khẩu phải có ít nhất {MIN_LEN} ký tự, không kể dấu cách (the password needs at least {MIN_LEN} characters besides spaces)."
    )]
    TooShort,
    #[error("Mật khẩu quá dài, tối đa {MAX_LEN} ký tự (the password may have at most {MAX_LEN} characters).")]
    TooLong,
    #[error("Mật khẩu này quá phổ biến, dễ bị đoán (the password is one of the most common ones).")]
    Common,
    #[error("Mật khẩu không được chứa tên đăng nhập (the password may not contain the username).")]
    ContainsUsername,
    #[error("Mật khẩu không được chứa ký tự điều khiển (the password may not contain control characters).")]
    ControlCharacters,
}

/// True when `password` is on the common-passwords list (compared case-insensitively).
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON.lines().any(|line| line == lower)
}

/// Checks a new password for `username`.
pub fn check_policy(username: &str, password: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    // spaces do not count towards the length: ten spaces (or a word padded with them) is no password
    if password.chars().filter(|c| !c.is_whitespace()).count() < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LEN {
        return Err(PolicyError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PolicyError::ControlCharacters);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PolicyError::ContainsUsername);
    }
    if is_common(password) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes a password to a PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// True when `password` matches the stored PHC string; a malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    hasher().verify_password(password.as_bytes(), phc).is_ok()
}

/// A well-formed hash that no password is expected to match: checking a password against it
/// takes as long as a real check, so an unknown username is refused in the same time as a
/// wrong password (no timing hint about which usernames exist).
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2lwYXNkdW1teXNhbHQ$Yb7S0Yt7y1bQ2Mfx0bKc3nR4y7o2pW2kP7Vb6r0n0aU";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_username_passwords_are_refused() {
        assert_eq!(check_policy("lan", "abc"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("lan", "          "), Err(PolicyError::TooShort));
        assert_eq!(check_policy("lan", "  abc  def     "), Err(PolicyError::TooShort));
        assert_eq!(check_policy("lan", "1234567890"), Err(PolicyError::Common));
        assert_eq!(check_policy("lan", "QWERTYUIOP"), Err(PolicyError::Common));
        assert_eq!(check_policy("nguyenlan", "NguyenLan2026!"), Err(PolicyError::ContainsUsername));
        assert_eq!(check_policy("lan", "đèn-xanh-núi-đá"), Ok(()));
    }

    #[test]
    fn the_common_list_is_loaded_and_lower_case() {
        assert!(COMMON.lines().count() > 19_000);
        assert!(is_common("Password1234"));
        assert!(!is_common("đèn-xanh-núi-đá"));
    }

    #[test]
    fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let h = hash("đèn-xanh-núi-đá").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify("đèn-xanh-núi-đá", &h));
        assert!(!verify("đèn-xanh-núi-đa", &h));
        assert!(!verify("anything", "not a hash"));
        assert_ne!(h, hash("đèn-xanh-núi-đá").unwrap_or_default(), "salts differ");
    }
}
