//! Domain types of issuing, valid once built: the token in the survey address, the short typed
//! code, the channel and the case number. Pure functions, no database, no actix.

use std::fmt;

use rand::Rng;

/// Random bytes in a token: 128 bits, written as 22 URL-safe base64 characters.
pub const TOKEN_BYTES: usize = 16;

/// A fresh, unguessable survey token.
pub fn new_token() -> String {
    crate::kernel::hashing::random_token(TOKEN_BYTES)
}

/// Whether `s` could be a token at all (the database refuses anything else), so that junk in an
/// address is answered without a query.
pub fn is_token_shaped(s: &str) -> bool {
    (22..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The alphabet of typed codes: digits and capitals without the look-alikes 0/O and 1/I/L.
/// Its size, 31, is prime, which is what lets the check character catch every single mistyped
/// character and every swap of two neighbours.
pub const CODE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Random characters in a typed code (31^7 ≈ 2.8 × 10^10 codes), followed by one check character.
pub const CODE_PAYLOAD: usize = 7;
/// Length of a typed code, check character included.
pub const CODE_LEN: usize = CODE_PAYLOAD + 1;

/// A short code a resident can type instead of scanning the QR: [`CODE_LEN`] characters of
/// [`CODE_ALPHABET`], the last a check character, stored and compared upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedCode(String);

/// Why a typed code was refused. Callers show the same kind page for each, so a guesser learns
/// nothing from the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Not [`CODE_LEN`] characters once spaces and dashes are dropped.
    Length,
    /// A character outside the alphabet (0, O, 1, I, L, punctuation, letters with marks…).
    Character,
    /// The check character does not match: a typing mistake.
    Check,
}

fn alphabet_index(c: u8) -> Option<u32> {
    CODE_ALPHABET.iter().position(|&a| a == c).map(|i| i as u32)
}

/// Weighted sum of the code's values, weights 1, 2, 3…, modulo 31. A valid code sums to 0.
fn weighted_sum(values: &[u32]) -> u32 {
    values.iter().enumerate().map(|(i, v)| (i as u32 + 1) * v).sum::<u32>() % 31
}

/// The check value that makes the weighted sum of `payload` followed by it zero modulo 31.
fn check_value(payload: &[u32]) -> u32 {
    let weight = payload.len() as u32 + 1;
    // inverse of the check character's weight modulo the prime 31 (Fermat: w^29)
    let inverse = (0..29).fold(1u32, |acc, _| acc * weight % 31);
    (31 - weighted_sum(payload)) % 31 * inverse % 31
}

impl TypedCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let payload: Vec<u32> = (0..CODE_PAYLOAD)
            .map(|_| {
                loop {
                    // rejection sampling keeps every character equally likely
                    let mut b = [0u8; 1];
                    rng.fill_bytes(&mut b);
                    let v = u32::from(b[0] & 0x1f);
                    if v < 31 {
                        break v;
                    }
                }
            })
            .collect();
        Self::from_payload(&payload)
    }

    /// The code of an offline slip, derived from its token's nonce so that the desk (in its
    /// browser, `web/static/desk-offline.js`) and the service compute the same one: the first
    /// [`CODE_PAYLOAD`] bytes of SHA-256(`sipas-offline-code` ‖ nonce), each modulo 31, then the
    /// check character.
    pub fn derived(nonce: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"sipas-offline-code");
        h.update(nonce);
        let digest = h.finalize();
        let payload: Vec<u32> = digest.iter().take(CODE_PAYLOAD).map(|b| u32::from(*b) % 31).collect();
        Self::from_payload(&payload)
    }

    fn from_payload(payload: &[u32]) -> Self {
        let check = check_value(payload);
        let text = payload.iter().chain(std::iter::once(&check)).map(|&v| CODE_ALPHABET[v as usize] as char);
        TypedCode(text.collect())
    }

    /// Reads what a person typed: case does not matter; spaces and dashes (including the long
    /// dashes phones substitute) are dropped.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let normalised: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if normalised.chars().count() != CODE_LEN {
            return Err(CodeError::Length);
        }
        let values: Vec<u32> =
            normalised.bytes().map(alphabet_index).collect::<Option<_>>().ok_or(CodeError::Character)?;
        if weighted_sum(&values) != 0 {
            return Err(CodeError::Check);
        }
        Ok(TypedCode(normalised))
    }

    /// The stored form: upper-case, no separator (e.g. `7KQ2XW9M`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form, in two halves that are easier to read out and type (e.g. `7KQ2-XW9M`).
    pub fn display(stored: &str) -> String {
        if stored.len() == CODE_LEN && stored.is_ascii() {
            format!("{}-{}", &stored[..4], &stored[4..])
        } else {
            stored.to_string()
        }
    }
}

impl fmt::Display for TypedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::display(&self.0))
    }
}

/// How the invitation reached the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Channel {
    #[default]
    Desk,
    Online,
    Postal,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Desk, Channel::Online, Channel::Postal];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Desk => "desk",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }
}

/// Longest case number (mã hồ sơ) the database keeps.
pub const CASE_NUMBER_MAX: usize = 64;

/// A case number as the one-stop system gives it, trimmed; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber(String);

