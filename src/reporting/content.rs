//! What a province export says: the typed content (documented by `docs/export.schema.json`), how
//! it is built from the statistics engine, and its canonical form and hash.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::instrument::Instruments;
use crate::schema::{instrument_versions, procedures, units};
use crate::stats::compare;
use crate::stats::model::{Formula, period_label};
use crate::stats::query::{self, Filters, GroupBy, Release, Source, StatsQuery};
use crate::stats::report;

/// The value of `schema` in every export document.
pub const SCHEMA: &str = "sipas-province-export/1";
/// What the service measures, as pages and exports must call it (DESIGN.md §3).
pub const MEASURE_VI: &str = "Chỉ số hài lòng về cung ứng dịch vụ hành chính công";
pub const MEASURE_EN: &str = "Satisfaction with the provision of public administrative services";
/// What [`MeasureInfo::note`] says: the part of SIPAS measured and how, under `formula`.
pub fn measure_note(formula: Formula) -> String {
    format!(
        "Phần dịch vụ hành chính công của SIPAS (không gồm phần chính sách); công thức: {} \
         Chỉ số yếu tố = trung bình các tiêu chí có dữ liệu, chỉ số SIPAS = trung bình các yếu tố có dữ liệu. \
         The administrative-service part of SIPAS only (policies are not covered); elements and the index \
         are the means of the statements' scores; counts per level are included so any other formula can be \
         recomputed.",
        formula.rule()
    )
}

/// A reporting period: a quarter, a half-year or a year, in local dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub key: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Parses `2026-Q1`, `2026-H2` or `2026`, in [`crate::kernel::time::PLAUSIBLE_YEARS`].
    pub fn parse(s: &str) -> Option<Period> {
        Period::parse_any_year(s).filter(|p| crate::kernel::time::plausible_day(p.from))
    }

    /// As [`Period::parse`], any four-digit year (the neighbours of a plausible period).
    fn parse_any_year(s: &str) -> Option<Period> {
        let (from, to) = crate::stats::model::period_days(s)?;
        Some(Period { key: s.to_string(), from, to })
    }

    /// The period just before (2026-Q1 → 2025-Q4, 2026-H1 → 2025-H2, 2026 → 2025).
    pub fn previous(&self) -> Option<Period> {
        let before = self.from.pred_opt()?;
        let y = before.year();
        let key = match self.key.split_once('-').map(|(_, p)| p) {
            None => format!("{y}"),
            Some(p) if p.starts_with('Q') => format!("{y}-Q{}", (before.month() - 1) / 3 + 1),
            Some(_) => format!("{y}-H{}", if before.month() <= 6 { 1 } else { 2 }),
        };
        Period::parse_any_year(&key)
    }

    /// The same period a year earlier.
    pub fn year_before(&self) -> Option<Period> {
        let y = self.from.year() - 1;
        let key = match self.key.split_once('-') {
            None => format!("{y}"),
            Some((_, p)) => format!("{y}-{p}"),
        };
        Period::parse_any_year(&key)
    }

    /// "Quý 1/2026", "6 tháng đầu năm 2026", "Năm 2026".
    pub fn label(&self) -> String {
        period_label(&self.key).unwrap_or_else(|| self.key.clone())
    }
}

/// The checked `period` parameter; a bad one is a 400 naming the accepted forms.
pub fn parse_period(value: Option<&String>) -> Result<Period, AppError> {
    let v = value.filter(|v| !v.is_empty()).ok_or_else(|| {
        AppError::bad_request("missing_parameter", "`period` is required: 2026-Q1, 2026-H1 or 2026.")
    })?;
    Period::parse(v).ok_or_else(|| {
        AppError::bad_request(
            "invalid_period",
            "`period` must be a quarter, half-year or year between 2000 and 2100: 2026-Q1, 2026-H1 or 2026.",
        )
    })
}

// ------------------------------------------------------------------------------------ the content

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub province_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodInfo {
    pub key: String,
    pub label: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureInfo {
    pub vi: String,
    pub en: String,
    pub note: String,
    /// How statements were scored: `share45` or `mean100` (docs/FORMULAS.md). Absent in files
    /// written before there were two, which all used `share45`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
}

impl MeasureInfo {
    /// The formula the file's figures follow (`share45` when it names none); `None` for a name
    /// this service does not know.
    pub fn formula(&self) -> Option<Formula> {
        match &self.formula {
            None => Some(Formula::Share45),
            Some(f) => Formula::parse(f),
        }
    }
}

/// A questionnaire version answered in the period, with its verification status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionInfo {
    pub instrument_id: String,
    pub version: String,
    pub sha256: String,
    pub has_unverified_items: bool,
    /// Items whose wording follows the best available copy, not the signed official text.
    pub unverified_items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub invitations: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
}

