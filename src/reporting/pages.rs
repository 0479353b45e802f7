//! The leader's "Báo cáo & xuất dữ liệu" page: every way the unit's figures leave the service,
//! one click from the menu — the province export (period and format), the printable periodic
//! report, and the public results page with its JSON twin. And the province staff's two pages:
//! the ranking with its period picker, and the upload.

use askama::Template;
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use super::content::Period;
use crate::http::pages::Layout;
use crate::schema::units;

/// Quarters, half-years and years offered, newest first.
const QUARTERS: usize = 8;
const HALVES: usize = 4;
const YEARS: usize = 3;

/// The periods a unit reports, grouped as the picker shows them: (group label, [(key, label)]).
/// The current period comes first and says it is still running.
pub fn period_choices(today: NaiveDate) -> Vec<(&'static str, Vec<(String, String)>)> {
    let y = today.year();
    let quarter = format!("{y}-Q{}", (today.month() - 1) / 3 + 1);
    let half = format!("{y}-H{}", if today.month() <= 6 { 1 } else { 2 });
    let run = |key: String, n: usize| -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(n);
        let mut p = Period::parse(&key);
        while let Some(period) = p {
            if out.len() == n {
                break;
            }
            let label =
                if out.is_empty() { format!("{} (đang diễn ra)", period.label()) } else { period.label() };
            out.push((period.key.clone(), label));
            p = period.previous();
        }
        out
    };
    vec![("Quý", run(quarter, QUARTERS)), ("6 tháng", run(half, HALVES)), ("Năm", run(y.to_string(), YEARS))]
}

/// The period the pickers start on: the last quarter that has ended (what is reported next).
pub fn default_period(today: NaiveDate) -> String {
    period_choices(today)
        .first()
        .and_then(|(_, quarters)| quarters.get(1))
        .map(|(key, _)| key.clone())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "reporting/reports.html")]
