//! The JSON API of follow-ups: the unit's list, and replying, reassigning, moving and closing
//! one. Every endpoint acts for the caller's unit only; every change is audited (in `store`).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::model::{OUTCOMES, STATUSES};
use super::store::{self, FollowupChange, FollowupError, FollowupFilter};
use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::role::Role;
use crate::db;
use crate::error::{AppError, BadQuery, ErrorBody, Forbidden, JsonBodyRefusals, Unauthorized, Unavailable};
use crate::kernel::release::Release;
use crate::kernel::time::local_day;

fn date(value: &str, name: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("invalid_date", format!("`{name}` must be a date as YYYY-MM-DD.")))
}

/// Filters of `GET /api/v1/followups`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowupQuery {
    /// `new`, `in_progress`, `answered` or `closed`.
    status: Option<String>,
    /// `leader:<unit>` or a username.
    owner: Option<String>,
    /// An officer code (an officer: their own, whatever is asked).
    officer: Option<String>,
    /// `reply_wanted`, `low_score_comment`, `harassment` or `extra_cost`.
    trigger: Option<String>,
    /// `true` or `false`.
    overdue: Option<String>,
    /// Opened on or after this local date (YYYY-MM-DD).
    #[param(format = Date)]
    from: Option<String>,
    /// Opened on or before this local date (YYYY-MM-DD).
    #[param(format = Date)]
    to: Option<String>,
    /// The unit to read; defaults to the caller's own (an admin names one).
    unit: Option<String>,
}

/// A follow-up of a comment or complaint. An officer reading their own gets no `id`,
/// `response_id`, `opened_at`, `deadline`, `overdue` or `replied_at` (null): those would tie it
/// to the resident they served (SECURITY.md, findings 2 and 7).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Followup)]
pub struct FollowupBody {
    pub id: Option<i64>,
    pub response_id: Option<i64>,
    pub officer_code: String,
    /// The resident's comment, as written (escape it wherever it is shown).
    pub comment: Option<String>,
    pub overall: Option<i16>,
    /// What opened it: reply_wanted, low_score_comment, harassment, extra_cost.
    pub triggers: Vec<String>,
    pub owner: String,
    pub status: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub deadline: Option<NaiveDate>,
    /// Past its deadline and neither answered nor closed.
    pub overdue: Option<bool>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub outcome_note: String,
}

impl FollowupBody {
    pub fn of(r: store::FollowupRow, today: NaiveDate) -> Self {
        let overdue = r.deadline < today && (r.status == "new" || r.status == "in_progress");
        FollowupBody {
            id: Some(r.id),
            response_id: Some(r.response_id),
            officer_code: r.officer_code,
            comment: r.comment,
            overall: r.overall,
            triggers: r.triggers,
            owner: r.owner,
            status: r.status,
            opened_at: Some(r.opened_at),
            deadline: Some(r.deadline),
            overdue: Some(overdue),
            reply: r.reply,
            replied_at: r.replied_at,
            outcome: r.outcome,
            outcome_note: r.outcome_note,
        }
    }