/// A rate with its count, interval and counts per level (level code as a string key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub rate: Option<f64>,
    pub n: u64,
    pub ci95: Option<[f64; 2]>,
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Element {
    pub index: Option<f64>,
    pub n: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandInfo {
    pub vi: String,
    pub en: String,
}

/// TT01 per-case indicators of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tt01 {
    pub indicators: BTreeMap<String, Option<f64>>,
    pub total: Option<f64>,
    pub scored: Vec<String>,
    /// Only when every indicator of the set is scored.
    pub band: Option<BandInfo>,
    /// How many indicators the set has (9 for a unit, 5 for an officer); absent in older exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<u64>,
    /// "x điểm trên n/9 chỉ tiêu (tối đa 2n)" when there is no band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<BandInfo>,
    /// Where each scored indicator comes from: `facts`, `resident`, `mixed`, `followups`, `unit`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
}

/// One group (the unit, a procedure, a field or an officer). A suppressed group (fewer responses
/// than `min_n`) has only its counts of responses and invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub key: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_code: Option<String>,
    pub responses: u64,
    pub invitations: u64,
    pub response_rate: Option<f64>,
    pub suppressed: bool,
    pub flagged: u64,
    pub sipas_index: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements: Option<BTreeMap<String, Element>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<BTreeMap<String, Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<BTreeMap<String, Rate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tt01: Option<Tt01>,
    /// Officers only: the procedure-mix-adjusted satisfaction beside the raw `overall`
    /// (`stats::compare::adjust`); absent in older exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<AdjustedFigures>,
    /// The unit and officers: evaluations ÷ cases handled (`cases/daily`), `cases` and `share`
    /// null when no caseload was reported; absent for procedures and fields and in older exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageFigures>,
}

/// Evaluation coverage of a group: the share of handed-back cases that were evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageFigures {
    /// Responses counted in the group's figures.
    pub evaluations: u64,
    /// Cases handled as reported; null: not reported.
    pub cases: Option<u64>,
    /// evaluations ÷ cases, percent; null without reported cases.
    pub share: Option<f64>,
}

impl CoverageFigures {
    /// "40,00% (4/10)", or "chưa báo cáo số hồ sơ (not reported)".
    pub fn text_vi(&self) -> String {
        report::Coverage { evaluations: self.evaluations, cases: self.cases, share: self.share }.text_vi()
    }
}

/// A group's `CASE.OVERALL` satisfaction adjusted for its mix of procedures: observed satisfied
/// answers, those expected from the unit's rate for each procedure weighted by the group's own
/// mix, their ratio (O/E) with its 95% interval, and the verdict in words' code (`above`,
/// `below`, `as_expected`, `too_few`). Labelled and explained by [`Content::adjustment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustedFigures {
    pub observed: u64,
    pub expected: f64,
    pub ratio: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub verdict: String,
}

impl From<&crate::stats::compare::Adjusted> for AdjustedFigures {
    fn from(a: &crate::stats::compare::Adjusted) -> Self {
        AdjustedFigures {
            observed: a.observed,
            expected: a.expected,
            ratio: a.ratio,
            ci95: a.ci95,
            verdict: a.verdict.to_string(),
        }
    }
}

/// Everything an export says; its canonical JSON is what `sha256` covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub export_id: String,
    pub generated_at: String,
    pub generated_by: String,
    pub unit: UnitInfo,
    pub period: PeriodInfo,
    pub measure: MeasureInfo,
    pub min_n: u64,
    pub officer_names: bool,
    pub instrument_versions: Vec<VersionInfo>,
    pub totals: Totals,
    pub unit_figures: Group,
    pub procedures: Vec<Group>,
    pub fields: Vec<Group>,
    pub officers: Vec<Group>,
    /// What the officers' `adjusted` figures are and how they are made; absent in older exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<AdjustmentInfo>,
}

/// The label and the one-paragraph explanation of the procedure-mix adjustment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInfo {
    pub label: String,
    pub explanation: String,
}

/// The JSON export: the content, the SHA-256 of its canonical form, and the unit's Ed25519
/// signature over the same canonical bytes (`reporting::signing`; absent in older exports, which
/// the province refuses as unsigned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub schema: String,
    pub canonicalization: String,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<super::signing::Block>,
    pub content: serde_json::Value,
}

pub const CANONICALIZATION: &str = "sha256 of the UTF-8 JSON text of `content` with object keys sorted at every level, no whitespace, non-ASCII characters unescaped (Python: json.dumps(content, sort_keys=True, separators=(',', ':'), ensure_ascii=False))";

