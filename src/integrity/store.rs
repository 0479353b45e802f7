//! Plain diesel for reviews, daily caseloads and the integrity report.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, SmallInt, Text, Timestamptz};

use super::model::Verdict;
use crate::instrument::{Instruments, OVERALL};
use crate::kernel::audit::audit;
use crate::kernel::time::range_bounds;
use crate::schema::{cases_daily, integrity_reviews, officers, responses};
use crate::stats::rollup;

/// A flagged response, for the review page.
#[derive(Debug, Clone, QueryableByName)]
pub struct FlaggedRow {
    #[diesel(sql_type = BigInt)]
    pub response_id: i64,
    #[diesel(sql_type = Text)]
    pub officer_code: String,
    #[diesel(sql_type = Text)]
    pub officer_name: String,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_at: DateTime<Utc>,
    #[diesel(sql_type = Array<Text>)]
    pub reasons: Vec<String>,
    #[diesel(sql_type = Bool)]
    pub held: bool,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub overall: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    pub verdict: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
}

/// The unit's flagged responses submitted in the range, by officer then time.
pub fn flagged(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<FlaggedRow>> {
    let (start, end) = range_bounds(from, to);
    diesel::sql_query(
        "SELECT r.id AS response_id, r.officer_code, o.name AS officer_name, r.submitted_at, \
                array_agg(f.reason ORDER BY f.reason) AS reasons, r.held, \
                (SELECT a.level FROM answers a WHERE a.response_id = r.id AND a.item_code = $4) AS overall, \
                v.verdict, v.note \
         FROM responses r JOIN integrity_flags f ON f.response_id = r.id \
         JOIN officers o ON o.code = r.officer_code \
         LEFT JOIN integrity_reviews v ON v.response_id = r.id \
         WHERE r.unit_code = $1 AND r.submitted_at >= $2 AND r.submitted_at < $3 \
         GROUP BY r.id, o.name, v.verdict, v.note \
         ORDER BY r.officer_code, r.submitted_at, r.id",
    )
    .bind::<Text, _>(unit)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Text, _>(OVERALL)
    .load(conn)
}

/// Why a review was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such response in this unit")]
    NotFound,
    #[error("the response is not flagged")]
    NotFlagged,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Records a leader's verdict on a flagged response of a unit the caller may act for: genuine puts it back into the
/// statistics, invalid keeps it out. Audited. Returns whether the response is now held.
pub fn review(
    conn: &mut PgConnection,
    instruments: &Instruments,
    may_act_for_unit: &dyn Fn(&str) -> bool,
    response_id: i64,
    verdict: Verdict,
    note: &str,
    actor: &str,
) -> Result<bool, ReviewError> {
    conn.transaction(|conn| {
        let owner: Option<String> = responses::table
            .find(response_id)
            .select(responses::unit_code)
            .for_update()
            .first(conn)
            .optional()?;
        if !owner.as_deref().is_some_and(may_act_for_unit) {
            return Err(ReviewError::NotFound);
        }
        let reasons: Vec<String> = crate::schema::integrity_flags::table
            .filter(crate::schema::integrity_flags::response_id.eq(response_id))
            .select(crate::schema::integrity_flags::reason)
            .load(conn)?;
        if reasons.is_empty() {
            return Err(ReviewError::NotFlagged);
        }
        diesel::insert_into(integrity_reviews::table)
            .values((
                integrity_reviews::response_id.eq(response_id),
                integrity_reviews::verdict.eq(verdict.code()),
                integrity_reviews::note.eq(note),
                integrity_reviews::reviewed_by.eq(actor),
                integrity_reviews::reviewed_at.eq(Utc::now()),
            ))
            .on_conflict(integrity_reviews::response_id)
            .do_update()
            .set((
                integrity_reviews::verdict.eq(verdict.code()),
                integrity_reviews::note.eq(note),
                integrity_reviews::reviewed_by.eq(actor),
                integrity_reviews::reviewed_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        let held = verdict == Verdict::Invalid;
        rollup::set_held(conn, instruments, response_id, held)?;
        audit(
            conn,
            actor,
            "integrity.review",
            &format!("response:{response_id}"),
            serde_json::json!({"verdict": verdict.code(), "note": note, "reasons": reasons}),
        )?;
        Ok(held)
    })
}

/// One officer's cases handled on one local day.
#[derive(Debug, Clone)]
pub struct CaseDay {
    pub officer_code: String,
    pub day: NaiveDate,
    pub cases: i32,
}

/// Why a caseload was refused.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    #[error("entry {index}: officer `{officer}` is not an officer of unit {unit}")]
    UnknownOfficer { index: usize, officer: String, unit: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Stores (replaces) the caseload of the unit's officers, all or nothing; audited. Returns how
/// many days were stored.
pub fn upsert_cases(
    conn: &mut PgConnection,
    unit: &str,
    days: &[CaseDay],
    actor: &str,
) -> Result<usize, CasesError> {
    conn.transaction(|conn| {
        let ours: Vec<String> =
            officers::table.filter(officers::unit_code.eq(unit)).select(officers::code).load(conn)?;
        for (index, d) in days.iter().enumerate() {
            if !ours.contains(&d.officer_code) {
                return Err(CasesError::UnknownOfficer {
                    index,
                    officer: d.officer_code.clone(),
                    unit: unit.to_string(),
                });
            }
        }
        let now = Utc::now();
        for d in days {
            diesel::insert_into(cases_daily::table)
                .values((
                    cases_daily::officer_code.eq(&d.officer_code),
                    cases_daily::day.eq(d.day),
                    cases_daily::unit_code.eq(unit),
                    cases_daily::cases.eq(d.cases),
                    cases_daily::updated_at.eq(now),
                    cases_daily::updated_by.eq(actor),
                ))
                .on_conflict((cases_daily::officer_code, cases_daily::day))
                .do_update()
                .set((
                    cases_daily::cases.eq(d.cases),
                    cases_daily::updated_at.eq(now),
                    cases_daily::updated_by.eq(actor),
                ))
                .execute(conn)?;
        }
        audit(conn, actor, "cases.daily", &format!("unit:{unit}"), serde_json::json!({"days": days.len()}))?;
        Ok(days.len())
    })
}

/// The unit each officer belongs to (for the CSV import, which names no unit).
pub fn unit_of_officer(conn: &mut PgConnection, officer: &str) -> QueryResult<Option<String>> {
    officers::table.find(officer).select(officers::unit_code).first(conn).optional()
}

/// What the integrity report and the evidence both count per officer.
#[derive(Debug, Clone, QueryableByName)]
pub struct OfficerBase {
    #[diesel(sql_type = Text)]
    pub officer_code: String,
    #[diesel(sql_type = Text)]
    pub officer_name: String,
    #[diesel(sql_type = BigInt)]
    pub invitations: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub cases: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub responses: i64,
    #[diesel(sql_type = BigInt)]
    pub top_scores: i64,
}

/// One officer's line of the integrity report.
#[derive(Debug, Clone, QueryableByName)]
pub struct OfficerLine {
    #[diesel(embed)]
    pub base: OfficerBase,
    #[diesel(sql_type = BigInt)]
    pub flagged: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = BigInt)]
    pub desk_network: i64,
    #[diesel(sql_type = BigInt)]
    pub too_fast: i64,
    #[diesel(sql_type = BigInt)]
    pub same_device: i64,
    #[diesel(sql_type = BigInt)]
    pub burst: i64,
}

/// A query over a unit and local dates, with `$1` the unit, `$2`/`$3` the UTC bounds, `$4`/`$5`
/// the dates and `$6` `CASE.OVERALL`; further binds follow.
fn range_query<'a>(
    unit: &'a str,
    from: NaiveDate,
    to: NaiveDate,
    sql: &str,
) -> diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
    let (start, end) = range_bounds(from, to);
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Text, _>(unit)
        .bind::<Timestamptz, _>(start)
        .bind::<Timestamptz, _>(end)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(OVERALL)
}

