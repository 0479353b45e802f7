//! Staff pages of the integrity capability, behind the staff sign-in: `GET /integrity` (the report
//! and the review of flagged answers, for leaders and admins) and `GET /followups` (comments and
//! complaints to answer; officers see their own, read-only). Forms post back with the session's
//! CSRF token and change data through the same store functions as the JSON API (audited there).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;

use super::model::{OUTCOMES, Reason, STATUSES, Verdict};
use super::store::{self, FollowupChange, FollowupError, FollowupFilter, ReviewError};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::kernel::time::local_day;
use crate::kernel::time::{local_date, local_datetime};

const LEADERS: &[Role] = &[Role::Admin, Role::Leader];
const EVERYONE: &[Role] = &[Role::Admin, Role::Leader, Role::Officer];

/// `?from&to&unit` of the pages (dates default to the last 30 days; `unit` is for admins).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
}

/// The unit a page acts for: the staff member's own, or the one an admin names.
fn unit_of(staff: &StaffPage, requested: Option<&str>) -> Result<String, PageError> {
    match (staff.0.role(), staff.0.scope.unit(), requested.map(str::trim).filter(|u| !u.is_empty())) {
        (Role::Admin, _, Some(u)) => Ok(u.to_string()),
        (_, Some(own), _) => Ok(own.to_string()),
        _ => Err(PageError::App(AppError::bad_request(
            "missing_unit",
            "Choose a unit: add ?unit=CODE to the address.",
        ))),
    }
}

fn dates(q: &PageQuery) -> (NaiveDate, NaiveDate) {
    let today = local_day(Utc::now());
    let parse = |v: &Option<String>| v.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let to = parse(&q.to).unwrap_or(today);
    let from = parse(&q.from).filter(|f| *f <= to).unwrap_or(to - Days::new(30));
    (from, to)
}

fn pct(x: Option<f64>) -> String {
    crate::http::format::percent(x)
}

pub struct OfficerView {
    pub code: String,
    pub name: String,
    pub invitations: i64,
    pub cases: String,
    pub offer_rate: String,
    pub responses: i64,
    pub top_share: String,
    pub top_vs_unit: String,
    pub flagged: i64,
    pub held: i64,
    pub reasons: String,
    /// Offers the survey to fewer than half of the cases it handled.
    pub low_offer: bool,
}

pub struct FlaggedView {
    pub id: i64,
    pub officer: String,
    pub at: String,
    pub reasons: String,
    pub overall: String,
    pub held: bool,
    pub review: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "staff/integrity.html")]
struct IntegrityPage {
    layout: Layout,
    unit: String,
    from: String,
    to: String,
    unit_top: String,
    reasons: Vec<(&'static str, &'static str, i64)>,
    officers: Vec<OfficerView>,
    flagged: Vec<FlaggedView>,
    burst_rule: String,
}

fn percent_of(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (10_000.0 * part as f64 / whole as f64).round() / 100.0)
}