pub struct ReportsPage {
    pub layout: Layout,
    /// The unit the page acts for, and its name.
    pub unit: String,
    pub unit_name: String,
    /// For an admin: every unit (code, name), to choose another.
    pub units: Vec<(String, String)>,
    pub periods: Vec<(&'static str, Vec<(String, String)>)>,
    pub period: String,
    /// Whether the unit publishes its public results page.
    pub public_on: bool,
}

/// The province's ranking page: the period picker, the ranking of the chosen period (none when
/// the address named a bad period, which `message` then explains in Vietnamese) and a `note`.
#[derive(Template)]
#[template(path = "reporting/province_ranking.html")]
pub struct ProvinceRankingPage {
    pub layout: Layout,
    pub periods: Vec<(&'static str, Vec<(String, String)>)>,
    pub period: String,
    pub message: Option<String>,
    pub note: Option<String>,
    pub ranking: Option<super::report::RankingView>,
}

/// The province's upload page, and the limits it states.
#[derive(Template)]
#[template(path = "reporting/upload.html")]
pub struct UploadPage {
    pub layout: Layout,
    pub js: String,
    pub file_mb: usize,
    pub request_mb: usize,
    pub max_files: usize,
}

/// The province's registry of communes' export keys, with the registration form (its fields kept
/// after a refusal) and a revoke button per live key.
#[derive(Template)]
#[template(path = "reporting/keys.html")]
pub struct KeysPage {
    pub layout: Layout,
    pub units: Vec<(String, String)>,
    pub keys: Vec<KeyRow>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub form_unit: String,
    pub form_key_id: String,
    pub form_public_key: String,
}

/// One registered key as the page lists it.
pub struct KeyRow {
    pub unit: String,
    pub key_id: String,
    pub registered_at: String,
    pub registered_by: String,
    pub revoked_at: Option<String>,
}

/// The ranking's picker: the recent periods as the leader's page offers them, each saying how
/// many communes' exports are stored for it, then any other period that has exports (and the
/// chosen one, when it is neither). `imported`: (period, communes), as
/// `province::imported_periods` gives them.
pub fn ranking_choices(
    today: NaiveDate,
    imported: &[(String, i64)],
    chosen: Option<&str>,
) -> Vec<(&'static str, Vec<(String, String)>)> {
    let with_count = |key: &str, label: String| match imported.iter().find(|(k, _)| k == key) {
        Some((_, n)) => format!("{label} — {n} xã đã nộp"),
        None => label,
    };
    let mut groups = period_choices(today);
    for (_, options) in &mut groups {
        for (key, label) in options.iter_mut() {
            *label = with_count(key, std::mem::take(label));
        }
    }
    let offered = |key: &str, groups: &[(&str, Vec<(String, String)>)]| {
        groups.iter().any(|(_, o)| o.iter().any(|(k, _)| k == key))
    };
    let mut other: Vec<(String, String)> = Vec::new();
    let keys = imported.iter().map(|(k, _)| k.as_str()).chain(chosen);
    for key in keys {
        if offered(key, &groups) || other.iter().any(|(k, _)| k == key) {
            continue;
        }
        if let Some(p) = Period::parse(key) {
            other.push((key.to_string(), with_count(key, p.label())));
        }
    }
    if !other.is_empty() {
        groups.push(("Kỳ khác", other));
    }
    groups
}

/// The period the ranking opens on: the latest with imports (`imported` comes newest first),
/// else the last quarter that has ended.
pub fn ranking_default(today: NaiveDate, imported: &[(String, i64)]) -> String {
    imported.first().map(|(k, _)| k.clone()).unwrap_or_else(|| default_period(today))
}

/// Every unit's code and name, by name.
pub fn units(conn: &mut PgConnection) -> QueryResult<Vec<(String, String)>> {
    units::table.order((units::name.asc(), units::code.asc())).select((units::code, units::name)).load(conn)
}

/// A unit's name and whether its public page is on; `None` for an unknown unit.
pub fn unit_facts(conn: &mut PgConnection, unit: &str) -> QueryResult<Option<(String, bool)>> {
    units::table.find(unit).select((units::name, units::public_page)).first(conn).optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_offers_recent_quarters_halves_and_years_newest_first() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default();
        let groups = period_choices(today);
        assert_eq!(groups.len(), 3);
        let (_, quarters) = &groups[0];
        assert_eq!(quarters.len(), QUARTERS);
        assert_eq!(quarters[0], ("2026-Q4".to_string(), "Quý 4/2026 (đang diễn ra)".to_string()));
        assert_eq!(quarters[1].0, "2026-Q3");
        assert_eq!(quarters[7].0, "2025-Q1");
        assert_eq!(groups[1].1[0].0, "2026-H2");
        assert_eq!(groups[1].1[3].0, "2025-H1");
        assert_eq!(groups[2].1.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["2026", "2025", "2024"]);
        assert_eq!(default_period(today), "2026-Q3");
    }

    #[test]
    fn the_ranking_picker_counts_submissions_and_opens_on_the_latest_period_with_imports() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default();
        assert_eq!(ranking_default(today, &[]), "2026-Q3");
        let imported = vec![("2026-Q3".to_string(), 3), ("2026-H1".to_string(), 2), ("2019".to_string(), 1)];
        assert_eq!(ranking_default(today, &imported), "2026-Q3");
        let groups = ranking_choices(today, &imported, Some("2018-Q2"));
        let label = |key: &str| {
            groups.iter().flat_map(|(_, o)| o.iter()).find(|(k, _)| k == key).map(|(_, l)| l.clone())
        };
        assert_eq!(label("2026-Q3").as_deref(), Some("Quý 3/2026 — 3 xã đã nộp"));
        assert_eq!(label("2026-Q2").as_deref(), Some("Quý 2/2026"));
        assert_eq!(label("2026-H1").as_deref(), Some("6 tháng đầu năm 2026 — 2 xã đã nộp"));
        let (name, other) = groups.last().cloned().unwrap_or_default();
        assert_eq!(name, "Kỳ khác");
        assert_eq!(other.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["2019", "2018-Q2"]);
        assert_eq!(other[0].1, "Năm 2019 — 1 xã đã nộp");
    }
}
