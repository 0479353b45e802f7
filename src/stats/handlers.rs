//! `GET /api/v1/stats`: the caller's scope applied to the query, then [`query::run`] over the
//! roll-ups, written out as it is.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::compare;
use super::query::{self, GroupBy, Release, Source, StatsQuery};
use super::report::Report;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, BadQuery, Forbidden, Unauthorized, Unavailable};

/// `GET /api/v1/stats`. An API key reads its own unit only; an officer their own figures, released
/// in blocks of at least `min_n` answers of closed days (`kernel::release`), by period only.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    summary = "Satisfaction figures of a period, grouped",
    security(("bearer" = []), ("session" = [])),
    params(
        ("from" = String, Query, format = Date, description = "The first local date (Asia/Ho_Chi_Minh), inclusive"),
        ("to" = String, Query, format = Date, description = "The last local date, inclusive"),
        ("group_by" = Option<String>, Query,
            description = "none (the default), procedure, field, officer, unit, channel, month, quarter, half or year"),
        ("unit" = Option<String>, Query, description = "Only this unit (an API key: its own)"),
        ("procedure" = Option<String>, Query, description = "Only this procedure code"),
        ("field" = Option<String>, Query, description = "Only this field code"),
        ("officer" = Option<String>, Query, description = "Only this officer (an officer: their own)"),
        ("channel" = Option<String>, Query, description = "Only desk, online or postal"),
        ("include_flagged" = Option<bool>, Query, description = "Count answers held out as possibly staged too"),
    ),
    responses(
        (status = 200, description = "The figures", body = Report),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let mut q = StatsQuery::parse(&params)?;
    match &q.filters.unit {
        Some(unit) if !caller.may_act_for_unit(unit) => {
            return Err(AppError::forbidden("This caller may read the figures of its own unit only."));
        }
        Some(_) => {}
        // an admin (no unit scope) reads every unit
        None => q.filters.unit = caller.unit_scope().map(str::to_string),
    }
    let instruments = state.instruments.clone();
    let min_n = query::min_n(&state.config, &state.instruments);
    // an officer reads their own figures only, released in whole blocks (SECURITY.md, finding 2)
    if let Some(own) = caller.officer_scope() {
        if q.filters.officer.as_deref().is_some_and(|o| o != own) {
            return Err(AppError::forbidden("An officer may read their own figures only."));
        }
        if query::splits_blocks(&q) {
            return Err(AppError::forbidden(
                "An officer's own figures are released by period only, not by procedure, field or channel.",
            ));
        }
        q.filters.officer = Some(own.to_string());
        // flagged answers stay in an officer's own figures: a review must not move them by one
        q.include_flagged = true;
        let own = own.to_string();
        let report = state
            .read(move |conn| {
                let release = Release::of_officer_now(conn, &own, min_n)?;
                query::run_released(conn, &instruments, &q, min_n, &release, min_n)
            })
            .await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    let report = state.read(move |conn| query::run(conn, &instruments, &q, min_n, Source::Rollup)).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `GET /api/v1/stats/comparison?from=&to=&group_by=officer|unit|procedure`: the funnel plot's
/// figures and the procedure-mix-adjusted scores (issue 19), the JSON twin of the pages. Leaders
/// and keys read their own unit; officers are refused (the matrix says so too): it judges peers.
#[utoipa::path(
    get,
    path = "/api/v1/stats/comparison",
    summary = "Funnel plot figures and procedure-mix-adjusted scores of officers, communes or procedures",
    security(("bearer" = []), ("session" = [])),
    params(
        ("from" = String, Query, format = Date, description = "The first local date (Asia/Ho_Chi_Minh), inclusive"),
        ("to" = String, Query, format = Date, description = "The last local date, inclusive"),
        ("group_by" = Option<String>, Query, description = "officer (the default), unit or procedure"),
        ("unit" = Option<String>, Query, description = "Only this unit (an API key or a leader: their own)"),
        ("channel" = Option<String>, Query, description = "Only desk, online or postal"),
        ("include_flagged" = Option<bool>, Query, description = "Count answers held out as possibly staged too"),
    ),
    responses(
        (status = 200, description = "The funnel and the adjusted scores", body = compare::Comparison),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn comparison(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let mut params = params.into_inner();
    params.entry("group_by".into()).or_insert_with(|| "officer".into());
    let mut q = StatsQuery::parse(&params)?;
    if !matches!(q.group_by, GroupBy::Officer | GroupBy::Unit | GroupBy::Procedure) {
        return Err(AppError::bad_request(
            "invalid_group_by",
            "`group_by` must be officer, unit or procedure for a comparison.",
        ));
    }
    if caller.officer_scope().is_some() {
        return Err(AppError::forbidden("An officer may read their own figures only."));
    }
    match &q.filters.unit {
        Some(unit) if !caller.may_act_for_unit(unit) => {
            return Err(AppError::forbidden("This caller may read the figures of its own unit only."));
        }
        Some(_) => {}
        None => q.filters.unit = caller.unit_scope().map(str::to_string),
    }
    let instruments = state.instruments.clone();
    let min_n = query::min_n(&state.config, &state.instruments);
    let c = state.read(move |conn| compare::run(conn, &instruments, &q, min_n)).await?;
    Ok(HttpResponse::Ok().json(c))
}
