//! The JSON API of the integrity capability: the report, the flagged responses and their review,
//! the one-stop system's daily caseload, and follow-ups. Every endpoint acts for the caller's
//! unit only.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::model::{OUTCOMES, Reason, STATUSES, Verdict};
use super::store::{self, CaseDay, CasesError, FollowupChange, FollowupError, FollowupFilter, ReviewError};
use crate::app::AppState;
use crate::auth::Caller;
use crate::db;
use crate::error::AppError;
use crate::kernel::time::local_day;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates, both included).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    /// The unit to read; defaults to the caller's own (an admin names one).
    unit: Option<String>,
}

/// The unit a request acts for: `requested`, or the caller's own; refused (403) when the caller
/// may not act for it.
fn unit_for(caller: &Caller, requested: Option<&str>) -> Result<String, AppError> {
    let unit = requested.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(caller.unit_code());
    if unit.is_empty() {
        return Err(AppError::bad_request("missing_unit", "Name the unit with `unit=CODE`."));
    }
    if !caller.may_act_for_unit(unit) {
        return Err(AppError::forbidden("You may not act for this unit."));
    }
    Ok(unit.to_string())
}

fn date(value: Option<&str>, name: &str) -> Result<NaiveDate, AppError> {
    let v = value.ok_or_else(|| {
        AppError::bad_request("missing_parameter", format!("`{name}` is required (YYYY-MM-DD)."))
    })?;
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("invalid_date", format!("`{name}` must be a date as YYYY-MM-DD.")))
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

#[derive(Debug, Serialize)]
struct ReportBody {
    from: NaiveDate,
    to: NaiveDate,
    unit: String,
    /// Flagged responses of the unit, by reason (a response with two reasons counts in both).
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
}

#[derive(Debug, Serialize)]
struct OfficerBody {
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
    flagged_by_reason: BTreeMap<&'static str, i64>,
}

/// Staff who may read the integrity report and review: leaders and admins (API keys may too).
fn require_leader(caller: &Caller) -> Result<(), AppError> {
    if let Caller::Staff(s) = caller {
        s.require_role(&[crate::auth::role::Role::Admin, crate::auth::role::Role::Leader])?;
    }
    Ok(())
}

/// `GET /api/v1/integrity?from=&to=`.
#[tracing::instrument(name = "integrity report", skip_all)]
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    require_leader(&caller)?;
    let (from, to) = range(&q)?;
    let unit = unit_for(&caller, q.unit.as_deref())?;
    let u = unit.clone();
    let lines = db::run(&state.pool, move |conn| Ok(store::report(conn, &u, from, to)?)).await?;
    Ok(HttpResponse::Ok().json(build_report(unit, from, to, &lines)))
}

fn build_report(unit: String, from: NaiveDate, to: NaiveDate, lines: &[store::OfficerLine]) -> ReportBody {
    let sum = |f: fn(&store::OfficerLine) -> i64| lines.iter().map(f).sum::<i64>();
    let (responses, top) = (sum(|l| l.responses), sum(|l| l.top_scores));
    let unit_top = percent(top, responses);
    let any_cases = lines.iter().any(|l| l.cases.is_some());
    let cases = any_cases.then(|| sum(|l| l.cases.unwrap_or(0)));
    let invitations = sum(|l| l.invitations);
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
                let top_share = percent(l.top_scores, l.responses);
                OfficerBody {
                    officer_code: l.officer_code.clone(),
                    name: l.officer_name.clone(),
                    invitations: l.invitations,
                    cases: l.cases,
                    offer_rate: l.cases.and_then(|c| percent(l.invitations, c)),
                    responses: l.responses,
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
    }
}

#[derive(Debug, Serialize)]
struct FlaggedBody {
    from: NaiveDate,
    to: NaiveDate,
    /// By officer, then by reason: the flagged responses (one with two reasons is under both).
    officers: Vec<FlaggedOfficer>,
}

#[derive(Debug, Serialize)]
struct FlaggedOfficer {
    officer_code: String,
    name: String,
    reasons: BTreeMap<String, Vec<FlaggedResponse>>,
}

