//! The staff page of follow-ups, behind the staff sign-in: `GET /followups` (comments and
//! complaints to answer; officers see their own, read-only) and its forms, which post back with
//! the session's CSRF token and change data through the same store functions as the JSON API
//! (audited there).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::model::{OUTCOMES, STATUSES};
use super::store::{self, FollowupChange, FollowupError, FollowupFilter};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::kernel::release::Release;
use crate::kernel::time::{local_date, local_day};

const LEADERS: &[Role] = &[Role::Admin, Role::Leader];
const EVERYONE: &[Role] = &[Role::Admin, Role::Leader, Role::Officer];

/// `?unit&status&overdue` of the page (`unit` is for admins).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    unit: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
}

pub struct FollowupView {
    pub id: i64,
    pub officer: String,
    pub opened: String,
    pub comment: String,
    pub overall: String,
    pub triggers: String,
    /// The owner as stored (a username, an officer code or `leader:UNIT`) and as shown.
    pub owner: String,
    pub owner_label: String,
    pub status: String,
    pub status_label: &'static str,
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
    /// (code, Vietnamese label) of every status, of the statuses a form may set, of outcomes.
    statuses: Vec<(&'static str, &'static str)>,
    settable: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    /// Who "Giao cho" offers: (value, label).
    owners: Vec<(String, String)>,
    items: Vec<FollowupView>,
}

/// The Vietnamese name of a follow-up status.
pub fn status_label(code: &str) -> &'static str {
    match code {
        "new" => "Mới",
        "in_progress" => "Đang xử lý",
        "answered" => "Đã trả lời",
        "closed" => "Đã kết thúc",
        _ => "Không rõ",
    }
}

/// The Vietnamese name of how a follow-up ended.
pub fn outcome_label(code: &str) -> &'static str {
    match code {
        "resolved" => "Đã giải quyết",
        "unfounded" => "Phản ánh không có cơ sở",
        "no_action" => "Không cần xử lý thêm",
        _ => "Không rõ",
    }
}

/// How an owner is shown: the unit's leader, an account (with its officer's name), or an
/// officer by code.
fn owner_label(
    owner: &str,
    unit: &str,
    accounts: &[store::OwnerAccount],
    officers: &[(String, String)],
) -> String {
    if owner == store::default_owner(unit) {
        return "Lãnh đạo đơn vị".to_string();
    }
    let officer_name = |code: &str| officers.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone());
    if let Some((username, role, officer)) = accounts.iter().find(|(u, _, _)| u == owner) {
        let role = if role == "leader" { "lãnh đạo" } else { "cán bộ một cửa" };
        return match officer.as_deref().and_then(officer_name) {
            Some(name) => format!("{name} ({username}, {role})"),
            None => format!("{username} ({role})"),
        };
    }
    match officer_name(owner) {
        Some(name) => format!("{name} ({owner})"),
        None => owner.to_string(),
    }
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
    let unit = staff.unit_for(q.unit.as_deref())?;
    let status = q.status.clone().filter(|s| STATUSES.contains(&s.as_str()));
    let overdue_only = q.overdue.as_deref() == Some("true");
    let filter = FollowupFilter {
        status: status.clone(),
        officer: staff.0.scope.officer().map(str::to_string),
        // an officer's own are undated: a deadline filter would date them again
        overdue: (overdue_only && staff.0.scope.officer().is_none()).then_some(true),
        ..FollowupFilter::default()
    };
    let today = local_day(Utc::now());
    let u = unit.clone();
    // an officer's own: released in blocks, none that accuses them, undated (SECURITY.md,
    // findings 2 and 7; see `store::officer_view`)
    let own = staff.0.scope.officer().map(str::to_string);
    let min_n = state.min_n();
    let (rows, accounts, officers) = db::run(&state.pool, move |conn| {
        let rows = store::list_followups(conn, &u, &filter, today, None)?;
        let rows = match &own {
            None => rows,
            Some(own) => store::officer_view(rows, &Release::of_officer_now(conn, own, min_n)?),
        };
        Ok((rows, store::owner_accounts(conn, &u)?, store::unit_officers(conn, &u)?))
    })
    .await?;
    let officer_view = staff.0.scope.officer().is_some();
    let items = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let overdue = r.deadline < today && (r.status == "new" || r.status == "in_progress");
            let undated = |text: String| if officer_view { "—".to_string() } else { text };
            FollowupView {
                // an officer's own are numbered on the page, not by id (ids follow arrival)
                id: if officer_view { i64::try_from(i + 1).unwrap_or(0) } else { r.id },
                officer: r.officer_code,
                opened: undated(local_date(r.opened_at)),
                comment: r.comment.unwrap_or_default(),
                overall: r.overall.map(|l| l.to_string()).unwrap_or_default(),
                harassment: r.triggers.iter().any(|t| t == "harassment"),
                triggers: r.triggers.iter().map(|t| trigger_label(t)).collect::<Vec<_>>().join("; "),
                owner_label: owner_label(&r.owner, &unit, &accounts, &officers),
                owner: r.owner,
                open: r.status != "closed",
                status_label: status_label(&r.status),
                status: r.status,
                deadline: undated(r.deadline.format("%d/%m/%Y").to_string()),
                overdue: overdue && !officer_view,
                reply: r.reply.unwrap_or_default(),
                outcome: match r.outcome {
                    Some(o) if r.outcome_note.is_empty() => outcome_label(&o).to_string(),
                    Some(o) => format!("{}: {}", outcome_label(&o), r.outcome_note),
                    None => String::new(),
                },
            }
        })
        .collect();
    let owners = std::iter::once((store::default_owner(&unit), "Lãnh đạo đơn vị".to_string()))
        .chain(accounts.iter().map(|a| (a.0.clone(), owner_label(&a.0, &unit, &accounts, &officers))))
        .collect();
    let page = FollowupsPage {
        layout: Layout::new(&staff.0, "Phản hồi ý kiến người dân", "followups"),
        unit,
        status: status.unwrap_or_default(),
        overdue_only,
        may_change: staff.0.role() != Role::Officer,
        statuses: STATUSES.iter().map(|s| (*s, status_label(s))).collect(),
        settable: ["new", "in_progress", "answered"].iter().map(|s| (*s, status_label(s))).collect(),
        outcomes: OUTCOMES.iter().map(|o| (*o, outcome_label(o))).collect(),
        owners,
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
    let unit = staff.unit_for(Some(&form.unit))?;
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
                e @ FollowupError::UnknownOwner(_) => {
                    AppError::unprocessable("unknown_owner", format!("{e}."))
                }
                FollowupError::Db(e) => e.into(),
            })
    })
    .await?;
    Ok(see_other(&format!("/followups?unit={unit}#f{id}")))
}
