//! TT 01/2018 indicators 5, 6 and 9, which belong to the unit and a reporting period rather than
//! to a case (docs/TT01.md): a checked [`Record`] (parse, don't validate), how it is stored (one
//! current value per unit, indicator and period; a new record supersedes the old one, which is
//! kept, and every record goes to the audit log), and what the statistics read of them. Plain sync
//! diesel, no actix.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{self, report_period_range};
use crate::schema::{unit_indicator_scores as uis, units};

/// The indicators a unit records itself, by number.
pub const UNIT_INDICATORS: [i16; 3] = [5, 6, 9];
/// The longest evidence note, in characters.
pub const NOTE_MAX: usize = 2000;

/// The item code of an indicator number (`5` → `TT01.I5`).
pub fn code_of(indicator: i16) -> String {
    format!("TT01.I{indicator}")
}

/// Why a record is refused: the field it names and a sentence (English for the API; the page
/// has its own Vietnamese words, see [`Refusal::vi`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The API error code (`invalid_indicator`, `invalid_points`, `invalid_period`, `invalid_note`).
    pub code: &'static str,
    pub field: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, field: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { code, field, message: message.into() }
    }

    /// The refusal in Vietnamese, for the leader's page.
    pub fn vi(&self) -> String {
        match self.field {
            "indicator" => "Chỉ số phải là chỉ số 5, 6 hoặc 9.".into(),
            "points" => "Điểm phải là 0, 1 hoặc 2.".into(),
            "period" => {
                "Kỳ phải là một quý, 6 tháng hoặc một năm từ 2000 đến 2100, ví dụ 2026-Q1, 2026-H1, 2026."
                    .into()
            }
            _ => format!("Ghi chú minh chứng là bắt buộc, tối đa {NOTE_MAX} ký tự."),
        }
    }
}

/// A checked score to record: indicator 5, 6 or 9, points 0 to 2, a quarter, half-year or year,
/// and a non-empty evidence note of at most [`NOTE_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub indicator: i16,
    pub period: String,
    pub points: i16,
    pub note: String,
}

impl Record {
    /// Checks the fields in the order a form shows them; the first bad one is named.
    pub fn parse(indicator: i64, period: &str, points: i64, note: &str) -> Result<Record, Refusal> {
        let indicator =
            i16::try_from(indicator).ok().filter(|i| UNIT_INDICATORS.contains(i)).ok_or_else(|| {
                Refusal::new("invalid_indicator", "indicator", "`indicator` must be 5, 6 or 9.")
            })?;
        let period = period.trim();
        if report_period_range(period).is_none() {
            return Err(Refusal::new(
                "invalid_period",
                "period",
                "`period` must be a quarter, half-year or year between 2000 and 2100: 2026-Q1, 2026-H1 or 2026.",
            ));
        }
        let points = i16::try_from(points)
            .ok()
            .filter(|p| (0..=2).contains(p))
            .ok_or_else(|| Refusal::new("invalid_points", "points", "`points` must be 0, 1 or 2."))?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > NOTE_MAX {
            return Err(Refusal::new(
                "invalid_note",
                "note",
                format!("`note` is required: the evidence the score rests on, 1 to {NOTE_MAX} characters."),
            ));
        }
        Ok(Record { indicator, period: period.to_string(), points, note: note.to_string() })
    }
}

/// One stored score.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = uis)]
pub struct Stored {
    pub id: i64,
    pub unit_code: String,
    pub indicator: i16,
    pub period: String,
    pub points: i16,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
}

/// True when the unit exists.
pub fn unit_exists(conn: &mut PgConnection, unit: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(units::table.find(unit))).get_result(conn)
}