#[derive(Debug, Clone, Serialize)]
struct FlaggedResponse {
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
#[tracing::instrument(name = "flagged responses", skip_all)]
pub async fn flagged(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    require_leader(&caller)?;
    let (from, to) = range(&q)?;
    let unit = unit_for(&caller, q.unit.as_deref())?;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    verdict: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/integrity/responses/{id}/review` `{"verdict": "genuine"|"invalid", "note"}`.
#[tracing::instrument(name = "review response", skip_all)]
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, AppError> {
    require_leader(&caller)?;
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
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"response_id": id, "verdict": verdict.code(), "held": held})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesBody {
    days: Vec<CaseEntry>,
    /// The unit whose officers these are; defaults to the caller's own.
    #[serde(default)]
    unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEntry {
    officer_code: String,
    date: String,
    cases: i64,
}

/// Largest number of officer-days in one post.
const MAX_CASE_DAYS: usize = 5000;

/// Checks one posted caseload and turns it into stored days; the error names the entry.
pub fn parse_case_days(entries: &[(String, String, i64)]) -> Result<Vec<CaseDay>, String> {
    let mut out = Vec::with_capacity(entries.len());
    for (i, (officer, date, cases)) in entries.iter().enumerate() {
        let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| format!("entry {i}: `date` must be a date as YYYY-MM-DD"))?;
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
#[tracing::instrument(name = "cases daily", skip_all)]
pub async fn cases_daily(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CasesBody>,
) -> Result<HttpResponse, AppError> {
    require_leader(&caller)?;
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
    let unit = unit_for(&caller, body.unit.as_deref())?;
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
    Ok(HttpResponse::Ok().json(serde_json::json!({"stored": stored})))
}

/// Filters of `GET /api/v1/followups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupQuery {
    status: Option<String>,
    owner: Option<String>,
    officer: Option<String>,
    trigger: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FollowupBody {
    pub id: i64,
    pub response_id: i64,
    pub officer_code: String,
    /// The resident's comment, as written (escape it wherever it is shown).
    pub comment: Option<String>,
    pub overall: Option<i16>,
    /// What opened it: reply_wanted, low_score_comment, harassment, extra_cost.
    pub triggers: Vec<String>,
    pub owner: String,
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub deadline: NaiveDate,
    /// Past its deadline and neither answered nor closed.
    pub overdue: bool,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub outcome_note: String,
}

impl FollowupBody {
    pub fn of(r: store::FollowupRow, today: NaiveDate) -> Self {
        let overdue = r.deadline < today && (r.status == "new" || r.status == "in_progress");
        FollowupBody {
            id: r.id,
            response_id: r.response_id,
            officer_code: r.officer_code,
            comment: r.comment,
            overall: r.overall,
            triggers: r.triggers,
            owner: r.owner,
            status: r.status,
            opened_at: r.opened_at,
            deadline: r.deadline,
            overdue,
            reply: r.reply,
            replied_at: r.replied_at,
            outcome: r.outcome,
            outcome_note: r.outcome_note,
        }
    }
}

fn followup_filter(q: &FollowupQuery) -> Result<FollowupFilter, AppError> {
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(AppError::bad_request(
            "invalid_filter",
            "`status` must be new, in_progress, answered or closed.",
        ));
    }
    let triggers = ["reply_wanted", "low_score_comment", "harassment", "extra_cost"];
    if let Some(t) = &q.trigger
        && !triggers.contains(&t.as_str())
    {
        return Err(AppError::bad_request(
            "invalid_filter",
            "`trigger` must be reply_wanted, low_score_comment, harassment or extra_cost.",
        ));
    }
    let overdue = match q.overdue.as_deref() {
        None | Some("") => None,
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        Some(_) => return Err(AppError::bad_request("invalid_filter", "`overdue` must be true or false.")),
    };
    let from = q.from.as_deref().map(|v| date(Some(v), "from")).transpose()?;
    let to = q.to.as_deref().map(|v| date(Some(v), "to")).transpose()?;
    Ok(FollowupFilter {
        status: q.status.clone(),
        owner: q.owner.clone(),
        officer: q.officer.clone(),
        trigger: q.trigger.clone(),
        overdue,
        from,
        to,
    })
}

/// `GET /api/v1/followups`: the unit's follow-ups, filterable by status, owner, officer,
/// trigger, overdue and opening date.
#[tracing::instrument(name = "list followups", skip_all)]
pub async fn followups(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<FollowupQuery>,
) -> Result<HttpResponse, AppError> {
    let mut filter = followup_filter(&q)?;
    // an officer sees the follow-ups of their own answers only
    if let Some(own) = caller.officer_scope() {
        filter.officer = Some(own.to_string());
    }
    let unit = unit_for(&caller, q.unit.as_deref())?;
    let today = local_day(Utc::now());
    let rows =
        db::run(&state.pool, move |conn| Ok(store::list_followups(conn, &unit, &filter, today, None)?))
            .await?;
    let list: Vec<FollowupBody> = rows.into_iter().map(|r| FollowupBody::of(r, today)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"followups": list})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    owner: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    outcome: String,
    #[serde(default)]
    note: String,
}

/// Applies a change and answers with the follow-up as it now is.
async fn apply(
    state: &AppState,
    caller: &Caller,
    id: i64,
    change: FollowupChange,
) -> Result<HttpResponse, AppError> {
    require_leader(caller)?;
    let actor = caller.actor();
    let caller = caller.clone();
    let instruments = state.instruments.clone();
    let today = local_day(Utc::now());
    let row = db::run(&state.pool, move |conn| {
        let allowed = |unit: &str| caller.may_act_for_unit(unit);
        store::change_followup(conn, &instruments, &allowed, id, &change, &actor, Utc::now()).map_err(
            |e| match e {
                FollowupError::NotFound => {
                    AppError::not_found("unknown_followup", "There is no such follow-up in your unit.")
                }
                FollowupError::Closed => {
                    AppError::conflict("closed", "This follow-up is closed and can no longer change.")
                }
                e @ FollowupError::NotAComplaint => {
                    AppError::unprocessable("invalid_outcome", format!("{e}."))
                }
                FollowupError::Db(e) => e.into(),
            },
        )?;
        let unit = store::followup_unit(conn, id)?.unwrap_or_default();
        let rows = store::list_followups(conn, &unit, &FollowupFilter::default(), today, Some(id))?;
        rows.into_iter().next().ok_or_else(|| AppError::Internal("follow-up vanished".into()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(FollowupBody::of(row, today)))
}

fn text(value: &str, name: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::unprocessable(
            "invalid_text",
            format!("`{name}` must have 1 to {max} characters."),
        ));
    }
    Ok(v.to_string())
}

/// `POST /api/v1/followups/{id}/reply` `{"message"}`: the reply the resident reads at the survey
/// address; the follow-up becomes answered.
#[tracing::instrument(name = "reply followup", skip_all)]
pub async fn reply(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<ReplyBody>,
) -> Result<HttpResponse, AppError> {
    let message = text(&body.message, "message", 4000)?;
    apply(&state, &caller, id.into_inner(), FollowupChange::Reply(message)).await
}

/// `POST /api/v1/followups/{id}/assign` `{"owner"}`.
#[tracing::instrument(name = "assign followup", skip_all)]
pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<AssignBody>,
) -> Result<HttpResponse, AppError> {
    let owner = text(&body.owner, "owner", 100)?;
    apply(&state, &caller, id.into_inner(), FollowupChange::Assign(owner)).await
}

/// `POST /api/v1/followups/{id}/status` `{"status": "new"|"in_progress"|"answered"}`.
#[tracing::instrument(name = "followup status", skip_all)]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<StatusBody>,
) -> Result<HttpResponse, AppError> {
    if !["new", "in_progress", "answered"].contains(&body.status.as_str()) {
        return Err(AppError::unprocessable(
            "invalid_status",
            "`status` must be new, in_progress or answered (close a follow-up with /close).",
        ));
    }
    apply(&state, &caller, id.into_inner(), FollowupChange::Status(body.status.clone())).await
}

/// `POST /api/v1/followups/{id}/close` `{"outcome": "resolved"|"unfounded"|"no_action", "note"}`.
/// A harassment complaint closed as unfounded leaves its case out of indicator TT01.I7.
#[tracing::instrument(name = "close followup", skip_all)]
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<CloseBody>,
) -> Result<HttpResponse, AppError> {
    if !OUTCOMES.contains(&body.outcome.as_str()) {
        return Err(AppError::unprocessable(
            "invalid_outcome",
            "`outcome` must be resolved, unfounded or no_action.",
        ));
    }
    let note = body.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(AppError::unprocessable("invalid_note", "`note` may have at most 2000 characters."));
    }
    apply(&state, &caller, id.into_inner(), FollowupChange::Close { outcome: body.outcome.clone(), note })
        .await
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
