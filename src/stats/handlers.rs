//! `GET /api/v1/stats`: the caller's scope applied to the query, then [`query::run`] over the
//! roll-ups, written out as it is.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use serde::{Deserialize, Serialize};

use super::compare;
use super::query::{self, GroupBy, Release, Source, StatsQuery};
use super::report::Report;
use super::unit_scores;
use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::role::Role;
use crate::db;
use crate::error::{AppError, BadQuery, Forbidden, JsonBodyRefusals, Unauthorized, Unavailable};

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
        ("formula" = Option<String>, Query,
            description = "How statements are scored: share45 (the share of answers at levels 4 and 5, in percent; the default) or mean100 (the mean level on 1–5 shown as 0–100); the answer states it in `formula`"),
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
    if q.formula != query::Formula::Share45 {
        // funnels and the procedure-mix adjustment count residents satisfied or not
        return Err(AppError::bad_request(
            "invalid_formula",
            "A comparison counts satisfied residents (levels 4 and 5): `formula` may only be share45 here.",
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

/// `POST /api/v1/tt01/unit-indicators`: one score of indicator 5, 6 or 9 for a unit and period.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitIndicatorBody {
    /// The unit; defaults to the caller's own (an API key's, a leader's). An admin names one.
    unit: Option<String>,
    /// 5, 6 or 9 (TT 01/2018 Điều 13).
    #[schema(minimum = 5, maximum = 9, example = 5)]
    indicator: i64,
    /// A quarter, half-year or year: `2026-Q1`, `2026-H1`, `2026`.
    #[schema(example = "2026-Q1")]
    period: String,
    /// 0, 1 or 2.
    #[schema(minimum = 0, maximum = 2)]
    points: i64,
    /// The evidence the score rests on (required, at most 2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    note: String,
}

/// One recorded score of a unit indicator.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitIndicatorScore {
    id: i64,
    unit: String,
    /// 5, 6 or 9.
    indicator: i16,
    /// `TT01.I5`, `TT01.I6` or `TT01.I9`, as `tt01` of `GET /api/v1/stats` names it.
    code: String,
    /// The indicator's Vietnamese name.
    name: String,
    period: String,
    points: i16,
    note: String,
    /// `user:<id>` (a leader or an admin) or `api-key:<id>` (the unit's one-stop system).
    recorded_by: String,
    recorded_at: chrono::DateTime<chrono::Utc>,
    /// When a later record replaced it; null for the current value.
    superseded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Always `unit`: the `source` the statistics give these indicators.
    #[schema(value_type = String)]
    source: &'static str,
}

impl From<unit_scores::Stored> for UnitIndicatorScore {
    fn from(s: unit_scores::Stored) -> Self {
        UnitIndicatorScore {
            id: s.id,
            unit: s.unit_code,
            indicator: s.indicator,
            code: unit_scores::code_of(s.indicator),
            name: unit_scores::name_of(s.indicator).to_string(),
            period: s.period,
            points: s.points,
            note: s.note,
            recorded_by: s.recorded_by,
            recorded_at: s.recorded_at,
            superseded_at: s.superseded_at,
            source: "unit",
        }
    }
}

/// `{"scores": [...]}`
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitIndicatorList {
    scores: Vec<UnitIndicatorScore>,
}

/// The roles that record unit indicators (an API key, the unit's one-stop system, passes too).
const RECORDERS: &[Role] = &[Role::Admin, Role::Leader];

/// Records a unit's score of indicator 5, 6 or 9 for a period (the checked record, the unit the
/// caller may act for, the actor) and audits it; the stored row, or the refusal to show.
pub fn record_unit_indicator(
    conn: &mut diesel::PgConnection,
    unit: &str,
    record: &unit_scores::Record,
    actor: &str,
) -> Result<unit_scores::Stored, AppError> {
    if !unit_scores::unit_exists(conn, unit)? {
        return Err(AppError::unprocessable("unknown_unit", format!("`unit`: there is no unit `{unit}`.")));
    }
    Ok(unit_scores::record(conn, unit, record, actor)?)
}

/// `POST /api/v1/tt01/unit-indicators`: records indicator 5, 6 or 9 of a unit for a quarter,
/// half-year or year with its evidence note, as the unit's current value (the earlier one is kept
/// as history); audited. A leader or the unit's API key for their own unit, an admin for any.
#[utoipa::path(
    post,
    path = "/api/v1/tt01/unit-indicators",
    summary = "Record a unit's TT01 indicator 5, 6 or 9 for a period, with its evidence note",
    security(("bearer" = []), ("session" = [])),
    request_body = UnitIndicatorBody,
    responses(
        (status = 201, description = "Recorded as the current value; an earlier one is superseded, not deleted",
            body = UnitIndicatorScore),
        JsonBodyRefusals, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "unit indicator", skip_all)]
pub async fn record_unit_indicators(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UnitIndicatorBody>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(RECORDERS)?;
    let body = body.into_inner();
    let unit = caller.unit_for(body.unit.as_deref())?;
    let record = unit_scores::Record::parse(body.indicator, &body.period, body.points, &body.note)
        .map_err(|r| AppError::unprocessable(r.code, r.message))?;
    let actor = caller.actor();
    let stored =
        db::run(&state.pool, move |conn| record_unit_indicator(conn, &unit, &record, &actor)).await?;
    Ok(HttpResponse::Created().json(UnitIndicatorScore::from(stored)))
}

/// `GET /api/v1/tt01/unit-indicators[?unit=&period=&history=true]`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitIndicatorQuery {
    /// The unit; defaults to the caller's own (an admin without one reads every unit).
    unit: Option<String>,
    /// Only this quarter, half-year or year (`2026-Q1`, `2026-H1`, `2026`).
    period: Option<String>,
    /// `true`: the superseded records too, newest first within each period and indicator.
    history: Option<bool>,
}

/// `GET /api/v1/tt01/unit-indicators`: the unit's recorded scores of indicators 5, 6 and 9.
#[utoipa::path(
    get,
    path = "/api/v1/tt01/unit-indicators",
    summary = "A unit's recorded TT01 indicators 5, 6 and 9",
    security(("bearer" = []), ("session" = [])),
    params(UnitIndicatorQuery),
    responses(
        (status = 200, description = "The current scores (with `history=true`, the superseded ones too)",
            body = UnitIndicatorList),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn list_unit_indicators(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<UnitIndicatorQuery>,
) -> Result<HttpResponse, AppError> {
    caller.allow_staff(RECORDERS)?;
    let p = params.into_inner();
    let unit = match p.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(caller.unit_for(Some(u))?),
        None => caller.unit_scope().map(str::to_string),
    };
    let period = p.period.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if period.as_deref().is_some_and(|s| super::model::report_period_range(s).is_none()) {
        return Err(AppError::bad_request(
            "invalid_period",
            "`period` must be a quarter, half-year or year between 2000 and 2100: 2026-Q1, 2026-H1 or 2026.",
        ));
    }
    let history = p.history.unwrap_or(false);
    // from the primary: a score just recorded is listed at once
    let rows = db::run(&state.pool, move |conn| {
        Ok(unit_scores::list(conn, unit.as_deref(), period.as_deref(), history)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UnitIndicatorList { scores: rows.into_iter().map(Into::into).collect() }))
}