/// The canonical text of a JSON value: keys sorted at every level, no whitespace.
pub fn canonical(value: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&map[*k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// SHA-256 (hex) of the canonical text.
pub fn content_hash(value: &serde_json::Value) -> String {
    crate::kernel::hashing::sha256_hex(canonical(value).as_bytes())
}

impl Content {
    /// The JSON document of this content.
    pub fn document(&self) -> Result<Document, AppError> {
        let value = serde_json::to_value(self).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(Document {
            schema: SCHEMA.into(),
            canonicalization: CANONICALIZATION.into(),
            sha256: content_hash(&value),
            signature: None,
            content: value,
        })
    }
}

// ----------------------------------------------------------------------------------- building it

fn rate(r: report::Rate) -> Rate {
    Rate { rate: r.rate, n: r.n, ci95: r.ci95, counts: r.counts }
}

/// Converts the statistics engine's group (already rounded) into the export's typed group.
pub fn group_of(g: report::Group) -> Group {
    let tt01 = g.tt01.map(|m| {
        let mut indicators = BTreeMap::new();
        let mut total = None;
        let mut scored = Vec::new();
        let mut band = None;
        let mut of = None;
        let mut summary = None;
        let mut sources = BTreeMap::new();
        for (k, v) in m {
            match k.as_str() {
                "of" => of = v.as_u64(),
                "summary" => summary = serde_json::from_value::<BandInfo>(v).ok(),
                "indicators" => {
                    for (code, d) in v.as_object().into_iter().flatten() {
                        if let Some(s) = d.get("source").and_then(|s| s.as_str()) {
                            sources.insert(code.clone(), s.to_string());
                        }
                    }
                }
                "total" => total = v.as_f64(),
                "scored" => {
                    scored = v
                        .as_array()
                        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
                        .unwrap_or_default()
                }
                "band" => band = serde_json::from_value::<BandInfo>(v).ok(),
                _ => {
                    indicators.insert(k, v.as_f64());
                }
            }
        }
        Tt01 { indicators, total, scored, band, of, summary, sources }
    });
    Group {
        key: g.key,
        label: g.label,
        field_code: None,
        responses: g.responses,
        invitations: g.invitations,
        response_rate: g.response_rate,
        suppressed: g.suppressed,
        flagged: g.flagged,
        sipas_index: g.sipas_index.flatten(),
        overall: g.overall.map(rate),
        elements: g
            .elements
            .map(|m| m.into_iter().map(|(k, e)| (k, Element { index: e.index, n: e.n })).collect()),
        criteria: g.criteria.map(|m| m.into_iter().map(|(k, r)| (k, rate(r))).collect()),
        items: g.items.map(|m| m.into_iter().map(|(k, r)| (k, rate(r))).collect()),
        tt01,
        adjusted: None,
        coverage: g.coverage.map(|c| CoverageFigures {
            evaluations: c.evaluations,
            cases: c.cases,
            share: c.share,
        }),
    }
}

/// The statistics of one unit over local dates, grouped as asked: exactly what
/// `GET /api/v1/stats?from=…&to=…&group_by=…` answers for that unit's API key.
pub fn stats_groups(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
    group_by: GroupBy,
    min_n: u64,
) -> Result<Vec<Group>, AppError> {
    stats_groups_of(conn, instruments, unit, None, from, to, group_by, min_n, Formula::default())
}

/// As [`stats_groups`], of one officer's answers only when `officer` is given (what an officer's
/// own API key or session may read, finding 3 of SECURITY.md).
#[allow(clippy::too_many_arguments, reason = "the query's parts, each a plain value")]
pub fn stats_groups_of(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    officer: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    group_by: GroupBy,
    min_n: u64,
    formula: Formula,
) -> Result<Vec<Group>, AppError> {
    let q = StatsQuery {
        formula,
        filters: Filters {
            unit: Some(unit.to_string()),
            officer: officer.map(str::to_string),
            ..Filters::default()
        },
        ..StatsQuery::new(from, to, group_by)
    };
    let report = match officer {
        // an officer's own figures: whole release blocks only (SECURITY.md, finding 2), by period,
        // officer or unit (a procedure or field breakdown would split a block: none)
        Some(_) if query::splits_blocks(&q) => return Ok(Vec::new()),
        Some(officer) => {
            let release = Release::of_officer_now(conn, officer, min_n)?;
            let q = StatsQuery { include_flagged: true, ..q };
            query::run_released(conn, instruments, &q, min_n, &release, min_n)?
        }
        None => query::run(conn, instruments, &q, min_n, Source::Rollup)?,
    };
    Ok(report.groups.into_iter().map(group_of).collect())
}

/// The whole-unit group of a period (always present).
pub fn unit_group(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    period: &Period,
    min_n: u64,
) -> Result<Group, AppError> {
    unit_group_of(conn, instruments, unit, None, period, min_n, Formula::default())
}

/// As [`unit_group`], of one officer's answers only when `officer` is given.
pub fn unit_group_of(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    officer: Option<&str>,
    period: &Period,
    min_n: u64,
    formula: Formula,
) -> Result<Group, AppError> {
    stats_groups_of(conn, instruments, unit, officer, period.from, period.to, GroupBy::None, min_n, formula)?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("the statistics engine gave no whole-unit group"))
}

/// The unit's row, or a 404.
pub fn unit_info(conn: &mut PgConnection, code: &str) -> Result<UnitInfo, AppError> {
    units::table
        .find(code)
        .select((units::code, units::name, units::province_code))
        .first::<(String, String, String)>(conn)
        .optional()?
        .map(|(code, name, province_code)| UnitInfo { code, name, province_code })
        .ok_or_else(|| AppError::not_found("unknown_unit", format!("Unit `{code}` does not exist.")))
}

/// The questionnaire versions the unit's responses of the period answered.
pub fn versions_used(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    period: &Period,
) -> Result<Vec<VersionInfo>, AppError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        instrument_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        instrument_version: String,
    }
    let after_to = period.to.succ_opt().unwrap_or(period.to);
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT DISTINCT instrument_id, instrument_version FROM responses \
         WHERE unit_code = $1 \
           AND submitted_at >= ($2::timestamp - interval '7 hours') AT TIME ZONE 'UTC' \
           AND submitted_at < ($3::timestamp - interval '7 hours') AT TIME ZONE 'UTC' \
         ORDER BY 1, 2",
    )
    .bind::<diesel::sql_types::Text, _>(unit)
    .bind::<diesel::sql_types::Text, _>(period.from.format("%Y-%m-%d").to_string())
    .bind::<diesel::sql_types::Text, _>(after_to.format("%Y-%m-%d").to_string())
    .load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let (sha256, has_unverified_items): (String, bool) = instrument_versions::table
            .find((&r.instrument_id, &r.instrument_version))
            .select((instrument_versions::sha256, instrument_versions::has_unverified_items))
            .first(conn)?;
        let unverified_items = instruments
            .get(&r.instrument_id, &r.instrument_version)
            .map(|i| i.items().filter(|it| it.verify).map(|it| it.code.clone()).collect())
            .unwrap_or_default();
        out.push(VersionInfo {
            instrument_id: r.instrument_id,
            version: r.instrument_version,
            sha256,
            has_unverified_items,
            unverified_items,
        });
    }
    Ok(out)
}

