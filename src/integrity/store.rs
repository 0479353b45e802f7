//! Plain diesel for reviews, daily caseloads, the integrity report and follow-ups.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, SmallInt, Text, Timestamptz};

use super::model::{TT01_I7, Verdict};
use crate::instrument::{Instruments, OVERALL};
use crate::kernel::audit::audit;
use crate::kernel::time::range_bounds;
use crate::schema::{cases_daily, followups, integrity_reviews, officers, responses};
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

/// One officer's line of the integrity report.
#[derive(Debug, Clone, QueryableByName)]
pub struct OfficerLine {
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

/// Per officer of the unit: invitations issued, cases handled (when the one-stop system reported
/// any), responses and their top scores (all responses, flagged ones included: the report is
/// about behaviour, not satisfaction), and flagged responses by reason.
pub fn report(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<OfficerLine>> {
    let (start, end) = range_bounds(from, to);
    diesel::sql_query(
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
    .bind::<Text, _>(unit)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Text, _>(OVERALL)
    .load(conn)
}

/// A follow-up, as listed.
#[derive(Debug, Clone, QueryableByName)]
pub struct FollowupRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub response_id: i64,
    #[diesel(sql_type = Text)]
    pub officer_code: String,
    #[diesel(sql_type = Array<Text>)]
    pub triggers: Vec<String>,
    #[diesel(sql_type = Text)]
    pub owner: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub opened_at: DateTime<Utc>,
    #[diesel(sql_type = Date)]
    pub deadline: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub comment: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub overall: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reply: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub replied_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    #[diesel(sql_type = Text)]
    pub outcome_note: String,
}

/// Filters of the follow-up list.
#[derive(Debug, Clone, Default)]
pub struct FollowupFilter {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub officer: Option<String>,
    pub trigger: Option<String>,
    /// Only those past their deadline and not answered or closed (as of `today`).
    pub overdue: Option<bool>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The unit's follow-ups, oldest deadline first.
pub fn list_followups(
    conn: &mut PgConnection,
    unit: &str,
    f: &FollowupFilter,
    today: NaiveDate,
    id: Option<i64>,
) -> QueryResult<Vec<FollowupRow>> {
    let (start, end) = match (f.from, f.to) {
        (Some(a), Some(b)) => {
            let (s, e) = range_bounds(a, b);
            (Some(s), Some(e))
        }
        (Some(a), None) => (Some(range_bounds(a, a).0), None),
        (None, Some(b)) => (None, Some(range_bounds(b, b).1)),
        (None, None) => (None, None),
    };
    diesel::sql_query(
        "SELECT f.id, f.response_id, f.officer_code, f.triggers, f.owner, f.status, f.opened_at, f.deadline, \
                (SELECT a.text FROM answers a WHERE a.response_id = f.response_id AND a.item_code = 'COMMENT') AS comment, \
                (SELECT a.level FROM answers a WHERE a.response_id = f.response_id AND a.item_code = $11) AS overall, \
                f.reply, f.replied_at, f.outcome, f.outcome_note \
         FROM followups f \
         WHERE f.unit_code = $1 AND ($2::text IS NULL OR f.status = $2) AND ($3::text IS NULL OR f.owner = $3) \
           AND ($4::text IS NULL OR f.officer_code = $4) AND ($5::text IS NULL OR $5 = ANY(f.triggers)) \
           AND ($6::boolean IS NULL OR $6 = (f.deadline < $7 AND f.status IN ('new', 'in_progress'))) \
           AND ($8::timestamptz IS NULL OR f.opened_at >= $8) AND ($9::timestamptz IS NULL OR f.opened_at < $9) \
           AND ($10::bigint IS NULL OR f.id = $10) \
         ORDER BY f.deadline, f.id",
    )
    .bind::<Text, _>(unit)
    .bind::<Nullable<Text>, _>(f.status.as_deref())
    .bind::<Nullable<Text>, _>(f.owner.as_deref())
    .bind::<Nullable<Text>, _>(f.officer.as_deref())
    .bind::<Nullable<Text>, _>(f.trigger.as_deref())
    .bind::<Nullable<Bool>, _>(f.overdue)
    .bind::<Date, _>(today)
    .bind::<Nullable<Timestamptz>, _>(start)
    .bind::<Nullable<Timestamptz>, _>(end)
    .bind::<Nullable<BigInt>, _>(id)
    .bind::<Text, _>(OVERALL)
    .load(conn)
}

/// The unit of a follow-up.
pub fn followup_unit(conn: &mut PgConnection, id: i64) -> QueryResult<Option<String>> {
    followups::table.find(id).select(followups::unit_code).first(conn).optional()
}

/// Why a change to a follow-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum FollowupError {
    #[error("no such follow-up in this unit")]
    NotFound,
    #[error("the follow-up is closed")]
    Closed,
    #[error("only a harassment complaint (TT01.I7) can be concluded unfounded")]
    NotAComplaint,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A change to one follow-up.
#[derive(Debug, Clone)]
pub enum FollowupChange {
    Reply(String),
    Assign(String),
    Status(String),
    Close { outcome: String, note: String },
}

/// Applies a change to a follow-up of a unit the caller may act for, audited, in one transaction. Replying sets the
/// status to answered; closing records the outcome, and an unfounded harassment complaint leaves
/// its case out of indicator TT01.I7 (through the roll-up interface).
pub fn change_followup(
    conn: &mut PgConnection,
    instruments: &Instruments,
    may_act_for_unit: &dyn Fn(&str) -> bool,
    id: i64,
    change: &FollowupChange,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), FollowupError> {
    conn.transaction(|conn| {
        let row: Option<(String, String, i64, Vec<Option<String>>)> = followups::table
            .find(id)
            .select((followups::unit_code, followups::status, followups::response_id, followups::triggers))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((owner_unit, status, response_id, triggers)) = row else {
            return Err(FollowupError::NotFound);
        };
        if !may_act_for_unit(&owner_unit) {
            return Err(FollowupError::NotFound);
        }
        if status == "closed" {
            return Err(FollowupError::Closed);
        }
        let target = diesel::update(followups::table.find(id));
        let (action, details) = match change {
            FollowupChange::Reply(message) => {
                target
                    .set((
                        followups::reply.eq(message),
                        followups::replied_at.eq(now),
                        followups::replied_by.eq(actor),
                        followups::status.eq("answered"),
                    ))
                    .execute(conn)?;
                ("followup.reply", serde_json::json!({"length": message.chars().count()}))
            }
            FollowupChange::Assign(owner) => {
                target.set(followups::owner.eq(owner)).execute(conn)?;
                ("followup.assign", serde_json::json!({"owner": owner}))
            }
            FollowupChange::Status(s) => {
                target.set(followups::status.eq(s)).execute(conn)?;
                ("followup.status", serde_json::json!({"status": s}))
            }
            FollowupChange::Close { outcome, note } => {
                let harassment = triggers.iter().any(|t| t.as_deref() == Some("harassment"));
                if outcome == "unfounded" && !harassment {
                    return Err(FollowupError::NotAComplaint);
                }
                target
                    .set((
                        followups::status.eq("closed"),
                        followups::outcome.eq(outcome),
                        followups::outcome_note.eq(note),
                        followups::closed_at.eq(now),
                        followups::closed_by.eq(actor),
                    ))
                    .execute(conn)?;
                if outcome == "unfounded" {
                    rollup::set_i7_unfounded(conn, instruments, response_id, true)?;
                }
                ("followup.close", serde_json::json!({"outcome": outcome, "note": note, "item": TT01_I7}))
            }
        };
        audit(conn, actor, action, &format!("followup:{id}"), details)?;
        Ok(())
    })
}

/// A response's follow-up as its resident sees it: `None` without one, `Some(None)` while it
/// awaits a reply, `Some(Some((reply, when)))` once answered.
pub type ResidentView = Option<Option<(String, DateTime<Utc>)>>;

/// The follow-up of a response, for the resident's page.
pub fn reply_of(conn: &mut PgConnection, response_id: i64) -> QueryResult<ResidentView> {
    let row: Option<(Option<String>, Option<DateTime<Utc>>)> = followups::table
        .filter(followups::response_id.eq(response_id))
        .select((followups::reply, followups::replied_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(reply, at)| reply.zip(at)))
}
