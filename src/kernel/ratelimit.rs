//! Rate limits kept in the database (the service holds no state between requests that two
//! instances would need to agree on): fixed windows counted per client, where a client is a
//! salted hash of its address, never the address.
//!
//! Two tables hold the counters: `rate_limits` (a [`Limit`]'s bucket, such as issuing's wrong
//! typed codes, one hit at a time) and `submission_limits` (survey answers, counted one at a time
//! or a whole batch of the answer writers in one statement).

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;

use crate::schema::{rate_limits, submission_limits};

/// A limit: at most `max` counted hits per client in each window of `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i32,
    pub window_secs: i64,
}

/// Windows of a [`Limit`] older than this are deleted as new hits are counted.
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

/// The salted hash that stands for a client address in a limit's counters.
pub fn client_hash(secret: &[u8], bucket: &str, address: &str) -> String {
    crate::kernel::hashing::keyed_hash(secret, &["rate-limit", bucket, address])
}

/// Hits counted so far for a client in a window.
pub fn hits(
    conn: &mut PgConnection,
    bucket: &str,
    client_hash: &str,
    window_start: DateTime<Utc>,
) -> QueryResult<i32> {
    rate_limits::table
        .find((bucket, client_hash, window_start))
        .select(rate_limits::hits)
        .first(conn)
        .optional()
        .map(|h| h.unwrap_or(0))
}

/// Counts one hit for a client in a window and returns the new total; forgets windows that
/// ended before `forget_before`.
pub fn hit(
    conn: &mut PgConnection,
    bucket: &str,
    client_hash: &str,
    window_start: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> QueryResult<i32> {
    diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(forget_before))).execute(conn)?;
    diesel::insert_into(rate_limits::table)
        .values((
            rate_limits::bucket.eq(bucket),
            rate_limits::client_hash.eq(client_hash),
            rate_limits::window_start.eq(window_start),
            rate_limits::hits.eq(1),
        ))
        .on_conflict((rate_limits::bucket, rate_limits::client_hash, rate_limits::window_start))
        .do_update()
        .set(rate_limits::hits.eq(rate_limits::hits + 1))
        .returning(rate_limits::hits)
        .get_result(conn)
}

/// The submission counters of one process: counting, and the watermark of its purges of old
/// windows. Held by the application state and shared by its answer writers.
#[derive(Debug)]
pub struct Submissions {
    /// The latest `before` this process purged with, as Unix seconds.
    purged_before: AtomicI64,
}

impl Default for Submissions {
    fn default() -> Self {
        Submissions { purged_before: AtomicI64::new(i64::MIN) }
    }
}

impl Submissions {
    /// Counts one submission of a client in the window starting at `window_start` and returns the
    /// window's count so far. When the call opens a new window, windows that ended before
    /// `purge_before` are deleted, so the table holds only recent hours.
    pub fn count(
        &self,
        conn: &mut PgConnection,
        client_hash: &str,
        window_start: DateTime<Utc>,
        purge_before: DateTime<Utc>,
    ) -> QueryResult<i32> {
        let count: i32 = diesel::insert_into(submission_limits::table)
            .values((
                submission_limits::client_hash.eq(client_hash),
                submission_limits::window_start.eq(window_start),
                submission_limits::count.eq(1),
            ))
            .on_conflict((submission_limits::client_hash, submission_limits::window_start))
            .do_update()
            .set(submission_limits::count.eq(submission_limits::count + 1))
            .returning(submission_limits::count)
            .get_result(conn)?;
        if count == 1 {
            self.purge(conn, purge_before)?;
        }
        Ok(count)
    }

    /// Counts several submissions at once: `(client_hash, window_start, how many)`, each pair at
    /// most once; returns each pair's count after adding, in the order given. One statement, so a
    /// batch of answers (see `responses::committer`) costs one round trip here.
    pub fn count_batch(
        &self,
        conn: &mut PgConnection,
        counts: &[(&str, DateTime<Utc>, i32)],
    ) -> QueryResult<Vec<i32>> {
        use diesel::upsert::excluded;
        let rows: Vec<_> = counts
            .iter()
            .map(|(client, window, n)| {
                (
                    submission_limits::client_hash.eq(*client),
                    submission_limits::window_start.eq(*window),
                    submission_limits::count.eq(*n),
                )
            })
            .collect();
        let returned: Vec<(String, DateTime<Utc>, i32)> = diesel::insert_into(submission_limits::table)
            .values(rows)
            .on_conflict((submission_limits::client_hash, submission_limits::window_start))
            .do_update()
            .set(submission_limits::count.eq(submission_limits::count + excluded(submission_limits::count)))
            .returning((
                submission_limits::client_hash,
                submission_limits::window_start,
                submission_limits::count,
            ))
            .get_results(conn)?;
        let by_key: std::collections::HashMap<(&str, DateTime<Utc>), i32> =
            returned.iter().map(|(c, w, n)| ((c.as_str(), *w), *n)).collect();
        Ok(counts.iter().map(|(c, w, n)| by_key.get(&(*c, *w)).copied().unwrap_or(*n)).collect())
    }

    /// Deletes the windows that ended before `before`, unless this process already purged up to
    /// `before`: every new client opens a window, and a delete per batch cost more than the rest
    /// of the rate limiting at peak. The purge is housekeeping only (counts are per window, so old
    /// rows change no decision); another instance purging on its own schedule changes nothing
    /// either.
    pub fn purge(&self, conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<()> {
        let cutoff = before.timestamp();
        if self.purged_before.fetch_max(cutoff, Ordering::Relaxed) >= cutoff {
            return Ok(());
        }
        diesel::delete(submission_limits::table.filter(submission_limits::window_start.lt(before)))
            .execute(conn)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_their_boundary() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 7, 30).single().unwrap_or_default();
        let quarter = Limit { bucket: "test", max: 10, window_secs: 15 * 60 };
        let start = quarter.window_start(at);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).single().unwrap_or_default());
        assert_eq!(quarter.retry_after(at), 7 * 60 + 30);
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