    /// As an officer reads one of their own: nothing that dates it or points to the response.
    fn for_officer(r: store::FollowupRow, today: NaiveDate) -> Self {
        FollowupBody {
            id: None,
            response_id: None,
            opened_at: None,
            deadline: None,
            overdue: None,
            replied_at: None,
            ..Self::of(r, today)
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
    let from = q.from.as_deref().map(|v| date(v, "from")).transpose()?;
    let to = q.to.as_deref().map(|v| date(v, "to")).transpose()?;
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

/// The unit's follow-ups.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowupList {
    followups: Vec<FollowupBody>,
}

/// `GET /api/v1/followups`: the unit's follow-ups, filterable by status, owner, officer,
/// trigger, overdue and opening date.
#[utoipa::path(
    get,
    path = "/api/v1/followups",
    summary = "The unit's follow-ups, filtered",
    security(("bearer" = []), ("session" = [])),
    params(FollowupQuery),
    responses(
        (status = 200, description = "The follow-ups", body = FollowupList),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "list followups", skip_all)]
pub async fn followups(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<FollowupQuery>,
) -> Result<HttpResponse, AppError> {
    let mut filter = followup_filter(&q)?;
    let own = caller.officer_scope().map(str::to_string);
    // an officer sees the follow-ups of their own answers only, released in blocks, none that
    // accuses them, undated (SECURITY.md, findings 2 and 7): filters by date or deadline would
    // date them again
    if let Some(own) = &own {
        if filter.from.is_some() || filter.to.is_some() || filter.overdue.is_some() {
            return Err(AppError::forbidden(
                "An officer's own follow-ups cannot be filtered by date or deadline.",
            ));
        }
        filter.officer = Some(own.clone());
    }
    let unit = caller.unit_for(q.unit.as_deref())?;
    let today = local_day(Utc::now());
    let min_n = state.min_n();
    let rows = db::run(&state.pool, move |conn| {
        let rows = store::list_followups(conn, &unit, &filter, today, None)?;
        Ok(match &own {
            None => rows,
            Some(own) => store::officer_view(rows, &Release::of_officer_now(conn, own, min_n)?),
        })
    })
    .await?;
    let officer = caller.officer_scope().is_some();
    let list: Vec<FollowupBody> = rows
        .into_iter()
        .map(|r| if officer { FollowupBody::for_officer(r, today) } else { FollowupBody::of(r, today) })
        .collect();
    Ok(HttpResponse::Ok().json(FollowupList { followups: list }))
}

/// The reply the resident will read at their survey address.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// 1 to 4000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    message: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// `leader:<unit>` or a username; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    owner: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `new`, `in_progress` or `answered` (close one with `/close`).
    #[schema(examples("new", "in_progress", "answered"))]
    status: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// `resolved`, `unfounded` (a harassment complaint then leaves TT01.I7) or `no_action`.
    #[schema(examples("resolved", "unfounded", "no_action"))]
    outcome: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
}

/// Applies a change and answers with the follow-up as it now is.
async fn apply(
    state: &AppState,
    caller: &Caller,
    id: i64,
    change: FollowupChange,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(&[Role::Admin, Role::Leader])?;
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
                e @ FollowupError::UnknownOwner(_) => {
                    AppError::unprocessable("unknown_owner", format!("{e}."))
                }
                FollowupError::Db(e) => e.into(),
            },
        )?;
        let unit = store::followup_unit(conn, id)?.unwrap_or_default();
        let rows = store::list_followups(conn, &unit, &FollowupFilter::default(), today, Some(id))?;
        rows.into_iter().next().ok_or_else(|| AppError::internal("follow-up vanished"))
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
#[utoipa::path(
    post,
    path = "/api/v1/followups/{id}/reply",
    summary = "Reply to a follow-up (status answered)",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The follow-up's id")),
    request_body = ReplyBody,
    responses(
        (status = 200, description = "The follow-up as it now is", body = FollowupBody),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_followup`: no such follow-up in the caller's unit", body = ErrorBody),
        (status = 409, description = "`closed`: the follow-up can no longer change", body = ErrorBody),
        Unavailable,
    )
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/followups/{id}/assign",
    summary = "Reassign a follow-up",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The follow-up's id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The follow-up as it now is", body = FollowupBody),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_followup`: no such follow-up in the caller's unit", body = ErrorBody),
        (status = 409, description = "`closed`: the follow-up can no longer change", body = ErrorBody),
        Unavailable,
    )
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/followups/{id}/status",
    summary = "Move a follow-up to another status",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The follow-up's id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The follow-up as it now is", body = FollowupBody),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_followup`: no such follow-up in the caller's unit", body = ErrorBody),
        (status = 409, description = "`closed`: the follow-up can no longer change", body = ErrorBody),
        Unavailable,
    )
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/followups/{id}/close",
    summary = "Close a follow-up with an outcome",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The follow-up's id")),
    request_body = CloseBody,
    responses(
        (status = 200, description = "The follow-up as it now is", body = FollowupBody),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_followup`: no such follow-up in the caller's unit", body = ErrorBody),
        (status = 409, description = "`closed`: the follow-up can no longer change", body = ErrorBody),
        Unavailable,
    )
)]
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
