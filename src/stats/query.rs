//! Statistics queries, the read interface of this capability: a typed [`StatsQuery`] (read from
//! a query string by [`StatsQuery::parse`], or built by the dashboard and the reports), answered
//! by [`run`] as a [`Report`] (DESIGN.md §5's shape). `GET /api/v1/stats` is its face.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate};

use super::model::{self, GroupCounts, GroupStats, band_kind, period_label};
pub use super::model::{Formula, GroupBy};
use super::report::{Coverage, Group, Released, Report};
use super::store::{self, CountRow};
use crate::config::Config;
use crate::error::AppError;
use crate::instrument::{Instrument, Instruments};
pub use crate::kernel::release::Release;

/// The longest range a query may cover (a guard on the number of period groups, not a limit
/// anyone should meet).
const MAX_RANGE_DAYS: i64 = 366 * 100;

/// One statistics question: local dates `from` to `to`, both included, grouped and filtered,
/// with or without the flagged responses held out of the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    pub filters: Filters,
    pub include_flagged: bool,
    /// How statements are scored (the share of levels 4–5 unless asked otherwise).
    pub formula: Formula,
}

/// Optional restrictions of a query; each names one code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub unit: Option<String>,
    pub procedure: Option<String>,
    pub field: Option<String>,
    pub officer: Option<String>,
    pub channel: Option<String>,
}

impl StatsQuery {
    /// The whole of `from` to `to`, ungrouped, without filters or flagged responses.
    pub fn new(from: NaiveDate, to: NaiveDate, group_by: GroupBy) -> StatsQuery {
        StatsQuery {
            from,
            to,
            group_by,
            filters: Filters::default(),
            include_flagged: false,
            formula: Formula::default(),
        }
    }

    /// Reads a query string (`GET /api/v1/stats`'s, `sipas stats`'s); every problem is a 400
    /// naming the parameter.
    pub fn parse(params: &HashMap<String, String>) -> Result<StatsQuery, AppError> {
        parse(params)
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

fn parse_date(params: &HashMap<String, String>, name: &str) -> Result<NaiveDate, AppError> {
    let value = params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        bad("missing_parameter", format!("`{name}` is required: a local date as YYYY-MM-DD."))
    })?;
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| value.len() == 10 && crate::kernel::time::plausible_day(*d))
        .ok_or_else(|| {
            bad(
                "invalid_date",
                format!("`{name}` must be a date as YYYY-MM-DD between 2000 and 2100, such as 2026-01-31."),
            )
        })
}

fn parse_code(params: &HashMap<String, String>, name: &str) -> Result<Option<String>, AppError> {
    match params.get(name) {
        None => Ok(None),
        Some(v)
            if !v.is_empty()
                && v.len() <= 32
                && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            Ok(Some(v.clone()))
        }
        Some(_) => Err(bad(
            "invalid_filter",
            format!("`{name}` must be a code of letters, digits, '.', '_' or '-'."),
        )),
    }
}

fn parse(params: &HashMap<String, String>) -> Result<StatsQuery, AppError> {
    const KNOWN: [&str; 10] = [
        "from",
        "to",
        "group_by",
        "unit",
        "procedure",
        "field",
        "officer",
        "channel",
        "include_flagged",
        "formula",
    ];
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad("unknown_parameter", format!("`{unknown}` is not a parameter of this endpoint.")));
    }
    let from = parse_date(params, "from")?;
    let to = parse_date(params, "to")?;
    if from > to {
        return Err(bad("invalid_range", "`from` must not be after `to`."));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(bad("invalid_range", "The range may cover at most 100 years."));
    }
    let group_by = match params.get("group_by").map(String::as_str) {
        None | Some("") => GroupBy::None,
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            bad(
                "invalid_group_by",
                "`group_by` must be one of none, procedure, field, officer, unit, channel, month, quarter, half, year.",
            )
        })?,
    };
    let channel = parse_code(params, "channel")?;
    if channel.as_deref().is_some_and(|c| !model::CHANNELS.iter().any(|(k, _)| *k == c)) {
        return Err(bad("invalid_filter", "`channel` must be desk, online or postal."));
    }
    let include_flagged = match params.get("include_flagged").map(String::as_str) {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(bad("invalid_filter", "`include_flagged` must be true or false.")),
    };
    let filters = Filters {
        unit: parse_code(params, "unit")?,
        procedure: parse_code(params, "procedure")?,
        field: parse_code(params, "field")?,
        officer: parse_code(params, "officer")?,
        channel,
    };
    let formula = parse_formula(params.get("formula"))?;
    Ok(StatsQuery { from, to, group_by, filters, include_flagged, formula })
}

