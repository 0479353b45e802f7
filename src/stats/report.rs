//! What a statistics query answers, as the service writes it out: DESIGN.md §5's shape of
//! `GET /api/v1/stats`, every figure rounded to the instrument's decimals here and nowhere else.
//! The API serialises a [`Report`] as it is; the dashboard, the exports and the periodic report
//! read the same values directly.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{GroupStats, Rate as Computed, Tt01Stat, round_to};
// The TT01 vocabulary readers of a report need (the dashboard reads `stats::report` only).
pub use super::model::{TT01_AGENCY, TT01_BAND_NOTE_VI, TT01_NAMES, TT01_OFFICER, tt01_name};
use crate::instrument::{Instrument, Instruments};

/// `{"from", "to", "group_by", "groups": [...]}`
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Stats)]
pub struct Report {
    /// The first local day (Asia/Ho_Chi_Minh), inclusive.
    #[schema(format = Date)]
    pub from: String,
    /// The last local day, inclusive.
    #[schema(format = Date)]
    pub to: String,
    #[schema(value_type = String)]
    pub group_by: &'static str,
    /// How every statement was scored: `share45`, the share of answers at levels 4–5 in percent
    /// (the default), or `mean100`, the mean level on the 1–5 scale shown as 0–100
    /// (docs/FORMULAS.md). Elements and the SIPAS index are the means of those scores either way.
    #[schema(value_type = String, example = "share45")]
    pub formula: &'static str,
    /// Only on an officer's own figures: they are released in blocks (SECURITY.md, finding 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released: Option<Released>,
    pub groups: Vec<Group>,
    /// Every SIPAS statement code of the groups' `criteria`, with the published versions that ask
    /// it: a statement is reported within its own version, while elements and the SIPAS index
    /// combine the versions by element code.
    pub statements: BTreeMap<String, Vec<VersionRef>>,
}

/// A published questionnaire version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionRef {
    pub instrument: String,
    pub version: String,
}

/// The versions of every element statement of the published versions (see [`Report::statements`]).
pub fn statement_versions(instruments: &Instruments) -> BTreeMap<String, Vec<VersionRef>> {
    let mut out: BTreeMap<String, Vec<VersionRef>> = BTreeMap::new();
    for v in instruments.all() {
        for element in &v.computation.elements {
            for code in super::model::statements(v, element) {
                out.entry(code.to_string())
                    .or_default()
                    .push(VersionRef { instrument: v.meta.id.clone(), version: v.meta.version.clone() });
            }
        }
    }
    out
}

/// How an officer's own figures are released: whole blocks of at least `block` answers of closed
/// local days, so they advance in steps and never by one answer (`kernel::release`). `from` and
/// `to` of the report are then the days the included blocks cover.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Released {
    /// The last local day the figures include; null before the first block is complete.
    #[schema(format = Date)]
    pub through: Option<String>,
    /// The fewest answers a block holds (the unit's `min_n`).
    pub block: u64,
}

/// One group of a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    /// `all`, a procedure, field, officer, unit or channel code, or a period (`2026-01`,
    /// `2026-Q1`, `2026-H1`, `2026`).
    #[schema(examples("all", "1.001193", "CB01", "2026-01", "2026-Q1", "2026-H1", "2026"))]
    pub key: String,
    pub label: String,
    pub responses: u64,
    pub invitations: u64,
    /// Responses ÷ invitations, percent; null without invitations.
    pub response_rate: Option<f64>,
    /// Fewer responses than `min_n`: the rates are left out.
    pub suppressed: bool,
    /// Responses held out as possibly staged.
    pub flagged: u64,
    // The rates below are left out of a suppressed group (fewer responses than `min_n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overall: Option<Rate>,
    /// `Some(None)` is written as `null`: no element has data.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub sipas_index: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elements: Option<BTreeMap<String, Element>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<BTreeMap<String, Rate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<BTreeMap<String, Rate>>,
    /// Each TT01 indicator's score by code (1 decimal, null without data), and `total`, `scored`, `band` (`{"vi", "en"}`, only
    /// when every indicator of the set is scored), `of` (9 for a unit, 5 for an officer),
    /// `summary` (`{"vi", "en"}`: "x points over n of 9 indicators (out of 2n)", when there is no
    /// band) and `indicators` (each one's `score`, `source`, `from_facts`, `from_resident`,
    /// `resident_view`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tt01: Option<serde_json::Map<String, serde_json::Value>>,
    /// Evaluation coverage beside the scores (groups of the whole commune, a unit, an officer or
    /// a period; absent for a procedure, field or channel, which the caseload does not split by).
    /// Given for a suppressed group too: it shows counts, not rates of answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// Evaluation coverage: the share of handed-back cases that were evaluated, `evaluations` (the
/// group's `responses`) ÷ `cases` (cases handled, as `POST /api/v1/cases/daily` reported them).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Responses counted in the group's figures (its `responses`).
    pub evaluations: u64,
    /// Cases handled in the group's days; null when none was reported ("not reported", never 0).
    pub cases: Option<u64>,
    /// `evaluations` ÷ `cases`, percent with 2 decimals; null when no cases were reported.
    pub share: Option<f64>,
}

impl Coverage {
    /// The coverage of `evaluations` over the reported `cases` (`None`: none reported).
    pub fn of(evaluations: u64, cases: Option<u64>, decimals: u32) -> Coverage {
        let share = cases.and_then(|c| super::model::percent(evaluations, c)).map(|v| round_to(v, decimals));
        Coverage { evaluations, cases, share }
    }