/// Per officer of the unit: invitations issued, cases handled (when the one-stop system reported
/// any), responses and their top scores (all responses, flagged ones included: the report is
/// about behaviour, not satisfaction), and flagged responses by reason.
pub fn report(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<OfficerLine>> {
    range_query(unit, from, to,
        "WITH inv AS (SELECT officer_code, count(*) AS n FROM invitations \
                      WHERE unit_code = $1 AND issued_at >= $2 AND issued_at < $3 GROUP BY 1), \
              cas AS (SELECT officer_code, sum(cases)::bigint AS n FROM cases_daily \
                      WHERE unit_code = $1 AND day BETWEEN $4 AND $5 GROUP BY 1), \
              res AS (SELECT r.officer_code, count(*) AS n, \
                             count(*) FILTER (WHERE a.level = 5) AS top, \
                             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM integrity_flags f WHERE f.response_id = r.id)) AS flagged, \
                             count(*) FILTER (WHERE r.held) AS held \
                      FROM responses r LEFT JOIN answers a ON a.response_id = r.id AND a.item_code = $6 \
                      WHERE r.unit_code = $1 AND r.submitted_at >= $2 AND r.submitted_at < $3 GROUP BY 1), \
              fl AS (SELECT r.officer_code, \
                            count(*) FILTER (WHERE f.reason = 'desk_network') AS desk_network, \
                            count(*) FILTER (WHERE f.reason = 'too_fast') AS too_fast, \
                            count(*) FILTER (WHERE f.reason = 'same_device') AS same_device, \
                            count(*) FILTER (WHERE f.reason = 'burst') AS burst \
                     FROM responses r JOIN integrity_flags f ON f.response_id = r.id \
                     WHERE r.unit_code = $1 AND r.submitted_at >= $2 AND r.submitted_at < $3 GROUP BY 1) \
         SELECT o.code AS officer_code, o.name AS officer_name, coalesce(inv.n, 0) AS invitations, cas.n AS cases, \
                coalesce(res.n, 0) AS responses, coalesce(res.top, 0) AS top_scores, \
                coalesce(res.flagged, 0) AS flagged, coalesce(res.held, 0) AS held, \
                coalesce(fl.desk_network, 0) AS desk_network, coalesce(fl.too_fast, 0) AS too_fast, \
                coalesce(fl.same_device, 0) AS same_device, coalesce(fl.burst, 0) AS burst \
         FROM officers o LEFT JOIN inv ON inv.officer_code = o.code LEFT JOIN cas ON cas.officer_code = o.code \
         LEFT JOIN res ON res.officer_code = o.code LEFT JOIN fl ON fl.officer_code = o.code \
         WHERE o.unit_code = $1 AND (o.active OR inv.n IS NOT NULL OR res.n IS NOT NULL OR cas.n IS NOT NULL) \
         ORDER BY o.code",
    )
    .load(conn)
}

/// One officer's counts behind the evidence (see `evidence`).
#[derive(Debug, Clone, QueryableByName)]
pub struct EvidenceLine {
    #[diesel(sql_type = Text)]
    pub unit_code: String,
    #[diesel(embed)]
    pub base: OfficerBase,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    #[diesel(sql_type = BigInt)]
    pub quick: i64,
    #[diesel(sql_type = BigInt)]
    pub outside_hours: i64,
}

/// Per officer of `unit` and of the other communes of its province held by this installation:
/// invitations issued in the range and how many of them were answered (whenever), cases handled,
/// and the responses submitted in the range, with their top scores (`CASE.OVERALL` 5), those sent
/// within `quick_minutes` of issue, and those sent outside desk hours (local time; before `opens`
/// or from `closes` on, or on a Saturday or Sunday). Flagged responses included.
pub fn evidence_counts(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
    quick_minutes: i64,
    opens: chrono::NaiveTime,
    closes: chrono::NaiveTime,
) -> QueryResult<Vec<EvidenceLine>> {
    range_query(unit, from, to,
        "WITH units_of AS (SELECT code FROM units WHERE province_code = \
                           (SELECT province_code FROM units WHERE code = $1) OR code = $1), \
              inv AS (SELECT i.officer_code, count(*) AS n, \
                             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM responses r WHERE r.invitation_id = i.id)) AS answered \
                      FROM invitations i WHERE i.unit_code IN (SELECT code FROM units_of) \
                      AND i.issued_at >= $2 AND i.issued_at < $3 GROUP BY 1), \
              cas AS (SELECT officer_code, sum(cases)::bigint AS n FROM cases_daily \
                      WHERE unit_code IN (SELECT code FROM units_of) AND day BETWEEN $4 AND $5 GROUP BY 1), \
              res AS (SELECT r.officer_code, count(*) AS n, \
                             count(*) FILTER (WHERE a.level = 5) AS top, \
                             count(*) FILTER (WHERE r.submitted_at - i.issued_at <= make_interval(mins => $7::int)) AS quick, \
                             count(*) FILTER (WHERE extract(isodow FROM l.at) >= 6 OR l.at::time < $8 OR l.at::time >= $9) AS outside \
                      FROM responses r JOIN invitations i ON i.id = r.invitation_id \
                      CROSS JOIN LATERAL (SELECT (r.submitted_at AT TIME ZONE 'UTC') + interval '7 hours' AS at) l \
                      LEFT JOIN answers a ON a.response_id = r.id AND a.item_code = $6 \
                      WHERE r.unit_code IN (SELECT code FROM units_of) \
                      AND r.submitted_at >= $2 AND r.submitted_at < $3 GROUP BY 1) \
         SELECT o.unit_code, o.code AS officer_code, o.name AS officer_name, \
                coalesce(inv.n, 0) AS invitations, coalesce(inv.answered, 0) AS answered, cas.n AS cases, \
                coalesce(res.n, 0) AS responses, coalesce(res.top, 0) AS top_scores, \
                coalesce(res.quick, 0) AS quick, coalesce(res.outside, 0) AS outside_hours \
         FROM officers o LEFT JOIN inv ON inv.officer_code = o.code LEFT JOIN cas ON cas.officer_code = o.code \
         LEFT JOIN res ON res.officer_code = o.code \
         WHERE o.unit_code IN (SELECT code FROM units_of) \
         AND (o.active OR inv.n IS NOT NULL OR res.n IS NOT NULL OR cas.n IS NOT NULL) \
         ORDER BY o.unit_code, o.code",
    )
    .bind::<diesel::sql_types::Integer, _>(i32::try_from(quick_minutes).unwrap_or(i32::MAX))
    .bind::<diesel::sql_types::Time, _>(opens)
    .bind::<diesel::sql_types::Time, _>(closes)
    .load(conn)
}

/// The evidence of `unit`'s officers in the range (see `evidence`).
pub fn evidence(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
    min_n: u64,
) -> QueryResult<super::evidence::Evidence> {
    use super::evidence::{Count, DESK_CLOSES, DESK_OPENS, OfficerCounts, QUICK_MINUTES, assess};
    let time = |(h, m): (u32, u32)| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    let lines = evidence_counts(conn, unit, from, to, QUICK_MINUTES, time(DESK_OPENS), time(DESK_CLOSES))?;
    let count = |k: i64, n: i64| Count { k: u64::try_from(k).unwrap_or(0), n: u64::try_from(n).unwrap_or(0) };
    let all: Vec<OfficerCounts> = lines
        .into_iter()
        .map(|l| {
            let b = l.base;
            OfficerCounts {
                counts: [
                    Some(count(b.top_scores, b.responses)),
                    Some(count(l.answered, b.invitations)),
                    // no rate makes sense of more slips than the cases reported
                    b.cases.filter(|c| *c >= b.invitations).map(|c| count(b.invitations, c)),
                    Some(count(l.quick, b.responses)),
                    Some(count(l.outside_hours, b.responses)),
                ],
                responses: u64::try_from(b.responses).unwrap_or(0),
                unit_code: l.unit_code,
                officer_code: b.officer_code,
                officer_name: b.officer_name,
            }
        })
        .collect();
    Ok(assess(&all, unit, min_n))
}