/// Reads the `formula` parameter of the statistics, export and report endpoints: `share45`
/// (the default) or `mean100`; anything else is a 400 `invalid_formula`.
pub fn parse_formula(value: Option<&String>) -> Result<Formula, AppError> {
    match value.map(String::as_str) {
        None | Some("") => Ok(Formula::default()),
        Some(f) => Formula::parse(f).ok_or_else(|| {
            bad(
                "invalid_formula",
                "`formula` must be share45 (the share of answers at levels 4 and 5) or mean100 (the mean level shown as 0–100).",
            )
        }),
    }
}

/// Sums count rows into groups; periods in the range and the `all` group are listed even when
/// empty, other groups only when they have data.
fn group_counts(q: &StatsQuery, rows: &[CountRow]) -> BTreeMap<String, GroupCounts> {
    let mut groups: BTreeMap<String, GroupCounts> = BTreeMap::new();
    if q.group_by == GroupBy::None {
        groups.insert("all".into(), GroupCounts::default());
    }
    for key in q.group_by.periods(q.from, q.to) {
        groups.insert(key, GroupCounts::default());
    }
    for r in rows {
        groups.entry(r.key.clone()).or_default().add(
            &r.item_code,
            r.level,
            r.held,
            q.include_flagged,
            model::Amount { n: r.n, scored: r.scored, points: r.points },
        );
    }
    groups
}

/// Computes every group's statistics.
fn compute_groups(
    instrument: &Instrument,
    q: &StatsQuery,
    counts: &BTreeMap<String, GroupCounts>,
    min_n: u64,
) -> Vec<(String, GroupStats)> {
    let bands = band_kind(q.group_by, q.filters.officer.is_some());
    counts.iter().map(|(k, c)| (k.clone(), model::compute(instrument, c, min_n, bands, q.formula))).collect()
}

/// The label of a group key.
fn label_of(group_by: GroupBy, key: &str, names: &BTreeMap<String, String>) -> String {
    if group_by.is_period() {
        return period_label(key).unwrap_or_else(|| key.to_string());
    }
    names.get(key).cloned().unwrap_or_else(|| key.to_string())
}

/// Where the counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The roll-ups (the service's path).
    Rollup,
    /// A scan of the raw answers (for the benchmark's comparison and cross-checks).
    Raw,
}

/// Answers a query: reads the counts (on a blocking thread, with a connection), computes every
/// group and writes them out. Groups with fewer than `min_n` responses show their counts only.
pub fn run(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    q: &StatsQuery,
    min_n: u64,
    source: Source,
) -> Result<Report, AppError> {
    let rows = match source {
        Source::Rollup => store::rollup_counts(conn, q)?,
        Source::Raw => store::raw_counts(conn, instruments, q)?,
    };
    report_of(conn, instruments, q, min_n, &rows)
}