    /// "40,00% (4/10)", or "chưa báo cáo số hồ sơ (not reported)" without a reported caseload:
    /// what the dashboard, the export and the report write.
    pub fn text_vi(&self) -> String {
        match (self.cases, self.share) {
            (Some(c), Some(s)) => {
                format!("{}% ({}/{})", format!("{s:.2}").replace('.', ","), self.evaluations, c)
            }
            (Some(c), None) => format!("— ({}/{c})", self.evaluations),
            (None, _) => COVERAGE_NOT_REPORTED.to_string(),
        }
    }
}

/// What a group without a reported caseload shows instead of its coverage.
pub const COVERAGE_NOT_REPORTED: &str = "chưa báo cáo số hồ sơ (not reported)";

/// `{"rate", "n", "ci95": [low, high], "counts": {...}}`
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rate {
    /// The score under the report's `formula`, 2 decimals: percent of answers at levels 4–5
    /// (`share45`) or the mean level as 0–100 (`mean100`); null when `n` is 0.
    pub rate: Option<f64>,
    pub n: u64,
    /// Its 95% Wilson interval, on the same scale.
    #[schema(min_items = 2, max_items = 2)]
    pub ci95: Option<[f64; 2]>,
    /// Answers per level or option code.
    pub counts: BTreeMap<String, u64>,
}

/// `{"index", "n"}`
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Element {
    pub index: Option<f64>,
    /// Responses that answered any of the element's statements.
    pub n: u64,
}

impl Rate {
    fn of(r: &Computed, d: u32) -> Rate {
        Rate {
            rate: r.rate.map(|v| round_to(v, d)),
            n: r.n,
            ci95: r.ci95.map(|(lo, hi)| [round_to(lo, d), round_to(hi, d)]),
            counts: r.counts.iter().map(|(l, n)| (l.to_string(), *n)).collect(),
        }
    }
}

impl Group {
    /// Writes one group out, rounding every figure to the instrument's decimals.
    pub fn of(instrument: &Instrument, key: String, label: String, s: &GroupStats) -> Group {
        let d = instrument.computation.percent_decimals;
        let f = s.figures.as_ref();
        Group {
            key,
            label,
            responses: s.responses,
            invitations: s.invitations,
            response_rate: s.response_rate.map(|v| round_to(v, d)),
            suppressed: s.suppressed(),
            flagged: s.flagged,
            overall: f.map(|f| Rate::of(&f.overall, d)),
            sipas_index: f.map(|f| f.sipas_index.map(|v| round_to(v, d))),
            elements: f.map(|f| {
                f.elements
                    .iter()
                    .map(|(c, e)| (c.clone(), Element { index: e.index.map(|v| round_to(v, d)), n: e.n }))
                    .collect()
            }),
            criteria: f.map(|f| f.criteria.iter().map(|(c, r)| (c.clone(), Rate::of(r, d))).collect()),
            items: f.map(|f| f.items.iter().map(|(c, r)| (c.clone(), Rate::of(r, d))).collect()),
            tt01: f.map(|f| tt01_json(&f.tt01)),
            coverage: None,
        }
    }

    /// The overall satisfaction rate (none for a suppressed group).
    pub fn overall_rate(&self) -> Option<f64> {
        self.overall.as_ref().and_then(|o| o.rate)
    }

    /// Its 95% interval.
    pub fn overall_ci(&self) -> Option<(f64, f64)> {
        self.overall.as_ref().and_then(|o| o.ci95).map(|[lo, hi]| (lo, hi))
    }

    /// The SIPAS index (none for a suppressed group or without data).
    pub fn sipas(&self) -> Option<f64> {
        self.sipas_index.flatten()
    }

    pub fn element(&self, code: &str) -> Option<&Element> {
        self.elements.as_ref().and_then(|e| e.get(code))
    }

    pub fn criterion(&self, code: &str) -> Option<&Rate> {
        self.criteria.as_ref().and_then(|c| c.get(code))
    }
}

/// The `tt01` object of a group (see [`Group::tt01`]).
fn tt01_json(t: &Tt01Stat) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let mut m = serde_json::Map::new();
    let mut detail = serde_json::Map::new();
    for i in &t.indicators {
        m.insert(i.code.clone(), json!(i.score));
        detail.insert(
            i.code.clone(),
            json!({
                "score": i.score,
                "source": i.source.map(|s| s.as_str()),
                "from_facts": i.from_facts,
                "from_resident": i.from_resident,
                "resident_view": i.resident_view,
            }),
        );
    }
    m.insert("total".into(), json!(t.total));
    m.insert("scored".into(), json!(t.scored));
    m.insert("of".into(), json!(t.of));
    m.insert(
        "band".into(),
        match &t.band {
            Some((vi, en)) => json!({ "vi": vi, "en": en }),
            None => serde_json::Value::Null,
        },
    );
    m.insert(
        "summary".into(),
        match (&t.band, t.summary_vi(), t.summary_en()) {
            (None, Some(vi), Some(en)) => json!({ "vi": vi, "en": en }),
            _ => serde_json::Value::Null,
        },
    );
    m.insert("indicators".into(), serde_json::Value::Object(detail));
    m
}

impl Report {
    /// The single group of a `group_by=none` report.
    pub fn all(&self) -> Option<&Group> {
        self.groups.first()
    }
}

/// The Vietnamese name of a TT01 score's source (`facts`, `resident`, `mixed`, `followups`,
/// `unit`), as the dashboard and the printed report show it.
pub fn source_vi(source: Option<&str>) -> &'static str {
    match source {
        Some("facts") => "Hệ thống một cửa",
        Some("resident") => "Người dân đánh giá",
        Some("mixed") => "Hệ thống một cửa và người dân",
        Some("followups") => "Phản ánh, kiến nghị",
        Some("unit") => "Lãnh đạo ghi nhận",
        _ => "—",
    }
}
