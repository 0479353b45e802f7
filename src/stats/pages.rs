//! `GET|POST /tt01/unit-indicators`: the leader's page to record TT 01/2018 indicators 5, 6 and 9
//! of their unit for a quarter, half-year or year, each with its evidence note (the same record
//! and audit as `POST /api/v1/tt01/unit-indicators`), and the scores recorded so far.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Datelike;
use diesel::prelude::*;
use serde::Deserialize;

use super::handlers::record_unit_indicator;
use super::unit_scores::{self, Record, UNIT_INDICATORS};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::schema::units;

const ROLES: &[Role] = &[Role::Leader, Role::Admin];

/// One recorded score as the page lists it.
pub struct ScoreRow {
    pub period: String,
    pub code: String,
    pub name: &'static str,
    pub points: i16,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: String,
    /// When a later record replaced it.
    pub superseded_at: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/unit_indicators.html")]
struct Page {
    layout: Layout,
    unit: String,
    unit_name: String,
    /// Every unit (for an admin's choice); empty for a leader.
    units: Vec<(String, String)>,
    /// (number, name, selected)
    indicators: Vec<(i16, &'static str, bool)>,
    /// (key, label, selected)
    periods: Vec<(String, String, bool)>,
    /// (points, selected)
    points: Vec<(&'static str, bool)>,
    rows: Vec<ScoreRow>,
    notice: Option<&'static str>,
    error: Option<String>,
    form: Form,
    note_max: usize,
}

/// The form's fields, kept as typed after a refusal.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Form {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub points: String,
    #[serde(default)]
    pub note: String,
}

/// The periods offered: the quarters, halves and years of this year and the one before, newest
/// first, labelled as the reports label them.
fn periods(today: chrono::NaiveDate) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for y in [today.year(), today.year() - 1] {
        for q in (1..=4).rev() {
            out.push(format!("{y}-Q{q}"));
        }
        out.push(format!("{y}-H2"));
        out.push(format!("{y}-H1"));
        out.push(format!("{y}"));
    }
    out.into_iter().map(|k| (k.clone(), super::model::period_label(&k).unwrap_or(k))).collect()
}

fn unit_of(
    staff: &StaffPage,
    requested: Option<&str>,
    all: &[(String, String)],
) -> Result<String, PageError> {
    match staff.unit_for(requested) {
        Ok(u) => Ok(u),
        // an admin without a home unit starts on the first unit
        Err(_) if !all.is_empty() => Ok(all[0].0.clone()),
        Err(e) => Err(e),
    }
}

async fn view(
    state: &AppState,
    staff: &StaffPage,
    unit: String,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let is_admin = staff.0.role() == Role::Admin;
    let lookup = unit.clone();
    let (name, all, rows) = db::run(&state.pool, move |conn| {
        let name: Option<String> = units::table.find(&lookup).select(units::name).first(conn).optional()?;
        let all: Vec<(String, String)> = if is_admin {
            units::table.select((units::code, units::name)).order(units::code).load(conn)?
        } else {
            Vec::new()
        };
        Ok((name, all, unit_scores::list(conn, Some(&lookup), None, true)?))
    })
    .await?;
    let Some(unit_name) = name else { return Err(PageError::NotFound) };
    let t = crate::kernel::time::local_datetime;
    let rows = rows
        .into_iter()
        .map(|s| ScoreRow {
            period: super::model::period_label(&s.period).unwrap_or_else(|| s.period.clone()),
            code: unit_scores::code_of(s.indicator),
            name: unit_scores::name_of(s.indicator),
            points: s.points,
            note: s.note,
            recorded_by: s.recorded_by,
            recorded_at: t(s.recorded_at),
            superseded_at: s.superseded_at.map(t),
        })
        .collect();
    let page = Page {
        layout: Layout::new(&staff.0, "Chỉ số 5, 6, 9 của đơn vị", "dashboard"),
        unit,
        unit_name,
        units: all,
        indicators: UNIT_INDICATORS
            .iter()
            .map(|i| (*i, unit_scores::name_of(*i), form.indicator.trim() == i.to_string()))
            .collect(),
        periods: periods(crate::kernel::time::today())
            .into_iter()
            .map(|(k, l)| {
                let selected = form.period.trim() == k;
                (k, l, selected)
            })
            .collect(),
        points: ["2", "1", "0"].into_iter().map(|p| (p, form.points.trim() == p)).collect(),
        rows,
        notice,
        error,
        form,
        note_max: unit_scores::NOTE_MAX,
    };
    render(status, &page)
}

/// `GET /tt01/unit-indicators[?unit=…][&done=recorded]`.
pub async fn page(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(ROLES)?;
    if let Some(k) = params.keys().find(|k| !matches!(k.as_str(), "unit" | "done")) {
        return Err(PageError::App(AppError::bad_request(
            "unknown_parameter",
            format!("`{k}` is not a parameter of this page."),
        )));
    }
    let all = admin_units(&state, &staff).await?;
    let unit = unit_of(&staff, params.get("unit").map(String::as_str), &all)?;
    let notice = (params.get("done").map(String::as_str) == Some("recorded")).then_some(
        "Đã ghi nhận điểm và ghi chú minh chứng (ghi vào nhật ký). Recorded, with its evidence note.",
    );
    let form = Form { period: default_period(), ..Form::default() };
    view(&state, &staff, unit, StatusCode::OK, notice, None, form).await
}

/// `POST /tt01/unit-indicators`: records one score; a refusal shows the page again (422) with the
/// reason in Vietnamese and the fields as typed.
pub async fn record(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<Form>,
) -> Result<HttpResponse, PageError> {
    staff.require(ROLES)?;
    staff.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let all = admin_units(&state, &staff).await?;
    let requested = Some(form.unit.as_str()).filter(|u| !u.trim().is_empty());
    // a leader records for their own unit only: naming another is refused, not silently redirected
    if let (Some(r), Some(own)) = (requested, staff.0.scope.unit())
        && staff.0.role() == Role::Leader
        && r.trim() != own
    {
        return Err(PageError::Forbidden);
    }
    let unit = unit_of(&staff, requested, &all)?;
    let number = |s: &str| s.trim().parse::<i64>().unwrap_or(i64::MIN);
    let parsed = Record::parse(number(&form.indicator), &form.period, number(&form.points), &form.note);
    let record = match parsed {
        Ok(r) => r,
        Err(refusal) => {
            return view(
                &state,
                &staff,
                unit,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(refusal.vi()),
                form,
            )
            .await;
        }
    };
    let actor = staff.0.actor();
    let target = unit.clone();
    let done =
        db::run(&state.pool, move |conn| match record_unit_indicator(conn, &target, &record, &actor) {
            Ok(_) => Ok(Ok(())),
            Err(e) if e.code() == "unknown_unit" => Ok(Err(format!("Không có đơn vị {target}."))),
            Err(e) => Err(e),
        })
        .await?;
    match done {
        Ok(()) => Ok(see_other(&format!(
            "/tt01/unit-indicators?unit={}&done=recorded",
            crate::http::pages::urlencode(&unit)
        ))),
        Err(e) => view(&state, &staff, unit, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e), form).await,
    }
}

async fn admin_units(state: &AppState, staff: &StaffPage) -> Result<Vec<(String, String)>, PageError> {
    if staff.0.role() != Role::Admin {
        return Ok(Vec::new());
    }
    Ok(db::run(&state.pool, |conn| {
        Ok(units::table.select((units::code, units::name)).order(units::code).load(conn)?)
    })
    .await?)
}

/// The quarter before today's: what a leader usually records after it ends.
fn default_period() -> String {
    let today = crate::kernel::time::today();
    let q = (today.month() - 1) / 3 + 1;
    if q == 1 { format!("{}-Q4", today.year() - 1) } else { format!("{}-Q{}", today.year(), q - 1) }
}
