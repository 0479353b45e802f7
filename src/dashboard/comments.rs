//! `GET /comments`: every resident's comment of a period, newest first, filtered by procedure,
//! field, officer, channel and rating — for leaders (their unit) and admins (any unit).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::filters::{CHANNELS, Filters, period_choices};
use super::store::{self, CommentFilter};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::pages::{Layout, PageError, render};
use crate::kernel::time::today;
use crate::masterdata::store::{self as directory, FieldRow, OfficerRow, ProcedureRow, UnitRow};

/// Most comments on one page (the newest).
pub const COMMENTS_MAX: i32 = 200;

/// The Vietnamese names of the five levels of `CASE.OVERALL`.
pub const RATINGS: [(i16, &str); 5] = [
    (1, "1 · Rất không hài lòng"),
    (2, "2 · Không hài lòng"),
    (3, "3 · Bình thường"),
    (4, "4 · Hài lòng"),
    (5, "5 · Rất hài lòng"),
];

pub struct CommentView {
    pub when: String,
    pub officer: String,
    pub procedure: String,
    pub rating: String,
    pub low: bool,
    pub text: String,
}

#[derive(Template)]
#[template(path = "staff/comments.html")]
struct CommentsPage {
    layout: Layout,
    scope_label: String,
    period_label: String,
    periods: Vec<(&'static str, Vec<(String, String)>)>,
    period: String,
    custom_from: String,
    custom_to: String,
    procedures: Vec<ProcedureRow>,
    fields: Vec<FieldRow>,
    officers: Vec<OfficerRow>,
    units: Vec<UnitRow>,
    show_units: bool,
    channels: Vec<(String, String)>,
    ratings: Vec<(String, &'static str)>,
    procedure: String,
    field: String,
    officer: String,
    channel: String,
    unit: String,
    rating: String,
    total: i64,
    shown: usize,
    items: Vec<CommentView>,
}

fn bad(message: impl Into<String>) -> PageError {
    PageError::App(AppError::bad_request("invalid_filter", message.into()))
}

/// `GET /comments?period&from&to&procedure&field&officer&channel&rating[&unit]`.
pub async fn comments(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(&[Role::Admin, Role::Leader])?;
    let filters = Filters::parse(&params, today()).map_err(bad)?;
    let rating = match params.get("rating").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse::<i16>() {
            Ok(l) if (1..=5).contains(&l) => Some(l),
            _ => return Err(bad("Mức hài lòng phải từ 1 đến 5.")),
        },
    };
    let own = staff.0.scope.unit().filter(|_| staff.0.role() != Role::Admin).map(str::to_string);
    let unit = match (&own, &filters.unit) {
        (Some(own), Some(asked)) if own != asked => return Err(PageError::Forbidden),
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked.clone(),
    };
    let (from, to) = filters.period.range();
    let filter = CommentFilter {
        unit: unit.clone(),
        procedure: filters.procedure.clone(),
        field: filters.field.clone(),
        officer: filters.officer.clone(),
        channel: filters.channel.clone(),
        rating,
    };
    let scoped = unit.clone();
    let (rows, procedures, fields, officers, units) = db::run(&state.pool, move |conn| {
        Ok((
            store::comments(conn, &filter, from, to, COMMENTS_MAX)?,
            directory::procedures(conn)?,
            directory::fields(conn)?,
            directory::officers(conn, scoped.as_deref())?,
            directory::units(conn)?,
        ))
    })
    .await?;
    let officer_name = |code: &str| {
        officers.iter().find(|o| o.code == code).map_or(code.to_string(), |o| format!("{} ({code})", o.name))
    };
    let procedure_name = |code: &str| {
        procedures
            .iter()
            .find(|p| p.code == code)
            .map_or(code.to_string(), |p| format!("{code} · {}", p.name))
    };
    let items: Vec<CommentView> = rows
        .iter()
        .map(|r| CommentView {
            when: r.at_local.format("%d/%m/%Y %H:%M").to_string(),
            officer: officer_name(&r.officer_code),
            procedure: procedure_name(&r.procedure_code),
            rating: r
                .overall
                .and_then(|l| RATINGS.iter().find(|(k, _)| *k == l))
                .map_or("—".to_string(), |(_, label)| label.to_string()),
            low: r.overall.is_some_and(|l| l <= 2),
            text: r.text.clone(),
        })
        .collect();
    let scope_label = match &unit {
        Some(u) => units.iter().find(|x| &x.code == u).map_or(u.clone(), |x| x.name.clone()),
        None => "Tất cả đơn vị".to_string(),
    };
    let page = CommentsPage {
        layout: Layout::new(&staff.0, "Ý kiến của người dân", "comments"),
        scope_label,
        period_label: filters.period.label(),
        periods: period_choices(today()),
        period: filters.period.key(),
        custom_from: from.to_string(),
        custom_to: to.to_string(),
        procedures,
        fields,
        officers,
        show_units: own.is_none(),
        units,
        channels: CHANNELS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect(),
        ratings: RATINGS.iter().map(|(l, label)| (l.to_string(), *label)).collect(),
        procedure: filters.procedure.unwrap_or_default(),
        field: filters.field.unwrap_or_default(),
        officer: filters.officer.unwrap_or_default(),
        channel: filters.channel.unwrap_or_default(),
        unit: filters.unit.unwrap_or_default(),
        rating: rating.map(|r| r.to_string()).unwrap_or_default(),
        total: rows.first().map_or(0, |r| r.total),
        shown: items.len(),
        items,
    };
    render(StatusCode::OK, &page)
}
