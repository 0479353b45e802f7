//! `GET /dashboard` (the commune for leaders and admins, their own page for officers) and
//! `GET /dashboard/officers/{code}` (one officer: trend, E3, TT01 with the band, comments).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::chart::{self, Bar, TrendPoint};
use super::filters::{CHANNELS, Filters, Period, Step, period_choices};
use super::store::{self, Comment};
use super::view::tt01;
use crate::app::AppState;
use crate::auth::Caller;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::format::{self, count, delta, interval, percent};
use crate::http::pages::{Layout, PageError, render};
use crate::http::text;
use crate::instrument::Instrument;
use crate::kernel::time::today;
use crate::masterdata::store::{self as directory, FieldRow, OfficerRow, ProcedureRow, UnitRow};
use crate::stats::compare::{self, Adjusted, Cell, Change, Funnel};
use crate::stats::query::{self, Filters as StatsFilters, Formula, GroupBy, Release, Source, StatsQuery};
use crate::stats::report::{self as model, Group, Report};

/// The smallest group whose rates are shown: the configured `MIN_N`, else the instrument's.
fn min_n(state: &AppState) -> u64 {
    query::min_n(&state.config, &state.instruments)
}

/// A report read from the roll-ups.
fn fetch(
    conn: &mut diesel::PgConnection,
    instruments: &crate::instrument::Instruments,
    min_n: u64,
    q: &StatsQuery,
) -> Result<Report, AppError> {
    query::run(conn, instruments, q, min_n, Source::Rollup)
}

/// A headline figure with its change against the previous period.
pub struct Kpi {
    pub value: String,
    pub change: String,
    /// `up`, `down` or empty, for the arrow's class; the sign is in the text too.
    pub direction: &'static str,
    pub arrow: &'static str,
    /// The change in words with its 95% interval: a change only when the interval excludes zero,
    /// "không khác biệt đáng kể" otherwise; empty without both periods.
    pub words: String,
}

/// A headline figure and its change; the arrow only for a change whose interval excludes zero.
fn kpi(now: Option<f64>, before: Option<f64>, change: Option<Change>) -> Kpi {
    let d = now.zip(before).map(|(a, b)| a - b);
    let (direction, arrow) = match (&change, d) {
        (Some(c), _) if c.direction == "up" => ("up", "▲"),
        (Some(c), _) if c.direction == "down" => ("down", "▼"),
        (Some(_), _) => ("", "≈"),
        (None, Some(_)) => ("", ""),
        (None, None) => ("", ""),
    };
    Kpi {
        value: percent(now),
        change: delta(d),
        direction,
        arrow,
        words: change.map(|c| c.words()).unwrap_or_default(),
    }
}

/// A funnel plot as the pages show it: the drawing and, beside it, the points outside the limits
/// in plain words.
pub struct FunnelView {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub target: String,
    pub flagged: Vec<String>,
    pub too_few: usize,
    pub min_n: u64,
}

fn funnel_view(id: &'static str, title: &str, f: Option<Funnel>) -> Option<FunnelView> {
    let f = f?;
    Some(FunnelView {
        id,
        title: title.to_string(),
        svg: compare::funnel_svg(&f, title, id),
        target: percent(Some(f.target)),
        flagged: f.flagged().into_iter().map(compare::describe).collect(),
        too_few: f.too_few.len(),
        min_n: f.min_n,
    })
}

/// A row of a breakdown table.
pub struct Row {
    pub code: String,
    pub label: String,
    pub link: String,
    pub responses: String,
    pub invitations: String,
    pub response_rate: String,
    pub overall: String,
    pub ci: String,
    pub sipas: String,
    /// Evaluation coverage: evaluations ÷ cases handled, or "not reported" ("—" for a procedure
    /// or field, which the caseload does not split by).
    pub coverage: String,
    pub suppressed: bool,
    /// Procedure-mix-adjusted (officers): observed / expected, O/E with its 95% interval, words.
    pub adjusted: Option<AdjustedCells>,
    sort_rate: Option<f64>,
    /// The raw rate, which orders rows of equal adjusted ratio.
    raw_rate: Option<f64>,
    sort_n: u64,
}

pub struct AdjustedCells {
    pub observed: String,
    pub expected: String,
    pub ratio: String,
    pub words: &'static str,
}

