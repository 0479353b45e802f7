//! The public results page of a unit (công khai kết quả): the latest closed quarter's overall
//! satisfaction and SIPAS index, the trend over the eight quarters before the current one, and
//! results by procedure and field for groups with at least `min_n` responses. Never officers,
//! never comments, never a quarter under way (it would move with each answer: finding 2).

use chrono::{Datelike, Months, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::content::{self, Group, Period};
use crate::error::AppError;
use crate::instrument::Instruments;
use crate::schema::units;
use crate::stats::compare::Change;
use crate::stats::model::Formula;
use crate::stats::query::GroupBy;

/// One figure line of the public page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicGroup {
    pub key: String,
    pub label: String,
    pub responses: u64,
    pub overall: Option<f64>,
    pub overall_ci95: Option<[f64; 2]>,
    pub sipas_index: Option<f64>,
}

/// One quarter of the trend; figures are null when the quarter had fewer than `min_n` responses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub period: String,
    pub label: String,
    pub responses: u64,
    pub overall: Option<f64>,
    pub sipas_index: Option<f64>,
    /// The change of overall satisfaction since the quarter before, with its 95% interval (a
    /// change only when the interval excludes zero); null when either quarter is suppressed.
    pub overall_change: Option<Change>,
}

/// What the public page and its JSON twin show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicResults {
    pub unit: String,
    pub unit_name: String,
    #[schema(value_type = String)]
    pub measure: &'static str,
    pub min_n: u64,
    /// The latest closed quarter with at least `min_n` responses (a quarter under way is never
    /// shown: it would move with each answer).
    pub quarter: Option<String>,
    pub quarter_label: Option<String>,
    /// Always false: only closed quarters are published (kept for the portal's readers).
    pub quarter_in_progress: bool,
    pub latest: Option<PublicGroup>,
    /// The latest quarter's change of overall satisfaction against the quarter before it.
    pub latest_change: Option<Change>,
    pub trend: Vec<TrendPoint>,
    pub procedures: Vec<PublicGroup>,
    pub fields: Vec<PublicGroup>,
    #[schema(value_type = String)]
    pub method: &'static str,
}

pub const METHOD_VI: &str = "Sau khi nhận kết quả giải quyết thủ tục hành chính, người dân được mời đánh giá bằng mã QR trên phiếu hẹn, \
không cần cho biết tên hay số điện thoại. Tỉ lệ hài lòng là số người chọn “Hài lòng” hoặc “Rất hài lòng” chia cho số người trả lời câu hỏi. \
Chỉ số SIPAS là trung bình của 5 yếu tố (tiếp cận dịch vụ, thủ tục hành chính, công chức, kết quả, tiếp nhận và xử lý góp ý), \
mỗi yếu tố là trung bình các tiêu chí của nó. Nhóm có ít hơn {min_n} phiếu không được công bố để không ai bị nhận diện.";

fn public_group(g: &Group) -> PublicGroup {
    PublicGroup {
        key: g.key.clone(),
        label: g.label.clone(),
        responses: g.responses,
        overall: g.overall.as_ref().and_then(|o| o.rate),
        overall_ci95: g.overall.as_ref().and_then(|o| o.ci95),
        sipas_index: g.sipas_index,
    }
}

fn quarter_key(d: NaiveDate) -> String {
    format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
}

/// The public results of `unit`, or a 404 when the unit is unknown or its page is switched off.
pub fn results(
    conn: &mut PgConnection,
    instruments: &Instruments,
    unit: &str,
    min_n: u64,
) -> Result<PublicResults, AppError> {
    let not_found = || AppError::not_found("not_found", "There is no public results page at this address.");
    let (name, on): (String, bool) = units::table
        .find(unit)
        .select((units::name, units::public_page))
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    if !on {
        return Err(not_found());
    }
    // Closed quarters only (SECURITY.md, finding 2): a quarter under way would move with every
    // answer, so reading the page before and after serving a resident would tell their answer's
    // direction. A quarter appears whole once it has ended, and does not change afterwards.
    let today = crate::kernel::time::today();
    let current = Period::parse(&quarter_key(today)).ok_or_else(|| AppError::internal("bad quarter"))?;
    let last = current.previous().ok_or_else(|| AppError::internal("no previous quarter"))?;
    let first = last.from.checked_sub_months(Months::new(21)).unwrap_or(last.from);
    let quarters = content::stats_groups(conn, instruments, unit, first, last.to, GroupBy::Quarter, min_n)?;
    let trend: Vec<TrendPoint> = quarters
        .iter()
        .enumerate()
        .map(|(i, g)| TrendPoint {
            period: g.key.clone(),
            label: g.label.clone(),
            responses: g.responses,
            overall: g.overall.as_ref().and_then(|o| o.rate),
            sipas_index: g.sipas_index,
            overall_change: i.checked_sub(1).and_then(|j| quarters.get(j)).and_then(|before| {
                super::report::overall_change(instruments.combined(), Formula::Share45, g, before)
            }),
        })
        .collect();
    let latest = quarters.iter().rev().find(|g| !g.suppressed);
    let latest_change =
        latest.and_then(|g| trend.iter().find(|t| t.period == g.key)).and_then(|t| t.overall_change.clone());
    let (mut procedures, mut fields) = (Vec::new(), Vec::new());
    if let Some(q) = latest.and_then(|g| Period::parse(&g.key)) {
        let keep = |gs: Vec<Group>| {
            gs.iter().filter(|g| !g.suppressed && g.responses >= min_n).map(public_group).collect::<Vec<_>>()
        };
        procedures =
            keep(content::stats_groups(conn, instruments, unit, q.from, q.to, GroupBy::Procedure, min_n)?);
        fields = keep(content::stats_groups(conn, instruments, unit, q.from, q.to, GroupBy::Field, min_n)?);
    }
    Ok(PublicResults {
        unit: unit.to_string(),
        unit_name: name,
        measure: content::MEASURE_VI,
        min_n,
        quarter: latest.map(|g| g.key.clone()),
        quarter_label: latest.map(|g| g.label.clone()),
        quarter_in_progress: false,
        latest: latest.map(public_group),
        latest_change,
        trend,
        procedures,
        fields,
        method: METHOD_VI,
    })
}

/// Switches a unit's public page on or off (recorded in the audit log).
pub fn set_public_page(conn: &mut PgConnection, unit: &str, on: bool, actor: &str) -> Result<(), String> {
    conn.transaction(|conn| {
        let n = diesel::update(units::table.find(unit))
            .set((units::public_page.eq(on), units::updated_at.eq(Utc::now())))
            .execute(conn)?;
        if n == 0 {
            return Ok(false);
        }
        crate::kernel::audit::audit(conn, actor, "unit.public_page", unit, serde_json::json!({ "on": on }))?;
        Ok(true)
    })
    .map_err(|e: diesel::result::Error| e.to_string())
    .and_then(|found| if found { Ok(()) } else { Err(format!("unit `{unit}` does not exist")) })
}
