//! The JSON API of the integrity capability: the report, the flagged responses and their review,
//! and the one-stop system's daily caseload. Every endpoint acts for the caller's unit only.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Reason, Verdict};
use super::store::{self, CaseDay, CasesError, ReviewError};
use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::role::Role;
use crate::db;
use crate::error::{AppError, BadQuery, ErrorBody, Forbidden, JsonBodyRefusals, Unauthorized, Unavailable};

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates, both included).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// The first local date (YYYY-MM-DD), inclusive; required.
    #[param(value_type = String, required = true, format = Date)]
    from: Option<String>,
    /// The last local date (YYYY-MM-DD), inclusive; required.
    #[param(value_type = String, required = true, format = Date)]
    to: Option<String>,
    /// The unit to read; defaults to the caller's own (an admin names one).
    unit: Option<String>,
}

fn date(value: Option<&str>, name: &str) -> Result<NaiveDate, AppError> {
    let v = value.ok_or_else(|| {
        AppError::bad_request("missing_parameter", format!("`{name}` is required (YYYY-MM-DD)."))
    })?;
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|d| crate::kernel::time::plausible_day(*d))
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_date",
                format!("`{name}` must be a date as YYYY-MM-DD between 2000 and 2100."),
            )
        })
}

fn range(q: &RangeQuery) -> Result<(NaiveDate, NaiveDate), AppError> {
    let from = date(q.from.as_deref(), "from")?;
    let to = date(q.to.as_deref(), "to")?;
    if from > to {
        return Err(AppError::bad_request("invalid_range", "`from` must not be after `to`."));
    }
    if (to - from).num_days() > 3660 {
        return Err(AppError::bad_request("invalid_range", "The range may cover at most ten years."));
    }
    Ok((from, to))
}

/// A percentage with 2 decimals, `None` when the denominator is 0.
fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (10_000.0 * part as f64 / whole as f64).round() / 100.0)
}

/// The integrity report of a unit and period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityReport)]
pub struct ReportBody {
    from: NaiveDate,
    to: NaiveDate,
    unit: String,
    /// Flagged responses of the unit, by reason (a response with two reasons counts in both).
    #[schema(value_type = BTreeMap<String, i64>)]
    flagged_by_reason: BTreeMap<&'static str, i64>,
    /// Responses with at least one reason.
    flagged: i64,
    /// Flagged responses still held out of the statistics.
    held: i64,
    responses: i64,
    invitations: i64,
    /// Cases handled, as the one-stop system reported them (null when it reported none).
    cases: Option<i64>,
    /// Invitations ÷ cases handled, percent.
    offer_rate: Option<f64>,
    /// Share of responses rating `CASE.OVERALL` 5, percent (flagged responses included).
    top_share: Option<f64>,
    officers: Vec<OfficerBody>,
    /// Evidence per officer and period: each officer's figures against the rest's, with exact
    /// tests and false-discovery-rate q-values. "Unusual" is a reason to look, never a verdict.
    evidence: EvidenceBody,
}

/// Evidence per officer (see `integrity::evidence`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityEvidence)]
pub struct EvidenceBody {
    /// A comparison is unusual when its q-value is at most this false-discovery rate.
    fdr: f64,
    /// Officers with fewer responses in the period (and measures with a smaller `n`) are not
    /// tested: nothing is called unusual on fewer answers.
    min_n: u64,
    /// Tests in the family the q-values are computed over (every officer × measure × comparison).
    tests: usize,
    /// True when some other commune of the province held by this installation had answers in
    /// the period, so officers are compared with the province too (`against`: `province`).
    province_compared: bool,
    /// Why there is no province comparison, when there is none.
    province_note: Option<String>,
    officers: Vec<OfficerEvidenceBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityOfficerEvidence)]
pub struct OfficerEvidenceBody {
    officer_code: String,
    name: String,
    responses: u64,
    /// Fewer than `min_n` responses in the period: nothing tested.
    too_few: bool,
    /// At least one comparison is unusual.
    unusual: bool,
    comparisons: Vec<ComparisonBody>,
}

/// One measure of one officer against the rest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityComparison)]
pub struct ComparisonBody {
    /// `top_share`, `response_rate`, `offer_rate`, `quick_answers` or `outside_hours`.
    #[schema(value_type = String, examples("top_share"))]
    measure: &'static str,
    /// `unit` (the unit's other officers) or `province` (the province's other communes).
    #[schema(value_type = String, examples("unit"))]
    against: &'static str,
    /// The direction tested (one-sided): `higher` or `lower` than the rest.
    #[schema(value_type = String, examples("higher"))]
    direction: &'static str,
    officer: ShareBody,
    rest: ShareBody,
    /// The one-sided p-value of Fisher's exact test.
    p: f64,
    /// The Benjamini–Hochberg q-value over every test of the report.
    q: f64,
    /// `q` ≤ `fdr`: "bất thường".
    unusual: bool,
}

