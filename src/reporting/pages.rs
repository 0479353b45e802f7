//! The leader's "Báo cáo & xuất dữ liệu" page: every way the unit's figures leave the service,
//! one click from the menu — the province export (period and format), the printable periodic
//! report, and the public results page with its JSON twin.

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
}
