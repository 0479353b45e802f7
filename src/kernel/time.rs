//! The commune's clock: Asia/Ho_Chi_Minh, UTC+7 all year (no daylight saving). Every local day,
//! period and date the service shows or counts by is reckoned here, and nowhere else.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};

/// Local time of the commune (checked when compiling).
pub const LOCAL: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// The years a date given by a caller (a range, a period, an export's dates) may fall in: the
/// service's data cannot lie outside them, and the edges of chrono's and PostgreSQL's calendars
/// (year 0000, 9999 plus a period) are kept far away (SECURITY.md, finding 8).
pub const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// True when a caller's date lies in [`PLAUSIBLE_YEARS`].
pub fn plausible_day(day: NaiveDate) -> bool {
    use chrono::Datelike as _;
    PLAUSIBLE_YEARS.contains(&day.year())
}

/// The local date of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&LOCAL).date_naive()
}

/// Today's local date.
pub fn today() -> NaiveDate {
    local_day(Utc::now())
}

/// The instant a local day begins (its local midnight), in UTC.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    (day.and_time(NaiveTime::MIN) - Duration::seconds(i64::from(LOCAL.local_minus_utc()))).and_utc()
}

/// Start and end (exclusive) of the local day of an instant, in UTC.
pub fn day_bounds(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = midnight(local_day(at));
    (start, start + Duration::days(1))
}

/// UTC bounds `[start, end)` of local dates `from` to `to`, both included.
pub fn range_bounds(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (midnight(from), midnight(to.succ_opt().unwrap_or(to)))
}

/// The local day of a timestamptz column, in SQL.
pub fn local_day_sql(column: &str) -> String {
    format!("(({column} AT TIME ZONE 'UTC') + interval '7 hours')::date")
}

/// `28/11/2026` in local time: how residents read a date, and the finest time shown for
/// anything a resident wrote.
pub fn local_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&LOCAL).format("%d/%m/%Y").to_string()
}

/// `28/11/2026 07:50` in local time.
pub fn local_datetime(at: DateTime<Utc>) -> String {
    at.with_timezone(&LOCAL).format("%d/%m/%Y %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_local_day_runs_from_local_midnight() {
        // 2026-03-31 17:30 UTC is 2026-04-01 00:30 in the commune
        let at = Utc.with_ymd_and_hms(2026, 3, 31, 17, 30, 0).unwrap();
        assert_eq!(local_day(at), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        let (start, end) = day_bounds(at);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 3, 31, 17, 0, 0).unwrap());
        assert_eq!(end - start, Duration::days(1));
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(range_bounds(day, day), (start, end));
        // 2026-11-27 18:30 UTC is 2026-11-28 01:30 local
        let (start, _) = day_bounds(Utc.with_ymd_and_hms(2026, 11, 27, 18, 30, 0).unwrap());
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 27, 17, 0, 0).unwrap());
    }

    #[test]
    fn dates_are_shown_in_local_time() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 20, 30, 0).unwrap();
        assert_eq!(local_datetime(t), "28/11/2026 03:30");
        assert_eq!(local_date(t), "28/11/2026");
        // 20:00 UTC on 31 Dec is already 1 Jan in Viet Nam.
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 20, 0, 0).unwrap();
        assert_eq!(local_date(at), "01/01/2027");
    }
}
