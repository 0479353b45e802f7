//! `GET /api/v1/stats`: extract → validate → read counts → compute → respond. The JSON shape is
//! DESIGN.md §5; figures are rounded here, at the edge, and nowhere else.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Serialize;

use super::model::{self, GroupBy, GroupCounts, GroupStats, Rate, band_kind, period_label, round_to};
use super::store::{self, CountQuery, CountRow, Filters};
use crate::app::AppState;
use crate::auth::Caller;
use crate::db;
use crate::error::AppError;
use crate::instrument::{Instrument, Instruments};

/// The longest range a query may cover (a guard on the number of period groups, not a limit
/// anyone should meet).
const MAX_RANGE_DAYS: i64 = 366 * 100;

/// A checked statistics request.
#[derive(Debug, Clone)]
pub struct StatsRequest {
    pub query: CountQuery,
    pub include_flagged: bool,
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

fn parse_date(params: &HashMap<String, String>, name: &str) -> Result<NaiveDate, AppError> {
    let value = params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        bad("missing_parameter", format!("`{name}` is required: a local date as YYYY-MM-DD."))
    })?;
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().filter(|_| value.len() == 10).ok_or_else(|| {
        bad("invalid_date", format!("`{name}` must be a date as YYYY-MM-DD, such as 2026-01-31."))
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

/// Checks the query string; every problem is a 400 naming the parameter.
pub fn parse_request(params: &HashMap<String, String>) -> Result<StatsRequest, AppError> {
    const KNOWN: [&str; 9] =
        ["from", "to", "group_by", "unit", "procedure", "field", "officer", "channel", "include_flagged"];
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
    Ok(StatsRequest { query: CountQuery { from, to, group_by, filters }, include_flagged })
}

/// Sums count rows into groups; periods in the range and the `all` group are listed even when
/// empty, other groups only when they have data.
pub fn group_counts(request: &StatsRequest, rows: &[CountRow]) -> BTreeMap<String, GroupCounts> {
    let q = &request.query;
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
            request.include_flagged,
            model::Amount { n: r.n, scored: r.scored, points: r.points },
        );
    }
    groups
}

/// Computes every group's statistics.
pub fn compute_groups(
    instrument: &Instrument,
    request: &StatsRequest,
    counts: &BTreeMap<String, GroupCounts>,
    min_n: u64,
) -> Vec<(String, GroupStats)> {
    let bands = band_kind(request.query.group_by, request.query.filters.officer.is_some());
    counts.iter().map(|(k, c)| (k.clone(), model::compute(instrument, c, min_n, bands))).collect()
}

// ------------------------------------------------------------------------------------------ JSON

#[derive(Serialize)]
pub struct StatsBody {
    pub from: String,
    pub to: String,
    pub group_by: &'static str,
    pub groups: Vec<GroupBody>,
}