/// Records a score for `unit` as its current value, superseding the one before (kept), and
/// audits it, in one transaction. Returns the stored row.
pub fn record(conn: &mut PgConnection, unit: &str, r: &Record, actor: &str) -> QueryResult<Stored> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let current = uis::table
            .filter(uis::unit_code.eq(unit))
            .filter(uis::indicator.eq(r.indicator))
            .filter(uis::period.eq(&r.period))
            .filter(uis::superseded_at.is_null());
        let before: Option<(i64, i16)> =
            current.select((uis::id, uis::points)).for_update().first(conn).optional()?;
        if let Some((id, _)) = before {
            diesel::update(uis::table.find(id)).set(uis::superseded_at.eq(now)).execute(conn)?;
        }
        let stored: Stored = diesel::insert_into(uis::table)
            .values((
                uis::unit_code.eq(unit),
                uis::indicator.eq(r.indicator),
                uis::period.eq(&r.period),
                uis::points.eq(r.points),
                uis::note.eq(&r.note),
                uis::recorded_by.eq(actor),
                uis::recorded_at.eq(now),
            ))
            .returning(Stored::as_returning())
            .get_result(conn)?;
        crate::kernel::audit::audit(
            conn,
            actor,
            "tt01.unit_indicator.record",
            &format!("unit:{unit}"),
            serde_json::json!({
                "indicator": code_of(r.indicator),
                "period": r.period,
                "points": r.points,
                "note": r.note,
                "id": stored.id,
                "supersedes": before.map(|(id, _)| id),
                "points_before": before.map(|(_, p)| p),
            }),
        )?;
        Ok(stored)
    })
}

/// The scores of a unit (or every unit, `None`), current ones only unless `history`, optionally
/// of one period; newest period first, then by indicator.
pub fn list(
    conn: &mut PgConnection,
    unit: Option<&str>,
    period: Option<&str>,
    history: bool,
) -> QueryResult<Vec<Stored>> {
    let mut q = uis::table.select(Stored::as_select()).into_boxed();
    if let Some(u) = unit {
        q = q.filter(uis::unit_code.eq(u.to_string()));
    }
    if let Some(p) = period {
        q = q.filter(uis::period.eq(p.to_string()));
    }
    if !history {
        q = q.filter(uis::superseded_at.is_null());
    }
    q.order((uis::unit_code.asc(), uis::period.desc(), uis::indicator.asc(), uis::recorded_at.desc()))
        .load(conn)
}

/// The current scores of these units for these periods: (unit, period, indicator code, points).
pub fn current_of(
    conn: &mut PgConnection,
    units: &[String],
    periods: &[String],
) -> QueryResult<Vec<(String, String, String, i16)>> {
    if units.is_empty() || periods.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, i16, i16)> = uis::table
        .filter(uis::unit_code.eq_any(units))
        .filter(uis::period.eq_any(periods))
        .filter(uis::superseded_at.is_null())
        .select((uis::unit_code, uis::period, uis::indicator, uis::points))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, p, i, pts)| (u, p, code_of(i), pts)).collect())
}

/// The Vietnamese name of a unit indicator (`TT 01/2018` Điều 13).
pub fn name_of(indicator: i16) -> &'static str {
    model::tt01_name(&code_of(indicator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_first_bad_field() {
        let ok = Record::parse(5, " 2026-Q1 ", 2, " Biên bản kiểm tra ").unwrap();
        assert_eq!(
            (ok.indicator, ok.period.as_str(), ok.points, ok.note.as_str()),
            (5, "2026-Q1", 2, "Biên bản kiểm tra")
        );
        let field =
            |i, p: &str, pts, n: &str| Record::parse(i, p, pts, n).map(|_| "ok").unwrap_or_else(|e| e.field);
        assert_eq!(field(7, "2026-Q1", 2, "x"), "indicator");
        assert_eq!(field(5, "2026-01", 2, "x"), "period");
        assert_eq!(field(5, "2026-Q1", 3, "x"), "points");
        assert_eq!(field(5, "2026-Q1", -1, "x"), "points");
        assert_eq!(field(9, "2026", 0, "   "), "note");
        assert_eq!(field(9, "2026", 0, &"a".repeat(NOTE_MAX + 1)), "note");
        assert_eq!(field(9, "2026-H2", 0, &"ạ".repeat(NOTE_MAX)), "ok");
    }
}