/// The report of count rows read for `q`.
fn report_of(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    q: &StatsQuery,
    min_n: u64,
    rows: &[CountRow],
) -> Result<Report, AppError> {
    let instrument = instruments.combined();
    let counts = group_counts(q, rows);
    let keys: Vec<String> = counts.keys().cloned().collect();
    let mut names = store::labels(conn, q.group_by, &keys)?;
    if q.group_by == GroupBy::None {
        let label = match &q.filters.unit {
            Some(unit) => store::unit_name(conn, unit)?.unwrap_or_else(|| unit.clone()),
            None => "Tất cả".to_string(),
        };
        names.insert("all".into(), label);
    }
    let mut stats = compute_groups(instrument, q, &counts, min_n);
    if band_kind(q.group_by, q.filters.officer.is_some()) == Some(model::BandKind::Agency) {
        // indicator 8 from the unit's own follow-ups of the group's period
        let rows = store::followup_timeliness(conn, q, crate::kernel::time::today())?;
        let by_key: BTreeMap<&str, &store::FollowupRow> = rows.iter().map(|r| (r.key.as_str(), r)).collect();
        for (key, s) in &mut stats {
            let Some(f) = s.figures.as_mut() else { continue };
            let r = by_key.get(key.as_str()).copied().cloned().unwrap_or_default();
            let points = model::i8_points(
                u64::try_from(r.on_time).unwrap_or(0),
                u64::try_from(r.late).unwrap_or(0),
                u64::try_from(r.prolonged).unwrap_or(0),
            );
            f.tt01.set_unit_indicator(instrument, model::TT01_I8, Some(points), model::Source::Followups);
        }
        unit_indicators(conn, instrument, q, &mut stats)?;
    }
    let mut groups: Vec<Group> = stats
        .iter()
        .map(|(key, s)| {
            let label = label_of(q.group_by, key, &names);
            Group::of(instrument, key.clone(), label, s)
        })
        .collect();
    // evaluation coverage beside the scores: evaluations ÷ cases handled, null when none reported
    if let Some(cases) = store::cases_handled(conn, q)? {
        let d = instrument.computation.percent_decimals;
        for g in &mut groups {
            let reported = cases.iter().find(|c| c.key == g.key).map(|c| u64::try_from(c.cases).unwrap_or(0));
            g.coverage = Some(Coverage::of(g.responses, reported, d));
        }
    }
    Ok(Report {
        from: q.from.format("%Y-%m-%d").to_string(),
        to: q.to.format("%Y-%m-%d").to_string(),
        group_by: q.group_by.as_str(),
        formula: q.formula.as_str(),
        released: None,
        groups,
        statements: super::report::statement_versions(instruments),
    })
}

/// The unit and reporting period (quarter, half-year, year) a group's indicators 5, 6 and 9 are
/// read for: the group's unit (a group by unit, or the query's unit filter) and the period whose
/// days are exactly the group's. A month, a range that is no whole reporting period, a period cut
/// short by the range, or the whole installation (no unit) has none: a quarter's record is not
/// spread over a year, nor a year's over its quarters (docs/TT01.md).
fn unit_period(q: &StatsQuery, key: &str) -> Option<(String, String)> {
    let unit = if q.group_by == GroupBy::Unit { Some(key.to_string()) } else { q.filters.unit.clone() }?;
    let (from, to) = if q.group_by.is_period() {
        model::report_period_range(key).filter(|(a, b)| *a >= q.from && *b <= q.to)?
    } else if matches!(q.group_by, GroupBy::None | GroupBy::Unit) {
        (q.from, q.to)
    } else {
        return None;
    };
    model::report_period_of(from, to).map(|p| (unit, p))
}

/// Sets indicators 5, 6 and 9 of the groups judged as a unit from the unit's recorded scores
/// (`unit_scores`), with `source: "unit"`; a group without a record keeps them unscored.
fn unit_indicators(
    conn: &mut diesel::PgConnection,
    instrument: &Instrument,
    q: &StatsQuery,
    stats: &mut [(String, GroupStats)],
) -> Result<(), AppError> {
    let wanted: BTreeMap<String, (String, String)> =
        stats.iter().filter_map(|(key, _)| unit_period(q, key).map(|up| (key.clone(), up))).collect();
    let mut units: Vec<String> = wanted.values().map(|(u, _)| u.clone()).collect();
    let mut periods: Vec<String> = wanted.values().map(|(_, p)| p.clone()).collect();
    units.sort();
    units.dedup();
    periods.sort();
    periods.dedup();
    let scores = super::unit_scores::current_of(conn, &units, &periods)?;
    for (key, s) in stats.iter_mut() {
        let (Some(f), Some((unit, period))) = (s.figures.as_mut(), wanted.get(key)) else { continue };
        for (u, p, code, points) in &scores {
            if u == unit && p == period {
                f.tt01.set_unit_indicator(instrument, code, Some(f64::from(*points)), model::Source::Unit);
            }
        }
    }
    Ok(())
}