/// `GET /integrity`
pub async fn integrity(
    state: web::Data<AppState>,
    staff: StaffPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    let unit = unit_of(&staff, q.unit.as_deref())?;
    let (from, to) = dates(&q);
    let u = unit.clone();
    let (lines, flagged) = db::run(&state.pool, move |conn| {
        Ok((store::report(conn, &u, from, to)?, store::flagged(conn, &u, from, to)?))
    })
    .await?;
    let (responses, top): (i64, i64) =
        lines.iter().fold((0, 0), |(r, t), l| (r + l.responses, t + l.top_scores));
    let unit_top = percent_of(top, responses);
    let mut totals = [0i64; 4];
    let officers = lines
        .iter()
        .map(|l| {
            let counts = [l.desk_network, l.too_fast, l.same_device, l.burst];
            for (t, c) in totals.iter_mut().zip(counts) {
                *t += c;
            }
            let top_share = percent_of(l.top_scores, l.responses);
            let offer = l.cases.and_then(|c| percent_of(l.invitations, c));
            OfficerView {
                code: l.officer_code.clone(),
                name: l.officer_name.clone(),
                invitations: l.invitations,
                cases: l.cases.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
                offer_rate: pct(offer),
                responses: l.responses,
                top_share: pct(top_share),
                top_vs_unit: crate::http::format::delta(top_share.zip(unit_top).map(|(a, b)| a - b)),
                flagged: l.flagged,
                held: l.held,
                reasons: Reason::ALL
                    .iter()
                    .zip(counts)
                    .filter(|(_, c)| *c > 0)
                    .map(|(r, c)| format!("{} {c}", r.code()))
                    .collect::<Vec<_>>()
                    .join(", "),
                low_offer: offer.is_some_and(|o| o < 50.0),
            }
        })
        .collect();
    let flagged = flagged
        .into_iter()
        .map(|f| FlaggedView {
            id: f.response_id,
            officer: format!("{} · {}", f.officer_code, f.officer_name),
            at: local_datetime(f.submitted_at),
            reasons: f
                .reasons
                .iter()
                .filter_map(|r| Reason::from_code(r))
                .map(|r| r.label_vi())
                .collect::<Vec<_>>()
                .join("; "),
            overall: f.overall.map(|l| l.to_string()).unwrap_or_default(),
            held: f.held,
            review: match f.verdict.as_deref() {
                Some("genuine") => "Thật (đã tính lại)".into(),
                Some("invalid") => "Không hợp lệ".into(),
                _ => String::new(),
            },
            note: f.note.unwrap_or_default(),
        })
        .collect();
    let page = IntegrityPage {
        layout: Layout::new(&staff.0, "Tính xác thực của kết quả", "integrity"),
        unit,
        from: from.to_string(),
        to: to.to_string(),
        unit_top: pct(unit_top),
        reasons: Reason::ALL.iter().zip(totals).map(|(r, n)| (r.code(), r.label_vi(), n)).collect(),
        officers,
        flagged,
        burst_rule: format!(
            "{} phiếu trở lên chấm điểm tối đa cho cùng một cán bộ trong {} giây",
            super::model::BURST_SIZE,
            super::model::BURST_WINDOW_SECONDS
        ),
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    unit: String,
}

/// `POST /integrity/responses/{id}/review`
pub async fn review(
    state: web::Data<AppState>,
    staff: StaffPage,
    id: web::Path<i64>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    staff.check_csrf(&form.csrf)?;
    let unit = unit_of(&staff, Some(&form.unit))?;
    let verdict = Verdict::from_code(&form.verdict).ok_or_else(|| {
        PageError::App(AppError::unprocessable("invalid_verdict", "Choose genuine or invalid."))
    })?;
    let note: String = form.note.trim().chars().take(2000).collect();
    let (id, actor, instruments, u) =
        (id.into_inner(), staff.0.actor(), state.instruments.clone(), unit.clone());
    db::run(&state.pool, move |conn| {
        store::review(conn, &instruments, &|unit: &str| unit == u, id, verdict, &note, &actor).map_err(|e| {
            match e {
                ReviewError::NotFound => {
                    AppError::not_found("unknown_response", "There is no such response in your unit.")
                }
                ReviewError::NotFlagged => AppError::conflict("not_flagged", "This response is not flagged."),
                ReviewError::Db(e) => e.into(),
            }
        })
    })
    .await?;
    Ok(see_other(&format!("/integrity?unit={unit}#r{id}")))
}

pub struct FollowupView {
    pub id: i64,
    pub officer: String,
    pub opened: String,
    pub comment: String,
    pub overall: String,
    pub triggers: String,
    pub owner: String,
    pub status: String,
    pub deadline: String,
    pub overdue: bool,
    pub reply: String,
    pub outcome: String,
    pub open: bool,
    pub harassment: bool,
}

#[derive(Template)]
#[template(path = "staff/followups.html")]
struct FollowupsPage {
    layout: Layout,
    unit: String,
    status: String,
    overdue_only: bool,
    may_change: bool,
    statuses: [&'static str; 4],
    outcomes: [&'static str; 3],
    items: Vec<FollowupView>,
}

fn trigger_label(code: &str) -> &'static str {
    match code {
        "reply_wanted" => "Muốn được trả lời",
        "low_score_comment" => "Không hài lòng, có ý kiến",
        "harassment" => "Phản ánh nhũng nhiễu (TT01.I7)",
        "extra_cost" => "Chi phí ngoài quy định",
        _ => "Khác",
    }
}

/// `GET /followups`
pub async fn followups(
    state: web::Data<AppState>,
    staff: StaffPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(EVERYONE)?;
    let unit = unit_of(&staff, q.unit.as_deref())?;
    let status = q.status.clone().filter(|s| STATUSES.contains(&s.as_str()));
    let overdue_only = q.overdue.as_deref() == Some("true");
    let filter = FollowupFilter {
        status: status.clone(),
        officer: staff.0.scope.officer().map(str::to_string),
        overdue: overdue_only.then_some(true),
        ..FollowupFilter::default()
    };
    let today = local_day(Utc::now());
    let u = unit.clone();
    let rows =
        db::run(&state.pool, move |conn| Ok(store::list_followups(conn, &u, &filter, today, None)?)).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let overdue = r.deadline < today && (r.status == "new" || r.status == "in_progress");
            FollowupView {
                id: r.id,
                officer: r.officer_code,
                opened: local_date(r.opened_at),
                comment: r.comment.unwrap_or_default(),
                overall: r.overall.map(|l| l.to_string()).unwrap_or_default(),
                harassment: r.triggers.iter().any(|t| t == "harassment"),
                triggers: r.triggers.iter().map(|t| trigger_label(t)).collect::<Vec<_>>().join("; "),
                owner: r.owner,
                open: r.status != "closed",
                status: r.status,
                deadline: r.deadline.format("%d/%m/%Y").to_string(),
                overdue,
                reply: r.reply.unwrap_or_default(),
                outcome: match r.outcome {
                    Some(o) if r.outcome_note.is_empty() => o,
                    Some(o) => format!("{o}: {}", r.outcome_note),
                    None => String::new(),
                },
            }
        })
        .collect();
    let page = FollowupsPage {
        layout: Layout::new(&staff.0, "Phản hồi ý kiến người dân", "followups"),
        unit,
        status: status.unwrap_or_default(),
        overdue_only,
        may_change: staff.0.role() != Role::Officer,
        statuses: STATUSES,
        outcomes: OUTCOMES,
        items,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct FollowupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

/// `POST /followups/{id}/{action}`: reply, assign, status or close.
pub async fn change(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<(i64, String)>,
    form: web::Form<FollowupForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    staff.check_csrf(&form.csrf)?;
    let unit = unit_of(&staff, Some(&form.unit))?;
    let (id, action) = path.into_inner();
    let bad = |m: &str| PageError::App(AppError::unprocessable("invalid_input", m.to_string()));
    let text = |v: &str, max: usize| {
        let v = v.trim();
        (!v.is_empty() && v.chars().count() <= max).then(|| v.to_string())
    };
    let change = match action.as_str() {
        "reply" => FollowupChange::Reply(
            text(&form.message, 4000).ok_or_else(|| bad("Write a reply of 1 to 4000 characters."))?,
        ),
        "assign" => FollowupChange::Assign(text(&form.owner, 100).ok_or_else(|| bad("Name an owner."))?),
        "status" if ["new", "in_progress", "answered"].contains(&form.status.as_str()) => {
            FollowupChange::Status(form.status.clone())
        }
        "close" if OUTCOMES.contains(&form.outcome.as_str()) => FollowupChange::Close {
            outcome: form.outcome.clone(),
            note: form.note.trim().chars().take(2000).collect(),
        },
        "status" | "close" => return Err(bad("Choose one of the listed values.")),
        _ => return Err(PageError::NotFound),
    };
    let (actor, instruments, u) = (staff.0.actor(), state.instruments.clone(), unit.clone());
    db::run(&state.pool, move |conn| {
        store::change_followup(conn, &instruments, &|unit: &str| unit == u, id, &change, &actor, Utc::now())
            .map_err(|e| match e {
                FollowupError::NotFound => {
                    AppError::not_found("unknown_followup", "There is no such follow-up in your unit.")
                }
                FollowupError::Closed => AppError::conflict("closed", "This follow-up is closed."),
                e @ FollowupError::NotAComplaint => {
                    AppError::unprocessable("invalid_outcome", format!("{e}."))
                }
                FollowupError::Db(e) => e.into(),
            })
    })
    .await?;
    Ok(see_other(&format!("/followups?unit={unit}#f{id}")))
}