impl CaseNumber {
    /// `Ok(None)` for an absent or blank case number (the invitation is then not bound to one).
    pub fn parse(input: Option<&str>) -> Result<Option<Self>, String> {
        let Some(s) = input.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if s.chars().count() > CASE_NUMBER_MAX {
            return Err(format!("case_number is longer than {CASE_NUMBER_MAX} characters."));
        }
        if s.chars().any(char::is_control) {
            return Err("case_number contains a control character.".into());
        }
        Ok(Some(CaseNumber(s.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower case without Vietnamese marks, so "dang ky" finds "Đăng ký" and "KHAI SINH" finds
/// "khai sinh".
pub fn fold_for_search(s: &str) -> String {
    const GROUPS: &[(&str, char)] = &[
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ìíịỉĩ", 'i'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ỳýỵỷỹ", 'y'),
        ("đ", 'd'),
    ];
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| GROUPS.iter().find(|(from, _)| from.contains(c)).map_or(c, |&(_, to)| to))
        .collect()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn a_token_carries_128_random_bits_in_url_safe_characters() {
        let t = new_token();
        assert_eq!(t.len(), 22);
        assert!(is_token_shaped(&t));
        let decoded = URL_SAFE_NO_PAD.decode(&t).unwrap_or_default();
        assert_eq!(decoded.len(), TOKEN_BYTES);
        assert_ne!(new_token(), t);
    }

    #[test]
    fn junk_is_not_token_shaped() {
        assert!(!is_token_shaped("short"));
        assert!(!is_token_shaped("aaaaaaaaaaaaaaaaaaaaa/aaa"));
        assert!(!is_token_shaped(&"a".repeat(65)));
    }

    #[test]
    fn generated_codes_avoid_look_alikes_and_pass_their_own_check() {
        for _ in 0..2000 {
            let code = TypedCode::generate();
            assert_eq!(code.as_str().len(), CODE_LEN);
            assert!(!code.as_str().contains(['0', 'O', '1', 'I', 'L']));
            assert_eq!(TypedCode::parse(code.as_str()), Ok(code));
        }
    }

    #[test]
    fn a_code_is_read_whatever_its_case_spaces_and_dashes() {
        let code = TypedCode::generate();
        let typed = format!(" {} ", code.to_string().to_lowercase().replace('-', " - "));
        assert_eq!(TypedCode::parse(&typed), Ok(code.clone()));
        assert_eq!(TypedCode::parse(&code.to_string().replace('-', "–")), Ok(code.clone()));
        assert_eq!(TypedCode::parse(&code.to_string()), Ok(code));
    }

    #[test]
    fn every_single_mistyped_character_is_caught() {
        let code = TypedCode::generate();
        let bytes = code.as_str().as_bytes();
        for pos in 0..CODE_LEN {
            for &other in CODE_ALPHABET.iter().filter(|&&c| c != bytes[pos]) {
                let mut typo = bytes.to_vec();
                typo[pos] = other;
                let typo = String::from_utf8(typo).unwrap_or_default();
                assert_eq!(TypedCode::parse(&typo), Err(CodeError::Check), "{typo} passed for {code}");
            }
        }
    }

    #[test]
    fn every_swap_of_two_neighbours_is_caught() {
        for _ in 0..200 {
            let code = TypedCode::generate();
            let bytes = code.as_str().as_bytes();
            for pos in 0..CODE_LEN - 1 {
                if bytes[pos] == bytes[pos + 1] {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(pos, pos + 1);
                let swapped = String::from_utf8(swapped).unwrap_or_default();
                assert_eq!(TypedCode::parse(&swapped), Err(CodeError::Check));
            }
        }
    }

    #[test]
    fn look_alikes_wrong_lengths_and_marks_are_refused() {
        assert_eq!(TypedCode::parse("ABC"), Err(CodeError::Length));
        assert_eq!(TypedCode::parse("ABCDEFGHJ"), Err(CodeError::Length));
        assert_eq!(TypedCode::parse("0BCDEFGH"), Err(CodeError::Character));
        assert_eq!(TypedCode::parse("ABCDEFGL"), Err(CodeError::Character));
        assert_eq!(TypedCode::parse("ÀBCDEFGH"), Err(CodeError::Character));
        assert_eq!(TypedCode::parse(""), Err(CodeError::Length));
    }

    #[test]
    fn the_check_character_of_a_known_payload_is_stable() {
        // 2222222 has values 0, so its check character is the first of the alphabet.
        assert_eq!(TypedCode::from_payload(&[0; 7]).as_str(), "22222222");
        let code = TypedCode::from_payload(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(weighted_sum(&code.as_str().bytes().filter_map(alphabet_index).collect::<Vec<_>>()), 0);
    }

    #[test]
    fn a_code_prints_in_two_halves() {
        assert_eq!(TypedCode::display("7KQ2XW9M"), "7KQ2-XW9M");
    }

    #[test]
    fn channels_default_to_desk_and_refuse_others() {
        assert_eq!(Channel::default(), Channel::Desk);
        assert_eq!(Channel::parse("postal"), Some(Channel::Postal));
        assert_eq!(Channel::parse("email"), None);
    }

    #[test]
    fn a_blank_case_number_is_no_case_number_and_a_long_one_is_refused() {
        assert_eq!(CaseNumber::parse(None), Ok(None));
        assert_eq!(CaseNumber::parse(Some("   ")), Ok(None));
        assert_eq!(
            CaseNumber::parse(Some(" 000.00.12.H58-261128-0001 ")).map(|c| c.map(|c| c.0)),
            Ok(Some("000.00.12.H58-261128-0001".to_string()))
        );
        assert!(CaseNumber::parse(Some(&"x".repeat(65))).is_err());
        assert!(CaseNumber::parse(Some("a\u{0}b")).is_err());
    }

    #[test]
    fn search_ignores_case_and_vietnamese_marks() {
        assert_eq!(fold_for_search("Đăng ký KHAI SINH"), "dang ky khai sinh");
        assert_eq!(fold_for_search("Chứng thực bản sao"), "chung thuc ban sao");
        assert_eq!(fold_for_search("1.001193"), "1.001193");
    }
}
