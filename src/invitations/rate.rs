//! Rate limits kept in the database (the service holds no state between requests): fixed windows
//! counted per client, where a client is a salted hash of its address, never the address.

use chrono::{DateTime, Duration, TimeZone, Utc};

/// A limit: at most `max` counted hits per client in each window of `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window_secs: i64,
}

/// Wrong typed codes: 10 per client per 15 minutes. With 31^7 codes and even a million live
/// invitations, a guesser's chance of landing on one is about 4 × 10^-5 per attempt, so under
/// one in 25 a day per address — for the reward of answering someone else's survey once. A
/// resident who mistypes gets ten tries before a short wait.
pub const TYPED_CODE: Limit = Limit { bucket: "typed-code", max: 10, window_secs: 15 * 60 };

/// Windows older than this are deleted as new hits are counted.
pub const FORGET_AFTER_HOURS: i64 = 24;

impl Limit {
    /// Start of the window `now` falls in.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let secs = now.timestamp();
        let start = secs - secs.rem_euclid(self.window_secs);
        Utc.timestamp_opt(start, 0).single().unwrap_or(now)
    }

    /// Seconds until the window `now` falls in ends (for `Retry-After`).
    pub fn retry_after(&self, now: DateTime<Utc>) -> i64 {
        (self.window_start(now) + Duration::seconds(self.window_secs) - now).num_seconds().max(1)
    }
}

/// The salted hash that stands for a client address in the counters.
pub fn client_hash(secret: &[u8], bucket: &str, address: &str) -> String {
    crate::auth::keyed_hash(secret, &["rate-limit", bucket, address])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_their_boundary() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 7, 30).single().unwrap_or_default();
        let start = TYPED_CODE.window_start(at);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).single().unwrap_or_default());
        assert_eq!(TYPED_CODE.retry_after(at), 7 * 60 + 30);
    }

    #[test]
    fn a_client_hash_depends_on_the_secret_and_hides_the_address() {
        let a = client_hash(b"secret one", "typed-code", "203.0.113.7");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(a, client_hash(b"secret two", "typed-code", "203.0.113.7"));
        assert_ne!(a, client_hash(b"secret one", "typed-code", "203.0.113.8"));
    }
}
