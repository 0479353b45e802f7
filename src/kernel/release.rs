//! The release rule for an officer's own figures (findings 2 and 7 of SECURITY.md): what an
//! officer reads about their own results must never move by one answer, or reading it before and
//! after serving a resident would give that resident's answers away.
//!
//! **The rule.** An officer's answers are cut into *release blocks* of whole, closed local days
//! (never today): walking their days in order, a block ends at the end of the first day on which
//! at least `k` answers (every answer the officer received, flagged or not) have gathered since
//! the previous block ended; `k` is the unit's `min_n` (the smallest group whose rates are shown).
//! Answers after the last block end wait for the next one. Every figure an officer reads about
//! themself covers whole blocks only: a range `from`–`to` is read as the blocks whose last day
//! lies in it (from the day after the last block end before `from` to the last block end on or
//! before `to`), and a period grouping counts each block in the period of its last day. So any
//! two figures an officer can read (before and after an answer, two ranges, two periods) differ
//! by whole blocks of at least `k` answers, and their figures advance only in such steps.
//!
//! Block ends depend only on the days answers were submitted, which never change, so a block once
//! released stays as it is. Leaders and admins read live figures; the public page shows closed
//! quarters only (`reporting::public`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamptz};

/// Where an officer's released figures end: the last day of each of their release blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// The last day of each block, ascending.
    ends: Vec<NaiveDate>,
    /// The officer's first answer day (the first block begins there).
    first: Option<NaiveDate>,
}

impl Release {
    /// The blocks of answers counted per local day (`days` ascending, closed days only), at
    /// least `k` answers each (`k` of 0 counts as 1).
    pub fn from_days(days: &[(NaiveDate, i64)], k: u64) -> Release {
        let k = i64::try_from(k.max(1)).unwrap_or(i64::MAX);
        let mut ends = Vec::new();
        let mut gathered = 0i64;
        for (day, n) in days {
            gathered += n;
            if gathered >= k {
                ends.push(*day);
                gathered = 0;
            }
        }
        Release { ends, first: days.first().map(|(d, _)| *d) }
    }

    /// The last released day; `None` before the first block is complete.
    pub fn through(&self) -> Option<NaiveDate> {
        self.ends.last().copied()
    }

    /// The released part of local dates `from` to `to`: whole blocks whose last day lies in the
    /// range (see the module's rule); `None` when no block ends in it.
    pub fn snap(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let to = *self.ends.iter().rev().find(|e| **e <= to)?;
        let from = match self.ends.iter().rev().find(|e| **e < from) {
            Some(end) => end.succ_opt()?,
            None => self.first.map_or(from, |first| first.min(from)),
        };
        (from <= to).then_some((from, to))
    }

    /// The last day of the block an answer of local day `day` belongs to, once released.
    pub fn block_end(&self, day: NaiveDate) -> Option<NaiveDate> {
        self.ends.iter().find(|e| **e >= day).copied()
    }

    /// True when an answer submitted on local day `day` is released.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.through().is_some_and(|t| day <= t)
    }

    /// The release blocks of `officer`'s answers submitted before `before` (the start of today), at
    /// least `k` answers each. One indexed read of `responses (officer_code, submitted_at)`.
    pub fn of_officer(
        conn: &mut PgConnection,
        officer: &str,
        k: u64,
        before: DateTime<Utc>,
    ) -> QueryResult<Self> {
        let rows: Vec<DayCount> = diesel::sql_query(format!(
            "SELECT {day} AS day, count(*)::bigint AS n FROM responses \
             WHERE officer_code = $1 AND submitted_at < $2 GROUP BY 1 ORDER BY 1",
            day = super::time::local_day_sql("submitted_at"),
        ))
        .bind::<Text, _>(officer)
        .bind::<Timestamptz, _>(before)
        .load(conn)?;
        let days: Vec<(NaiveDate, i64)> = rows.into_iter().map(|r| (r.day, r.n)).collect();
        Ok(Self::from_days(&days, k))
    }

    /// [`Self::of_officer`] as of now: every closed local day.
    pub fn of_officer_now(conn: &mut PgConnection, officer: &str, k: u64) -> QueryResult<Self> {
        Self::of_officer(conn, officer, k, super::time::midnight(super::time::today()))
    }
}

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
    }

    #[test]
    fn blocks_end_once_k_answers_have_gathered_and_the_rest_waits() {
        let r =
            Release::from_days(&[(d(1, 2), 3), (d(1, 5), 1), (d(1, 9), 2), (d(1, 12), 4), (d(1, 20), 2)], 5);
        // 3+1+2 = 6 ≥ 5 ends on 9 January; 4+2 = 6 ends on 20 January
        assert_eq!(r.ends, vec![d(1, 9), d(1, 20)]);
        assert_eq!(r.through(), Some(d(1, 20)));
        let r = Release::from_days(&[(d(1, 2), 3), (d(1, 5), 1)], 5);
        assert_eq!(r.through(), None, "four answers are not a block");
        assert_eq!(r.snap(d(1, 1), d(12, 31)), None);
        assert!(!r.covers(d(1, 2)));
    }

    #[test]
    fn ranges_snap_to_whole_blocks_and_neighbouring_periods_share_none() {
        let r = Release::from_days(&[(d(1, 2), 5), (d(1, 30), 2), (d(2, 3), 3), (d(2, 20), 5)], 5);
        assert_eq!(r.ends, vec![d(1, 2), d(2, 3), d(2, 20)]);
        // January: only the block ending on 2 January (the one ending on 3 February is February's)
        assert_eq!(r.snap(d(1, 1), d(1, 31)), Some((d(1, 1), d(1, 2))));
        assert_eq!(r.snap(d(2, 1), d(2, 28)), Some((d(1, 3), d(2, 20))));
        // a range inside one block releases nothing
        assert_eq!(r.snap(d(1, 10), d(1, 31)), None);
        // a range starting inside a block starts where that block begins
        assert_eq!(r.snap(d(1, 31), d(3, 31)), Some((d(1, 3), d(2, 20))));
        assert!(r.covers(d(2, 20)) && !r.covers(d(2, 21)));
        assert_eq!(r.block_end(d(1, 30)), Some(d(2, 3)));
        assert_eq!(r.block_end(d(2, 21)), None);
    }
}