impl AdjustedCells {
    fn of(a: &Adjusted) -> Self {
        AdjustedCells {
            observed: count(a.observed),
            expected: format::decimal(a.expected, 2),
            ratio: a.ratio_text(),
            words: a.words(),
        }
    }
}

impl Row {
    /// Puts the adjusted figures beside the raw rate, and (`by_ratio`) orders by the ratio.
    fn adjust(&mut self, a: &Adjusted, by_ratio: bool) {
        self.adjusted = Some(AdjustedCells::of(a));
        if by_ratio {
            self.sort_rate = a.ratio;
        }
    }
}

/// One breakdown table (by procedure, field or officer).
pub struct Table {
    pub id: &'static str,
    pub title: &'static str,
    pub key_title: &'static str,
    pub rows: Vec<Row>,
    /// Whether the rows carry procedure-mix-adjusted figures (and are ordered by them).
    pub adjusted: bool,
}

fn row(g: &Group, link: String) -> Row {
    Row {
        code: g.key.clone(),
        label: g.label.clone(),
        link,
        responses: count(g.responses),
        invitations: count(g.invitations),
        response_rate: percent(g.response_rate),
        overall: if g.suppressed { "ẩn (n nhỏ)".into() } else { percent(g.overall_rate()) },
        ci: if g.suppressed { String::new() } else { interval(g.overall_ci()) },
        sipas: if g.suppressed { String::new() } else { percent(g.sipas()) },
        coverage: coverage_text(g),
        suppressed: g.suppressed,
        adjusted: None,
        sort_rate: if g.suppressed { None } else { g.overall_rate() },
        raw_rate: if g.suppressed { None } else { g.overall_rate() },
        sort_n: g.responses,
    }
}