#[derive(Serialize)]
pub struct GroupBody {
    pub key: String,
    pub label: String,
    pub responses: u64,
    pub invitations: u64,
    pub response_rate: Option<f64>,
    pub suppressed: bool,
    pub flagged: u64,
    // The rates below are left out of a suppressed group (fewer responses than `min_n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overall: Option<RateBody>,
    /// `Some(None)` is written as `null`: no element has data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sipas_index: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elements: Option<BTreeMap<String, ElementBody>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<BTreeMap<String, RateBody>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<BTreeMap<String, RateBody>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tt01: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
pub struct RateBody {
    pub rate: Option<f64>,
    pub n: u64,
    pub ci95: Option<[f64; 2]>,
    pub counts: BTreeMap<String, u64>,
}

#[derive(Serialize)]
pub struct ElementBody {
    pub index: Option<f64>,
    pub n: u64,
}

fn rate_body(r: &Rate, d: u32) -> RateBody {
    RateBody {
        rate: r.rate.map(|v| round_to(v, d)),
        n: r.n,
        ci95: r.ci95.map(|(lo, hi)| [round_to(lo, d), round_to(hi, d)]),
        counts: r.counts.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
    }
}

/// Writes one group out, rounding every figure to the instrument's decimals.
pub fn group_body(instrument: &Instrument, key: String, label: String, s: &GroupStats) -> GroupBody {
    let d = instrument.computation.percent_decimals;
    let f = s.figures.as_ref();
    GroupBody {
        key,
        label,
        responses: s.responses,
        invitations: s.invitations,
        response_rate: s.response_rate.map(|v| round_to(v, d)),
        suppressed: s.suppressed(),
        flagged: s.flagged,
        overall: f.map(|f| rate_body(&f.overall, d)),
        sipas_index: f.map(|f| f.sipas_index.map(|v| round_to(v, d))),
        elements: f.map(|f| {
            f.elements
                .iter()
                .map(|(c, e)| (c.clone(), ElementBody { index: e.index.map(|v| round_to(v, d)), n: e.n }))
                .collect()
        }),
        criteria: f.map(|f| f.criteria.iter().map(|(c, r)| (c.clone(), rate_body(r, d))).collect()),
        items: f.map(|f| f.items.iter().map(|(c, r)| (c.clone(), rate_body(r, d))).collect()),
        tt01: f.map(|f| {
            let t = &f.tt01;
            let mut m = serde_json::Map::new();
            for (code, score) in &t.scores {
                m.insert(code.clone(), serde_json::json!(score));
            }
            m.insert("total".into(), serde_json::json!(t.total));
            m.insert("scored".into(), serde_json::json!(t.scored));
            m.insert(
                "band".into(),
                match &t.band {
                    Some((vi, en)) => serde_json::json!({ "vi": vi, "en": en }),
                    None => serde_json::Value::Null,
                },
            );
            m
        }),
    }
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

/// Reads the counts and writes out the answer (on a blocking thread, with a connection).
pub fn build_body(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    request: &StatsRequest,
    min_n: u64,
    source: Source,
) -> Result<StatsBody, AppError> {
    let instrument = instruments.current();
    let rows = match source {
        Source::Rollup => store::rollup_counts(conn, &request.query)?,
        Source::Raw => store::raw_counts(conn, instruments, &request.query)?,
    };
    let counts = group_counts(request, &rows);
    let keys: Vec<String> = counts.keys().cloned().collect();
    let mut names = store::labels(conn, request.query.group_by, &keys)?;
    if request.query.group_by == GroupBy::None {
        let label = match &request.query.filters.unit {
            Some(unit) => store::unit_name(conn, unit)?.unwrap_or_else(|| unit.clone()),
            None => "Tất cả".to_string(),
        };
        names.insert("all".into(), label);
    }
    let stats = compute_groups(instrument, request, &counts, min_n);
    let groups = stats
        .iter()
        .map(|(key, s)| {
            let label = label_of(request.query.group_by, key, &names);
            group_body(instrument, key.clone(), label, s)
        })
        .collect();
    Ok(StatsBody {
        from: request.query.from.format("%Y-%m-%d").to_string(),
        to: request.query.to.format("%Y-%m-%d").to_string(),
        group_by: request.query.group_by.as_str(),
        groups,
    })
}

/// The smallest group whose rates are shown: the configured `MIN_N`, else the instrument's.
pub fn min_n(state: &AppState) -> u64 {
    u64::from(state.config.min_n.unwrap_or(state.instruments.current().computation.min_n))
}

/// `GET /api/v1/stats`. An API key reads its own unit only.
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let mut request = parse_request(&params)?;
    match &request.query.filters.unit {
        Some(unit) if !caller.may_act_for_unit(unit) => {
            return Err(AppError::forbidden("This caller may read the figures of its own unit only."));
        }
        Some(_) => {}
        // an admin (no unit scope) reads every unit
        None => request.query.filters.unit = caller.unit_scope().map(str::to_string),
    }
    // an officer reads their own figures only
    if let Some(own) = caller.officer_scope() {
        if request.query.filters.officer.as_deref().is_some_and(|o| o != own) {
            return Err(AppError::forbidden("An officer may read their own figures only."));
        }
        request.query.filters.officer = Some(own.to_string());
    }
    let instruments = state.instruments.clone();
    let min_n = min_n(&state);
    let body =
        db::run(&state.pool, move |conn| build_body(conn, &instruments, &request, min_n, Source::Rollup))
            .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn code_of(pairs: &[(&str, &str)]) -> &'static str {
        parse_request(&params(pairs)).map(|_| "ok").unwrap_or_else(|e| e.code())
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