/// What an export needs besides the database.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub unit: String,
    pub period: Period,
    pub min_n: u64,
    pub officer_names: bool,
    pub actor: String,
    /// An officer's own export or report: every figure is of this officer's answers only, and
    /// the officer list holds only them (finding 3 of SECURITY.md), released in whole blocks of
    /// closed days with no procedure or field breakdown (finding 2, `kernel::release`). `None`
    /// for the whole unit.
    pub officer: Option<String>,
    /// How statements are scored.
    pub formula: Formula,
}

/// The days figures of `from`–`to` cover: the whole range for the unit's, the days of the
/// officer's released blocks for an officer's own (SECURITY.md, finding 2), `None` when none of
/// their blocks ends in it.
pub fn released_range(
    conn: &mut PgConnection,
    officer: Option<&str>,
    min_n: u64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<(NaiveDate, NaiveDate)>, AppError> {
    Ok(match officer {
        None => Some((from, to)),
        Some(o) => Release::of_officer_now(conn, o, min_n)?.snap(from, to),
    })
}

/// The whole unit's officer × procedure cells of the procedure-mix adjustment over `range`
/// (none without a range).
pub fn unit_mix(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    range: Option<(NaiveDate, NaiveDate)>,
) -> Result<Vec<compare::Cell>, AppError> {
    let Some((from, to)) = range else { return Ok(Vec::new()) };
    let mix_q = StatsQuery {
        filters: Filters { unit: Some(unit.to_string()), ..Filters::default() },
        ..StatsQuery::new(from, to, GroupBy::Officer)
    };
    compare::mix_cells(conn, instruments.combined(), &mix_q, true)
}

/// Builds the content of a unit's period from the statistics engine.
pub fn build(
    conn: &mut PgConnection,
    instruments: &Instruments,
    req: &ExportRequest,
) -> Result<Content, AppError> {
    let unit = unit_info(conn, &req.unit)?;
    let p = &req.period;
    let groups = |conn: &mut PgConnection, g| {
        stats_groups_of(
            conn,
            instruments,
            &req.unit,
            req.officer.as_deref(),
            p.from,
            p.to,
            g,
            req.min_n,
            req.formula,
        )
    };
    let unit_figures = groups(conn, GroupBy::None)?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("the statistics engine gave no whole-unit group"))?;
    let mut procs = groups(conn, GroupBy::Procedure)?;
    let keys: Vec<String> = procs.iter().map(|g| g.key.clone()).collect();
    let field_of: HashMap<String, String> = procedures::table
        .filter(procedures::code.eq_any(&keys))
        .select((procedures::code, procedures::field_code))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    for g in &mut procs {
        g.field_code = field_of.get(&g.key).cloned();
    }
    let fields = groups(conn, GroupBy::Field)?;
    let mut officers = groups(conn, GroupBy::Officer)?;
    // the adjustment's reference is the whole unit's rate per procedure, even when the export is
    // one officer's own (then over the days of their released blocks only); only the officers
    // listed get their row
    let range = released_range(conn, req.officer.as_deref(), req.min_n, p.from, p.to)?;
    let mix = unit_mix(conn, instruments, &req.unit, range)?;
    let labels = officers.iter().map(|g| (g.key.clone(), g.label.clone())).collect();
    let adjusted = compare::adjust(&mix, &labels, req.min_n);
    for o in &mut officers {
        o.adjusted = adjusted.iter().find(|a| a.key == o.key).map(AdjustedFigures::from);
        if !req.officer_names {
            o.label = o.key.clone();
        }
    }
    Ok(Content {
        export_id: uuid::Uuid::new_v4().to_string(),
        generated_at: Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        generated_by: req.actor.clone(),
        period: PeriodInfo {
            key: p.key.clone(),
            label: p.label(),
            from: p.from.format("%Y-%m-%d").to_string(),
            to: p.to.format("%Y-%m-%d").to_string(),
        },
        measure: MeasureInfo {
            vi: MEASURE_VI.into(),
            en: MEASURE_EN.into(),
            note: measure_note(req.formula),
            formula: Some(req.formula.as_str().into()),
        },
        min_n: req.min_n,
        officer_names: req.officer_names,
        instrument_versions: versions_used(conn, instruments, &req.unit, p)?,
        totals: Totals {
            invitations: unit_figures.invitations,
            responses: unit_figures.responses,
            response_rate: unit_figures.response_rate,
        },
        unit,
        unit_figures,
        procedures: procs,
        fields,
        officers,
        adjustment: Some(AdjustmentInfo {
            label: compare::ADJUSTED_LABEL.into(),
            explanation: compare::ADJUSTED_EXPLANATION.into(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_to_local_date_ranges_and_know_their_neighbours() {
        let q1 = Period::parse("2026-Q1").unwrap();
        assert_eq!((q1.from.to_string(), q1.to.to_string()), ("2026-01-01".into(), "2026-03-31".into()));
        assert_eq!(q1.previous().unwrap().key, "2025-Q4");
        assert_eq!(q1.year_before().unwrap().key, "2025-Q1");
        let h2 = Period::parse("2026-H2").unwrap();
        assert_eq!(h2.to.to_string(), "2026-12-31");
        assert_eq!(h2.previous().unwrap().key, "2026-H1");
        assert_eq!(Period::parse("2026-H1").unwrap().previous().unwrap().key, "2025-H2");
        assert_eq!(Period::parse("2026").unwrap().previous().unwrap().key, "2025");
        for bad in ["2026-Q5", "26", "2026-01", "2026-q1", "", "abcd"] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_drops_whitespace() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{ "b": [1, 2.5, {"z": null, "a": "Hòa"}], "a": 100.0 }"#).unwrap();
        assert_eq!(canonical(&v), r#"{"a":100.0,"b":[1,2.5,{"a":"Hòa","z":null}]}"#);
        // the same content written another way hashes the same; a changed figure does not
        let w: serde_json::Value =
            serde_json::from_str(r#"{"a":100.0,"b":[1,2.5,{"z":null,"a":"Hòa"}]}"#).unwrap();
        assert_eq!(content_hash(&v), content_hash(&w));
        let x: serde_json::Value =
            serde_json::from_str(r#"{"a":100.1,"b":[1,2.5,{"z":null,"a":"Hòa"}]}"#).unwrap();
        assert_ne!(content_hash(&v), content_hash(&x));
    }
}