/// Answers an officer's query about their own figures under the release rule of
/// `kernel::release` (SECURITY.md, finding 2): only whole release blocks of `release` are read, a
/// range as the blocks ending in it, a period grouping with each block in the period of its last
/// day; groupings other than by period, officer or unit would split a block and must be refused
/// before (see [`splits_blocks`]). `block` is the release's `k`, written out with the report.
pub fn run_released(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    q: &StatsQuery,
    min_n: u64,
    release: &Release,
    block: u64,
) -> Result<Report, AppError> {
    let one =
        |conn: &mut diesel::PgConnection, from: NaiveDate, to: NaiveDate, group_by: GroupBy| match release
            .snap(from, to)
        {
            Some((from, to)) => {
                run(conn, instruments, &StatsQuery { from, to, group_by, ..q.clone() }, min_n, Source::Rollup)
            }
            None => report_of(conn, instruments, &StatsQuery { group_by, ..q.clone() }, min_n, &[]),
        };
    let mut report = if q.group_by.is_period() {
        // each period on its own, so that a block counts in the period of its last day
        let mut spans: Vec<(String, NaiveDate, NaiveDate)> = Vec::new();
        let mut month = q.from.with_day(1);
        while let Some(m) = month.filter(|m| *m <= q.to) {
            let next = m.checked_add_months(Months::new(1));
            let (a, b) = (m.max(q.from), next.and_then(|n| n.pred_opt()).unwrap_or(m).min(q.to));
            match (q.group_by.period_key(m), spans.last_mut()) {
                (Some(k), Some(last)) if last.0 == k => last.2 = b,
                (Some(k), _) => spans.push((k, a, b)),
                (None, _) => {}
            }
            month = next;
        }
        let mut groups = Vec::new();
        for (key, a, b) in spans {
            let period = one(conn, a, b, GroupBy::None)?;
            if let Some(mut g) = period.groups.into_iter().next() {
                g.label = period_label(&key).unwrap_or_else(|| key.clone());
                g.key = key;
                groups.push(g);
            }
        }
        let mut report = report_of(conn, instruments, q, min_n, &[])?;
        report.groups = groups;
        report
    } else {
        one(conn, q.from, q.to, q.group_by)?
    };
    if let Some((from, to)) = release.snap(q.from, q.to) {
        report.from = from.format("%Y-%m-%d").to_string();
        report.to = to.format("%Y-%m-%d").to_string();
    }
    report.released =
        Some(Released { through: release.through().map(|d| d.format("%Y-%m-%d").to_string()), block });
    Ok(report)
}

/// True when a query's grouping or filters would split an officer's release blocks (by
/// procedure, field or channel): two such figures could differ by a single answer.
pub fn splits_blocks(q: &StatsQuery) -> bool {
    let f = &q.filters;
    matches!(q.group_by, GroupBy::Procedure | GroupBy::Field | GroupBy::Channel)
        || f.procedure.is_some()
        || f.field.is_some()
        || f.channel.is_some()
}

/// The smallest group whose rates are shown: the configured `MIN_N`, else the instrument's.
pub fn min_n(config: &Config, instruments: &Instruments) -> u64 {
    u64::from(config.min_n.unwrap_or(instruments.current().computation.min_n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn code_of(pairs: &[(&str, &str)]) -> &'static str {
        StatsQuery::parse(&params(pairs)).map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn bad_parameters_are_named_errors() {
        assert_eq!(code_of(&[("from", "2026-01-01"), ("to", "2026-12-31")]), "ok");
        assert_eq!(code_of(&[("to", "2026-12-31")]), "missing_parameter");
        assert_eq!(code_of(&[("from", "2026-13-01"), ("to", "2026-12-31")]), "invalid_date");
        assert_eq!(code_of(&[("from", "2026-1-1"), ("to", "2026-12-31")]), "invalid_date");
        assert_eq!(code_of(&[("from", "2026-02-01"), ("to", "2026-01-31")]), "invalid_range");
        assert_eq!(
            code_of(&[("from", "2026-01-01"), ("to", "2026-01-01"), ("group_by", "week")]),
            "invalid_group_by"
        );
        assert_eq!(
            code_of(&[("from", "2026-01-01"), ("to", "2026-01-01"), ("channel", "fax")]),
            "invalid_filter"
        );
        assert_eq!(
            code_of(&[("from", "2026-01-01"), ("to", "2026-01-01"), ("officer", "a b")]),
            "invalid_filter"
        );
        assert_eq!(
            code_of(&[("from", "2026-01-01"), ("to", "2026-01-01"), ("colour", "red")]),
            "unknown_parameter"
        );
        assert_eq!(
            code_of(&[("from", "2026-01-01"), ("to", "2026-01-01"), ("include_flagged", "maybe")]),
            "invalid_filter"
        );
    }
}