/// Sorts rows: by overall rate, lowest first (where to look first; officers by their
/// procedure-mix-adjusted O/E unless `sort=raw`, equal ratios by raw rate), groups without a rate
/// last; or by number of responses, most first; or by code.
fn sort_rows(rows: &mut [Row], sort: &str) {
    match sort {
        "n" => rows.sort_by(|a, b| b.sort_n.cmp(&a.sort_n).then_with(|| a.code.cmp(&b.code))),
        "code" => rows.sort_by(|a, b| a.code.cmp(&b.code)),
        _ => rows.sort_by(|a, b| match (a.sort_rate, b.sort_rate) {
            (Some(x), Some(y)) => x
                .total_cmp(&y)
                .then_with(|| a.raw_rate.unwrap_or(0.0).total_cmp(&b.raw_rate.unwrap_or(0.0)))
                .then_with(|| a.code.cmp(&b.code)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.sort_n.cmp(&a.sort_n).then_with(|| a.code.cmp(&b.code)),
        }),
    }
}

/// A point label for the trend axis: `11/2026`, `Q4/2026`.
fn short_label(key: &str) -> String {
    match key.split_once('-') {
        Some((y, q)) if q.starts_with('Q') => format!("{q}/{y}"),
        Some((y, m)) => format!("{}/{y}", m.trim_start_matches('0')),
        None => key.to_string(),
    }
}

/// One row of the trend's table (the chart's text alternative).
pub struct TrendRow {
    pub label: String,
    pub responses: String,
    pub overall: String,
    pub ci: String,
    pub sipas: String,
}

fn trend(view: &Report) -> (Vec<TrendPoint>, Vec<TrendRow>) {
    let points: Vec<TrendPoint> = view
        .groups
        .iter()
        .map(|g| TrendPoint {
            label: short_label(&g.key),
            responses: g.responses,
            overall: if g.suppressed { None } else { g.overall_rate() },
            ci: if g.suppressed { None } else { g.overall_ci() },
            sipas: if g.suppressed { None } else { g.sipas() },
        })
        .collect();
    let rows = view
        .groups
        .iter()
        .map(|g| TrendRow {
            label: if g.label.is_empty() { g.key.clone() } else { g.label.clone() },
            responses: count(g.responses),
            overall: if g.suppressed { "ẩn (n nhỏ)".into() } else { percent(g.overall_rate()) },
            ci: if g.suppressed { String::new() } else { interval(g.overall_ci()) },
            sipas: if g.suppressed { String::new() } else { percent(g.sipas()) },
        })
        .collect();
    (points, rows)
}

/// The five elements of a group, named from the instrument.
fn element_bars(instrument: &Instrument, g: Option<&Group>) -> Vec<Bar> {
    instrument
        .computation
        .elements
        .iter()
        .map(|code| {
            let label = instrument
                .sections
                .iter()
                .find(|s| &s.code == code)
                .map(|s| s.vi.clone())
                .unwrap_or_default();
            let e = g.filter(|g| !g.suppressed).and_then(|g| g.element(code));
            Bar { code: code.clone(), label, value: e.and_then(|e| e.index), n: e.map_or(0, |e| e.n) }
        })
        .collect()
}

/// TT01 indicators of a group, with names, for a table.
pub struct Tt01Row {
    pub code: String,
    pub label: String,
    pub score: String,
    /// "Hệ thống một cửa", "Người dân", …
    pub source: String,
}

pub struct Tt01Block {
    pub rows: Vec<Tt01Row>,
    pub total: String,
    pub scored: String,
    /// The band, or — without one — "x điểm trên n/9 chỉ tiêu (tối đa 2n)".
    pub band: String,
    /// The rule the band comes from, shown beside every band.
    pub note: Option<&'static str>,
    /// Evaluation coverage beside the scores: "40,00% (4/10)" or "not reported".
    pub coverage: String,
}

/// A group's evaluation coverage as the page writes it ("—" where it does not apply).
fn coverage_text(g: &Group) -> String {
    g.coverage.as_ref().map_or_else(|| "—".into(), |c| c.text_vi())
}

fn tt01_block(g: Option<&Group>) -> Tt01Block {
    // an officer's group (or the dashboard of one officer) is judged over five, a unit over nine
    let of = g.and_then(|g| g.tt01.as_ref()).and_then(|t| t.get("of")).and_then(|v| v.as_u64());
    let set: &[&str] = if of == Some(5) { &model::TT01_OFFICER } else { &model::TT01_AGENCY };
    let indicators: Vec<String> = set.iter().map(|c| c.to_string()).collect();
    let t = g.filter(|g| !g.suppressed).map(|g| tt01(g, &indicators)).unwrap_or_default();
    let rows = indicators
        .iter()
        .map(|code| {
            let score = t.scores.iter().find(|(c, _)| c == code).and_then(|(_, s)| *s);
            let source = t.sources.iter().find(|(c, _)| c == code).and_then(|(_, s)| s.as_deref());
            Tt01Row {
                code: code.clone(),
                label: model::tt01_name(code).to_string(),
                score: score.map_or_else(|| "—".into(), |s| format::decimal(s, 1)),
                source: model::source_vi(source).to_string(),
            }
        })
        .collect();
    let note = t.band.is_some().then_some(model::TT01_BAND_NOTE_VI);
    Tt01Block {
        rows,
        total: t.total.map_or_else(|| "—".into(), |s| format::decimal(s, 1)),
        scored: if t.scored.is_empty() { "—".into() } else { t.scored.join(", ") },
        band: t.band.or(t.summary).unwrap_or_else(|| "—".into()),
        note,
        coverage: g.map_or_else(|| "—".into(), coverage_text),
    }
}

/// What the filter form offers.
pub struct FormData {
    pub periods: Vec<(&'static str, Vec<(String, String)>)>,
    pub period: String,
    pub custom_from: String,
    pub custom_to: String,
    pub step: &'static str,
    pub procedures: Vec<ProcedureRow>,
    pub fields: Vec<FieldRow>,
    pub officers: Vec<OfficerRow>,
    pub units: Vec<UnitRow>,
    pub channels: Vec<(String, String)>,
    pub procedure: String,
    pub field: String,
    pub officer: String,
    pub channel: String,
    pub unit: String,
    pub sort: String,
    pub show_units: bool,
}

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    /// Steps to take on a dashboard with nothing to show yet (`None` once anything was issued).
    first_run: Option<FirstRun>,
    form: FormData,
    scope_label: String,
    period_label: String,
    previous_label: String,
    sipas: Kpi,
    overall: Kpi,
    overall_ci: String,
    responses: String,
    invitations: String,
    response_rate: String,
    suppressed: bool,
    min_n: u64,
    trend_svg: String,
    trend_rows: Vec<TrendRow>,
    step_label: &'static str,
    elements_svg: String,
    tt01: Tt01Block,
    tables: Vec<Table>,
    /// Said when the figures come from a read replica that is behind (see [`lag_notice`]).
    lag_notice: Option<String>,
    funnels: Vec<FunnelView>,
    adjusted_label: &'static str,
    adjusted_explanation: &'static str,
}

/// The statistics the commune dashboard needs, read in one blocking call.
/// What a dashboard with no invitation in its chart's window says to do next.
struct FirstRun {
    /// Officers and procedures are imported.
    has_master_data: bool,
    /// The reader is an admin (the steps link to the admin pages).
    is_admin: bool,
}

struct DashboardData {
    now: Report,
    before: Report,
    trend: Report,
    by_procedure: Report,
    by_field: Report,
    by_officer: Report,
    /// Each officer's `CASE.OVERALL` count per procedure, for the mix adjustment.
    mix: Vec<Cell>,
    procedures: Vec<ProcedureRow>,
    fields: Vec<FieldRow>,
    officers: Vec<OfficerRow>,
    units: Vec<UnitRow>,
    unit_name: Option<String>,
    lag_notice: Option<String>,
}

/// The dashboard says so when its figures come from a read replica (`DATABASE_READ_URL`) that is
/// more than this many seconds behind the primary.
pub const LAG_SHOWN_SECONDS: f64 = 5.0;

/// A sentence for the dashboard when the connection `conn` reads from a standby that is more
/// than [`LAG_SHOWN_SECONDS`] behind; `None` on the primary or a replica that is up to date.
fn lag_notice(conn: &mut diesel::PgConnection) -> Option<String> {
    let state = db::server_state(conn).ok()?;
    let lag = state.lag_seconds.filter(|l| state.in_recovery && *l > LAG_SHOWN_SECONDS)?;
    let behind = if lag < 120.0 {
        format!("{} giây", lag.round() as i64)
    } else if lag < 7200.0 {
        format!("{} phút", (lag / 60.0).round() as i64)
    } else {
        format!("{} giờ", (lag / 3600.0).round() as i64)
    };
    Some(format!(
        "Số liệu đang chậm khoảng {behind} so với dữ liệu mới nhất (đọc từ máy chủ bản sao): \
         các phiếu vừa gửi sẽ hiện ra khi bản sao cập nhật xong. \
         The figures are about {behind} behind (read from the replica)."
    ))
}

fn query_for(filters: &Filters, period: &Period, group_by: GroupBy, unit: Option<String>) -> StatsQuery {
    let (from, to) = period.range();
    StatsQuery {
        filters: StatsFilters {
            unit,
            procedure: filters.procedure.clone(),
            field: filters.field.clone(),
            officer: filters.officer.clone(),
            channel: filters.channel.clone(),
        },
        ..StatsQuery::new(from, to, group_by)
    }
}

/// Checks the filters against the caller's scope: a leader's unit is forced, an officer may
/// only ask for themself. Returns the unit to filter by.
fn scoped_unit(caller: &Caller, filters: &Filters) -> Result<Option<String>, PageError> {
    match caller.unit_scope() {
        None => Ok(filters.unit.clone()),
        Some(own) => {
            if filters.unit.as_deref().is_some_and(|u| u != own) {
                return Err(PageError::Forbidden);
            }
            Ok(Some(own.to_string()))
        }
    }
}

fn bad_filter(message: String) -> PageError {
    PageError::App(AppError::bad_request("invalid_filter", message))
}

/// `GET /dashboard`
#[tracing::instrument(name = "dashboard", skip_all)]
pub async fn dashboard(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(&[Role::Admin, Role::Leader, Role::Officer])?;
    let filters = Filters::parse(&params, today()).map_err(bad_filter)?;
    let caller = Caller::Staff(staff.0.clone());
    if let Some(own) = caller.officer_scope() {
        // an officer's dashboard is their own page
        if filters.officer.as_deref().is_some_and(|o| o != own) {
            return Err(PageError::Forbidden);
        }
        let own = own.to_string();
        return officer_page(&state, &staff, &caller, own, filters).await;
    }
    let unit = scoped_unit(&caller, &filters)?;
    let sort = params.get("sort").cloned().unwrap_or_else(|| "rate".into());
    let instruments = state.instruments.clone();
    let min_n = min_n(&state);
    let f = filters.clone();
    let leader_unit = caller.unit_scope().map(str::to_string);
    let data = state
        .read(move |conn| {
            let (trend_from, trend_to) = f.step.range_ending(f.period.range().1);
            let trend_q = StatsQuery {
                from: trend_from,
                to: trend_to,
                ..query_for(&f, &f.period, f.step.group_by(), unit.clone())
            };
            let unit_name = match &unit {
                Some(u) => directory::units(conn)?.into_iter().find(|x| &x.code == u).map(|x| x.name),
                None => None,
            };
            Ok(DashboardData {
                now: fetch(
                    conn,
                    &instruments,
                    min_n,
                    &query_for(&f, &f.period, GroupBy::None, unit.clone()),
                )?,
                before: fetch(
                    conn,
                    &instruments,
                    min_n,
                    &query_for(&f, &f.period.previous(), GroupBy::None, unit.clone()),
                )?,
                trend: fetch(conn, &instruments, min_n, &trend_q)?,
                by_procedure: fetch(
                    conn,
                    &instruments,
                    min_n,
                    &query_for(&f, &f.period, GroupBy::Procedure, unit.clone()),
                )?,
                by_field: fetch(
                    conn,
                    &instruments,
                    min_n,
                    &query_for(&f, &f.period, GroupBy::Field, unit.clone()),
                )?,
                by_officer: fetch(
                    conn,
                    &instruments,
                    min_n,
                    &query_for(&f, &f.period, GroupBy::Officer, unit.clone()),
                )?,
                mix: compare::mix_cells(
                    conn,
                    instruments.combined(),
                    &query_for(&f, &f.period, GroupBy::Officer, unit.clone()),
                    true,
                )?,
                procedures: directory::procedures(conn)?,
                fields: directory::fields(conn)?,
                officers: directory::officers(conn, leader_unit.as_deref())?,
                units: directory::units(conn)?,
                unit_name,
                lag_notice: lag_notice(conn),
            })
        })
        .await?;
    let instrument = state.instruments.combined();
    let now = data.now.all();
    let before = data.before.all();
    let shown = |g: Option<&Group>, get: fn(&Group) -> Option<f64>| g.filter(|g| !g.suppressed).and_then(get);
    let (points, trend_rows) = trend(&data.trend);
    let officer_names = data.by_officer.groups.iter().map(|g| (g.key.clone(), g.label.clone())).collect();
    let adjusted = compare::adjust(&data.mix, &officer_names, min_n);
    let mut tables = Vec::new();
    for (id, title, key_title, view, param) in [
        ("by-procedure", "Theo thủ tục hành chính", "Thủ tục", &data.by_procedure, "procedure"),
        ("by-field", "Theo lĩnh vực", "Lĩnh vực", &data.by_field, "field"),
        ("by-officer", "Theo cán bộ", "Cán bộ", &data.by_officer, "officer"),
    ] {
        let mut rows: Vec<Row> = view
            .groups
            .iter()
            .map(|g| {
                let link = if param == "officer" {
                    format!(
                        "/dashboard/officers/{}?{}",
                        crate::http::pages::urlencode(&g.key),
                        filters.query(&["officer"], &[])
                    )
                } else {
                    format!("/dashboard?{}", filters.query(&[], &[(param, &g.key)]))
                };
                let mut r = row(g, link);
                if let Some(a) = adjusted.iter().find(|a| param == "officer" && a.key == g.key) {
                    r.adjust(a, sort != "raw");
                }
                r
            })
            .collect();
        sort_rows(&mut rows, &sort);
        tables.push(Table { id, title, key_title, rows, adjusted: param == "officer" });
    }
    let funnels: Vec<FunnelView> = [
        (
            "funnel-officers",
            "Biểu đồ phễu: cán bộ",
            compare::funnel_of(instrument, "officer", now, &data.by_officer.groups, min_n),
        ),
        (
            "funnel-procedures",
            "Biểu đồ phễu: thủ tục hành chính",
            compare::funnel_of(instrument, "procedure", now, &data.by_procedure.groups, min_n),
        ),
    ]
    .into_iter()
    .filter_map(|(id, title, f)| funnel_view(id, title, f))
    .collect();
    let changes = now.zip(before);
    let (from, to) = filters.period.range();
    let scope_label = data.unit_name.clone().unwrap_or_else(|| "Tất cả đơn vị".to_string());
    let nothing_yet = data.trend.groups.iter().all(|g| g.invitations == 0 && g.responses == 0);
    let first_run = nothing_yet.then(|| FirstRun {
        has_master_data: !data.officers.is_empty() && !data.procedures.is_empty(),
        is_admin: staff.0.role() == Role::Admin,
    });
    let page = DashboardPage {
        layout: Layout::new(&staff.0, text::DASHBOARD_TITLE, "dashboard"),
        first_run,
        form: FormData {
            periods: period_choices(today()),
            period: filters.period.key(),
            custom_from: from.to_string(),
            custom_to: to.to_string(),
            step: filters.step.as_str(),
            procedures: data.procedures,
            fields: data.fields,
            officers: data.officers,
            units: data.units,
            channels: CHANNELS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect(),
            procedure: filters.procedure.clone().unwrap_or_default(),
            field: filters.field.clone().unwrap_or_default(),
            officer: filters.officer.clone().unwrap_or_default(),
            channel: filters.channel.clone().unwrap_or_default(),
            unit: filters.unit.clone().unwrap_or_default(),
            sort: sort.clone(),
            show_units: caller.unit_scope().is_none(),
        },
        scope_label,
        period_label: filters.period.label(),
        previous_label: filters.period.previous().label(),
        sipas: kpi(
            shown(now, |g| g.sipas()),
            shown(before, |g| g.sipas()),
            changes.and_then(|(a, b)| compare::index_change(instrument, Formula::Share45, a, b)),
        ),
        overall: kpi(
            shown(now, Group::overall_rate),
            shown(before, Group::overall_rate),
            changes.and_then(|(a, b)| compare::overall_change(instrument, Formula::Share45, a, b)),
        ),
        overall_ci: interval(now.filter(|g| !g.suppressed).and_then(Group::overall_ci)),
        responses: count(now.map_or(0, |g| g.responses)),
        invitations: count(now.map_or(0, |g| g.invitations)),
        response_rate: percent(now.and_then(|g| g.response_rate)),
        suppressed: now.is_none_or(|g| g.suppressed),
        min_n,
        trend_svg: chart::trend_svg(&points, "Xu hướng mức độ hài lòng và số phiếu"),
        trend_rows,
        step_label: if filters.step == Step::Month { "tháng" } else { "quý" },
        elements_svg: chart::bars_svg(&element_bars(instrument, now), "Chỉ số năm yếu tố"),
        tt01: tt01_block(now),
        tables,
        lag_notice: data.lag_notice,
        funnels,
        adjusted_label: compare::ADJUSTED_LABEL,
        adjusted_explanation: compare::ADJUSTED_EXPLANATION,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "staff/officer.html")]
struct OfficerPage {
    layout: Layout,
    officer_code: String,
    officer_name: String,
    unit_code: String,
    period_label: String,
    previous_label: String,
    periods: Vec<(&'static str, Vec<(String, String)>)>,
    period: String,
    custom_from: String,
    custom_to: String,
    step: &'static str,
    overall: Kpi,
    overall_ci: String,
    /// Leaders and admins: the officer's procedure-mix-adjusted O/E beside the raw rate.
    adjusted: Option<AdjustedCells>,
    adjusted_label: &'static str,
    adjusted_explanation: &'static str,
    responses: String,
    response_rate: String,
    suppressed: bool,
    min_n: u64,
    trend_svg: String,
    trend_rows: Vec<TrendRow>,
    e3_label: String,
    e3_index: String,
    e3_n: String,
    e3_rows: Vec<CriterionRow>,
    tt01: Tt01Block,
    comments: Vec<CommentView>,
    action: String,
    back: Option<String>,
    lag_notice: Option<String>,
    /// On an officer's own page: how their figures are released, and up to which day.
    released: Option<String>,
}

pub struct CriterionRow {
    pub code: String,
    pub label: String,
    pub rate: String,
    pub n: String,
    pub ci: String,
}

pub struct CommentView {
    pub day: String,
    pub text: String,
}

/// The element whose statements judge the officer in person (E3, "the official who handled your
/// case").
const OFFICER_ELEMENT: &str = "E3";
/// Comments shown on an officer's page.
const COMMENT_LIMIT: i32 = 50;
/// Comments read for an officer's own page, which shows the newest blocks' (each in its own order).
const OWN_COMMENT_READ: i32 = 500;

async fn officer_page(
    state: &AppState,
    staff: &StaffPage,
    caller: &Caller,
    code: String,
    filters: Filters,
) -> Result<HttpResponse, PageError> {
    let instruments = state.instruments.clone();
    let min_n = min_n(state);
    let f = filters.clone();
    let c = code.clone();
    // an officer's own page is released in blocks (SECURITY.md, finding 2); leaders read it live
    let is_own = caller.officer_scope().is_some();
    // The procedure-mix-adjusted ratio is shown to leaders and admins. Not on an officer's own
    // page: its observed count moves with each answer, which would let an officer read a single
    // resident's answer by comparing before and after (issue 21, finding 2).
    let with_adjusted = !is_own;
    let found = state
        .read(move |conn| {
            let Some(officer) = directory::officer(conn, &c)? else { return Ok(None) };
            let unit = Some(officer.unit_code.clone());
            let mut q = query_for(&f, &f.period, GroupBy::None, unit.clone());
            q.filters.officer = Some(c.clone());
            q.filters.procedure = None;
            q.filters.field = None;
            let mut before_q = query_for(&f, &f.period.previous(), GroupBy::None, unit.clone());
            before_q.filters.officer = Some(c.clone());
            before_q.filters.procedure = None;
            before_q.filters.field = None;
            if is_own {
                // a channel would split a release block; flagged answers stay in (a review must
                // not move the figures by one answer)
                for q in [&mut q, &mut before_q] {
                    q.filters.channel = None;
                    q.include_flagged = true;
                }
            }
            let (trend_from, trend_to) = f.step.range_ending(f.period.range().1);
            let trend_q =
                StatsQuery { from: trend_from, to: trend_to, group_by: f.step.group_by(), ..q.clone() };
            let (from, to) = f.period.range();
            let adjusted = if with_adjusted {
                // the reference is the whole unit's rate per procedure over the same range
                let mix_q = StatsQuery {
                    filters: StatsFilters { unit: unit.clone(), ..StatsFilters::default() },
                    ..StatsQuery::new(q.from, q.to, GroupBy::Officer)
                };
                let mix = compare::mix_cells(conn, instruments.combined(), &mix_q, true)?;
                let labels = BTreeMap::from([(c.clone(), officer.name.clone())]);
                compare::adjust(&mix, &labels, min_n).into_iter().find(|a| a.key == c)
            } else {
                None
            };
            let release = if is_own { Some(Release::of_officer_now(conn, &c, min_n)?) } else { None };
            let mut read = |q: &StatsQuery| match &release {
                Some(r) => query::run_released(conn, &instruments, q, min_n, r, min_n),
                None => fetch(conn, &instruments, min_n, q),
            };
            let (now, before, trend) = (read(&q)?, read(&before_q)?, read(&trend_q)?);
            let comments = match &release {
                None => store::officer_comments(conn, &c, from, to, COMMENT_LIMIT)?
                    .into_iter()
                    .map(|c: Comment| CommentView { day: c.day.format("%d/%m/%Y").to_string(), text: c.text })
                    .collect(),
                Some(r) => match r.snap(from, to) {
                    None => Vec::new(),
                    Some((a, b)) => {
                        let mut rows: Vec<(NaiveDate, Comment)> =
                            store::officer_comments(conn, &c, a, b, OWN_COMMENT_READ)?
                                .into_iter()
                                .filter_map(|c| r.block_end(c.day).map(|end| (end, c)))
                                .collect();
                        // newest block first, and within a block in no order of arrival
                        rows.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.mix.cmp(&y.1.mix)));
                        rows.into_iter()
                            .take(COMMENT_LIMIT as usize)
                            .map(|(end, c)| CommentView {
                                day: format!("đến {}", end.format("%d/%m/%Y")),
                                text: c.text,
                            })
                            .collect()
                    }
                },
            };
            let released = release.map(|r| r.through());
            Ok(Some((officer, adjusted, now, before, trend, comments, released, lag_notice(conn))))
        })
        .await?;
    let Some((officer, adjusted, now, before, trend_view, comments, released, lag_notice)) = found else {
        return Err(PageError::NotFound);
    };
    if !caller.may_see_officer(&officer.code, &officer.unit_code) {
        return Err(PageError::Forbidden);
    }
    let instrument = state.instruments.combined();
    let g = now.all().filter(|g| !g.suppressed);
    let b = before.all().filter(|g| !g.suppressed);
    let (points, trend_rows) = trend(&trend_view);
    let e3 = g.and_then(|g| g.element(OFFICER_ELEMENT));
    let e3_rows = instrument
        .sections
        .iter()
        .filter(|s| s.code == OFFICER_ELEMENT)
        .flat_map(|s| s.items.iter())
        .map(|item| {
            let r = g.and_then(|g| g.criterion(&item.code));
            CriterionRow {
                code: item.code.clone(),
                label: item.vi.clone(),
                rate: percent(r.and_then(|r| r.rate)),
                n: if g.is_none() { "—".into() } else { count(r.map_or(0, |r| r.n)) },
                ci: interval(r.and_then(|r| r.ci95).map(|[a, b]| (a, b))),
            }
        })
        .collect();
    let (from, to) = filters.period.range();
    let page = OfficerPage {
        layout: Layout::new(&staff.0, format!("{} · {}", text::OFFICER_TITLE, officer.name), "dashboard"),
        officer_code: officer.code.clone(),
        officer_name: officer.name.clone(),
        unit_code: officer.unit_code.clone(),
        period_label: filters.period.label(),
        previous_label: filters.period.previous().label(),
        periods: period_choices(today()),
        period: filters.period.key(),
        custom_from: from.to_string(),
        custom_to: to.to_string(),
        step: filters.step.as_str(),
        overall: kpi(
            g.and_then(Group::overall_rate),
            b.and_then(Group::overall_rate),
            g.zip(b).and_then(|(a, b)| compare::overall_change(instrument, Formula::Share45, a, b)),
        ),
        overall_ci: interval(g.and_then(Group::overall_ci)),
        adjusted: adjusted.as_ref().map(AdjustedCells::of),
        adjusted_label: compare::ADJUSTED_LABEL,
        adjusted_explanation: compare::ADJUSTED_EXPLANATION,
        responses: count(now.all().map_or(0, |g| g.responses)),
        response_rate: percent(now.all().and_then(|g| g.response_rate)),
        suppressed: g.is_none(),
        min_n,
        trend_svg: chart::trend_svg(&points, "Xu hướng mức độ hài lòng và số phiếu"),
        trend_rows,
        e3_label: instrument
            .sections
            .iter()
            .find(|s| s.code == OFFICER_ELEMENT)
            .map(|s| s.vi.clone())
            .unwrap_or_default(),
        e3_index: percent(e3.and_then(|e| e.index)),
        e3_n: if g.is_none() { "—".into() } else { count(e3.map_or(0, |e| e.n)) },
        e3_rows,
        tt01: tt01_block(g),
        comments,
        released: released.map(|through| match through {
            Some(d) => format!(
                "Số liệu của riêng bạn được công bố theo từng đợt đủ {min_n} phiếu của những ngày đã qua \
                 (để không ai đọc được phiếu của một người dân): hiện đến hết ngày {}. \
                 Your own figures are released in blocks of at least {min_n} answers of past days.",
                d.format("%d/%m/%Y")
            ),
            None => format!(
                "Số liệu của riêng bạn được công bố theo từng đợt đủ {min_n} phiếu của những ngày đã qua \
                 (để không ai đọc được phiếu của một người dân): chưa đủ đợt đầu tiên. \
                 Your own figures are released in blocks of at least {min_n} answers of past days: none yet."
            ),
        }),
        action: if is_own { "/dashboard".into() } else { format!("/dashboard/officers/{}", officer.code) },
        back: (!is_own).then(|| format!("/dashboard?{}", filters.query(&["officer"], &[]))),
        lag_notice,
    };
    render(StatusCode::OK, &page)
}

/// `GET /dashboard/officers/{code}`: leaders see the officers of their unit, admins every
/// officer, an officer only themself.
pub async fn officer(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<String>,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(&[Role::Admin, Role::Leader, Role::Officer])?;
    let filters = Filters::parse(&params, today()).map_err(bad_filter)?;
    let caller = Caller::Staff(staff.0.clone());
    let code = path.into_inner();
    if caller.officer_scope().is_some_and(|own| own != code) {
        return Err(PageError::Forbidden);
    }
    officer_page(&state, &staff, &caller, code, filters).await
}