/// `k` of `n`, and the share in percent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityShare)]
pub struct ShareBody {
    k: u64,
    n: u64,
    rate: Option<f64>,
}

fn evidence_body(e: &super::evidence::Evidence, min_n: u64) -> EvidenceBody {
    let share = |c: super::evidence::Count| ShareBody {
        k: c.k,
        n: c.n,
        rate: c.share().map(|s| (s * 10_000.0).round() / 100.0),
    };
    EvidenceBody {
        fdr: super::evidence::FDR,
        min_n,
        tests: e.tests,
        province_compared: e.province_compared,
        province_note: (!e.province_compared).then(|| PROVINCE_NOTE.to_string()),
        officers: e
            .officers
            .iter()
            .map(|o| OfficerEvidenceBody {
                officer_code: o.officer_code.clone(),
                name: o.officer_name.clone(),
                responses: o.responses,
                too_few: o.too_few,
                unusual: o.unusual(),
                comparisons: o
                    .comparisons
                    .iter()
                    .map(|c| ComparisonBody {
                        measure: c.measure.code(),
                        against: c.against.code(),
                        direction: if c.measure.higher_is_unusual() { "higher" } else { "lower" },
                        officer: share(c.officer),
                        rest: share(c.rest),
                        p: c.p,
                        q: c.q,
                        unusual: c.unusual,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Said when no other commune of the province has answers here.
pub const PROVINCE_NOTE: &str = "No other commune of this unit's province has answers in this installation for the      period; the province's exports hold aggregates only (no times or delays), so officers are compared with      their own unit only.";

/// The smallest group the statistics show rates of: the configuration's, else the questionnaire's.
pub fn min_n(state: &AppState) -> u64 {
    u64::from(state.config.min_n.unwrap_or(state.instruments.current().computation.min_n))
}

/// One officer's line of the integrity report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IntegrityOfficer)]
pub struct OfficerBody {
    officer_code: String,
    name: String,
    invitations: i64,
    cases: Option<i64>,
    offer_rate: Option<f64>,
    responses: i64,
    top_share: Option<f64>,
    /// This officer's top share minus the commune's, in percentage points.
    top_share_vs_unit: Option<f64>,
    flagged: i64,
    held: i64,
    #[schema(value_type = BTreeMap<String, i64>)]
    flagged_by_reason: BTreeMap<&'static str, i64>,
}

/// `GET /api/v1/integrity?from=&to=`.
#[utoipa::path(
    get,
    path = "/api/v1/integrity",
    summary = "The integrity report: flags by reason, offer rates, top-score shares, evidence per officer",
    security(("bearer" = []), ("session" = [])),
    params(RangeQuery),
    responses(
        (status = 200, description = "The report", body = ReportBody),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "integrity report", skip_all)]
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(&[Role::Admin, Role::Leader])?;
    let (from, to) = range(&q)?;
    let unit = caller.unit_for(q.unit.as_deref())?;
    let u = unit.clone();
    let min_n = min_n(&state);
    let (lines, evidence) = db::run(&state.pool, move |conn| {
        Ok((store::report(conn, &u, from, to)?, store::evidence(conn, &u, from, to, min_n)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(build_report(unit, from, to, &lines, evidence_body(&evidence, min_n))))
}

fn build_report(
    unit: String,
    from: NaiveDate,
    to: NaiveDate,
    lines: &[store::OfficerLine],
    evidence: EvidenceBody,
) -> ReportBody {
    let sum = |f: fn(&store::OfficerLine) -> i64| lines.iter().map(f).sum::<i64>();
    let (responses, top) = (sum(|l| l.base.responses), sum(|l| l.base.top_scores));
    let unit_top = percent(top, responses);
    let any_cases = lines.iter().any(|l| l.base.cases.is_some());
    let cases = any_cases.then(|| sum(|l| l.base.cases.unwrap_or(0)));
    let invitations = sum(|l| l.base.invitations);
    let by_reason = |l: &store::OfficerLine| {
        BTreeMap::from([
            (Reason::DeskNetwork.code(), l.desk_network),
            (Reason::TooFast.code(), l.too_fast),
            (Reason::SameDevice.code(), l.same_device),
            (Reason::Burst.code(), l.burst),
        ])
    };
    let mut flagged_by_reason = BTreeMap::new();
    for l in lines {
        for (k, v) in by_reason(l) {
            *flagged_by_reason.entry(k).or_insert(0) += v;
        }
    }
    ReportBody {
        from,
        to,
        unit,
        flagged_by_reason,
        flagged: sum(|l| l.flagged),
        held: sum(|l| l.held),
        responses,
        invitations,
        cases,
        offer_rate: cases.and_then(|c| percent(invitations, c)),
        top_share: unit_top,
        officers: lines
            .iter()
            .map(|l| {
                let top_share = percent(l.base.top_scores, l.base.responses);
                OfficerBody {
                    officer_code: l.base.officer_code.clone(),
                    name: l.base.officer_name.clone(),
                    invitations: l.base.invitations,
                    cases: l.base.cases,
                    offer_rate: l.base.cases.and_then(|c| percent(l.base.invitations, c)),
                    responses: l.base.responses,
                    top_share,
                    top_share_vs_unit: top_share
                        .zip(unit_top)
                        .map(|(a, b)| ((a - b) * 100.0).round() / 100.0),
                    flagged: l.flagged,
                    held: l.held,
                    flagged_by_reason: by_reason(l),
                }
            })
            .collect(),
        evidence,
    }
}

/// The flagged responses of a unit and period, by officer and reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FlaggedResponses)]
pub struct FlaggedBody {
    from: NaiveDate,
    to: NaiveDate,
    /// By officer, then by reason: the flagged responses (one with two reasons is under both).
    officers: Vec<FlaggedOfficer>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlaggedOfficer {
    officer_code: String,
    name: String,
    reasons: BTreeMap<String, Vec<FlaggedResponse>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlaggedResponse {
    response_id: i64,
    submitted_at: DateTime<Utc>,
    reasons: Vec<String>,
    overall: Option<i16>,
    held: bool,
    /// `genuine`, `invalid`, or null when not reviewed yet.
    review: Option<String>,
    note: Option<String>,
}

/// `GET /api/v1/integrity/flagged?from=&to=`: what a leader reviews.
#[utoipa::path(
    get,
    path = "/api/v1/integrity/flagged",
    summary = "The flagged responses, by officer and reason",
    security(("bearer" = []), ("session" = [])),
    params(RangeQuery),
    responses(
        (status = 200, description = "The flagged responses", body = FlaggedBody),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "flagged responses", skip_all)]
pub async fn flagged(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(&[Role::Admin, Role::Leader])?;
    let (from, to) = range(&q)?;
    let unit = caller.unit_for(q.unit.as_deref())?;
    let rows = db::run(&state.pool, move |conn| Ok(store::flagged(conn, &unit, from, to)?)).await?;
    let mut officers: Vec<FlaggedOfficer> = Vec::new();
    for r in rows {
        if officers.last().is_none_or(|o| o.officer_code != r.officer_code) {
            officers.push(FlaggedOfficer {
                officer_code: r.officer_code.clone(),
                name: r.officer_name.clone(),
                reasons: BTreeMap::new(),
            });
        }
        let item = FlaggedResponse {
            response_id: r.response_id,
            submitted_at: r.submitted_at,
            reasons: r.reasons.clone(),
            overall: r.overall,
            held: r.held,
            review: r.verdict.clone(),
            note: r.note.clone(),
        };
        if let Some(o) = officers.last_mut() {
            for reason in &r.reasons {
                o.reasons.entry(reason.clone()).or_default().push(item.clone());
            }
        }
    }
    Ok(HttpResponse::Ok().json(FlaggedBody { from, to, officers }))
}

/// A leader's verdict on a flagged response.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `genuine` (back into the statistics) or `invalid` (kept out).
    #[schema(examples("genuine", "invalid"))]
    verdict: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
}

/// The review as stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reviewed {
    response_id: i64,
    #[schema(value_type = String)]
    verdict: &'static str,
    /// Whether the response is still held out of the statistics.
    held: bool,
}

/// `POST /api/v1/integrity/responses/{id}/review` `{"verdict": "genuine"|"invalid", "note"}`.
#[utoipa::path(
    post,
    path = "/api/v1/integrity/responses/{id}/review",
    summary = "Review a flagged response: genuine or invalid",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The response's id")),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "Reviewed", body = Reviewed),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_response`: no such response in the caller's unit", body = ErrorBody),
        (status = 409, description = "`not_flagged`: there is nothing to review", body = ErrorBody),
        Unavailable,
    )
)]
#[tracing::instrument(name = "review response", skip_all)]
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(&[Role::Admin, Role::Leader])?;
    let body = body.into_inner();
    let verdict = Verdict::from_code(&body.verdict)
        .ok_or_else(|| AppError::unprocessable("invalid_verdict", "`verdict` must be genuine or invalid."))?;
    let note = body.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(AppError::unprocessable("invalid_note", "`note` may have at most 2000 characters."));
    }
    let id = id.into_inner();
    let actor = caller.actor();
    let instruments = state.instruments.clone();
    let held = db::run(&state.pool, move |conn| {
        let allowed = |unit: &str| caller.may_act_for_unit(unit);
        store::review(conn, &instruments, &allowed, id, verdict, &note, &actor).map_err(|e| match e {
            ReviewError::NotFound => {
                AppError::not_found("unknown_response", "There is no such response in your unit.")
            }
            ReviewError::NotFlagged => {
                AppError::conflict("not_flagged", "This response is not flagged; there is nothing to review.")
            }
            ReviewError::Db(e) => e.into(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Reviewed { response_id: id, verdict: verdict.code(), held }))
}

/// Cases handled per officer and local day, from the one-stop system.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasesBody {
    /// 1 to 5000 officer-days.
    #[schema(min_items = 1, max_items = 5000)]
    days: Vec<CaseEntry>,
    /// The unit whose officers these are; defaults to the caller's own.
    #[serde(default)]
    unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseEntry {
    officer_code: String,
    /// A local date, YYYY-MM-DD.
    #[schema(format = Date)]
    date: String,
    /// 0 to 100000.
    #[schema(minimum = 0, maximum = 100000)]
    cases: i64,
}

/// How many officer-days were stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CasesStored {
    stored: usize,
}

/// Largest number of officer-days in one post.
const MAX_CASE_DAYS: usize = 5000;

/// Checks one posted caseload and turns it into stored days; the error names the entry.
pub fn parse_case_days(entries: &[(String, String, i64)]) -> Result<Vec<CaseDay>, String> {
    let mut out = Vec::with_capacity(entries.len());
    for (i, (officer, date, cases)) in entries.iter().enumerate() {
        let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| crate::kernel::time::plausible_day(*d))
            .ok_or_else(|| format!("entry {i}: `date` must be a date as YYYY-MM-DD between 2000 and 2100"))?;
        let cases = i32::try_from(*cases)
            .ok()
            .filter(|c| (0..=100_000).contains(c))
            .ok_or_else(|| format!("entry {i}: `cases` must be a whole number from 0 to 100000"))?;
        let officer = officer.trim();
        if officer.is_empty() {
            return Err(format!("entry {i}: `officer_code` is empty"));
        }
        out.push(CaseDay { officer_code: officer.to_string(), day, cases });
    }
    Ok(out)
}

/// `POST /api/v1/cases/daily` `{"days": [{"officer_code", "date", "cases"}, …]}`: cases handled
/// per officer and local day, from the one-stop system (the key's unit). A day posted again
/// replaces the earlier figure. All or nothing.
#[utoipa::path(
    post,
    path = "/api/v1/cases/daily",
    summary = "Cases handled per officer and local day (all or nothing)",
    security(("bearer" = []), ("session" = [])),
    request_body = CasesBody,
    responses(
        (status = 200, description = "Stored; a day sent again replaces the figure", body = CasesStored),
        JsonBodyRefusals, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "cases daily", skip_all)]
pub async fn cases_daily(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CasesBody>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(&[Role::Admin, Role::Leader])?;
    let body = body.into_inner();
    if body.days.is_empty() || body.days.len() > MAX_CASE_DAYS {
        return Err(AppError::unprocessable(
            "invalid_days",
            format!("`days` must hold 1 to {MAX_CASE_DAYS} entries."),
        ));
    }
    let entries: Vec<_> = body.days.iter().cloned().map(|d| (d.officer_code, d.date, d.cases)).collect();
    let days =
        parse_case_days(&entries).map_err(|m| AppError::unprocessable("invalid_days", format!("{m}.")))?;
    let unit = caller.unit_for(body.unit.as_deref())?;
    let actor = caller.actor();
    let stored = db::run(&state.pool, move |conn| {
        store::upsert_cases(conn, &unit, &days, &actor).map_err(|e| match e {
            e @ CasesError::UnknownOfficer { .. } => {
                AppError::unprocessable("unknown_officer", format!("{e}."))
            }
            CasesError::Db(e) => e.into(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(CasesStored { stored }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_have_two_decimals_and_none_without_a_denominator() {
        assert_eq!(percent(1, 3), Some(33.33));
        assert_eq!(percent(5, 0), None);
    }

    #[test]
    fn a_bad_case_entry_is_named() {
        let ok = parse_case_days(&[("CB01".into(), "2026-11-27".into(), 12)]).unwrap();
        assert_eq!(ok[0].cases, 12);
        let e =
            parse_case_days(&[("CB01".into(), "2026-11-27".into(), 1), ("CB01".into(), "27/11".into(), 1)])
                .unwrap_err();
        assert!(e.starts_with("entry 1"), "{e}");
        assert!(parse_case_days(&[("CB01".into(), "2026-11-27".into(), -1)]).is_err());
    }
}
