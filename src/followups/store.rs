//! Follow-ups in the database, plain sync diesel: opening one inside the submission transaction
//! ([`open`], the interface `responses` calls), listing, changing (audited, in one transaction),
//! and the reply a resident reads ([`reply_of`]).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, SmallInt, Text, Timestamptz};

use super::model::{TT01_I7, Trigger, add_working_days, triggers};
use crate::instrument::{Instruments, OVERALL};
use crate::kernel::answers::AnswerSet;
use crate::kernel::audit::audit;
use crate::kernel::release::Release;
use crate::kernel::time::{local_day, range_bounds};
use crate::schema::followups;
use crate::stats::rollup;

/// What a response's follow-up needs to know of it.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub response_id: i64,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
}

/// Opens a follow-up when the response's answers (after this write) call for one, or adds new
/// triggers to the one it has. Owner: the unit's leader; deadline: `followup_days` working days
/// after the local date of `now` (`FOLLOWUP_DAYS`). Returns the follow-up's id when there is one.
pub fn open(
    conn: &mut PgConnection,
    followup_days: u32,
    facts: &Facts<'_>,
    after: &AnswerSet,
    now: DateTime<Utc>,
) -> QueryResult<Option<i64>> {
    let found = triggers(after);
    if found.is_empty() {
        return Ok(None);
    }
    let mut codes: Vec<&str> = found.iter().map(|t: &Trigger| t.code()).collect();
    codes.sort_unstable();
    let deadline = add_working_days(local_day(now), followup_days);
    // one statement: insert, or merge the triggers into the existing row
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let row: Id = diesel::sql_query(
        "INSERT INTO followups (response_id, unit_code, officer_code, triggers, owner, opened_at, deadline) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (response_id) DO UPDATE SET triggers = \
           (SELECT array_agg(DISTINCT t ORDER BY t) FROM unnest(followups.triggers || excluded.triggers) t) \
         RETURNING id",
    )
    .bind::<BigInt, _>(facts.response_id)
    .bind::<Text, _>(facts.unit_code)
    .bind::<Text, _>(facts.officer_code)
    .bind::<diesel::sql_types::Array<Text>, _>(codes)
    .bind::<Text, _>(default_owner(facts.unit_code))
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Date, _>(deadline)
    .get_result(conn)?;
    Ok(Some(row.id))
}

/// The owner a new follow-up gets: the unit's leader.
pub fn default_owner(unit_code: &str) -> String {
    format!("leader:{unit_code}")
}

/// An account a follow-up of a unit may be given to: (username, role, officer code).
pub type OwnerAccount = (String, String, Option<String>);

/// The unit's active leader and officer accounts, by username: who "Giao cho" offers.
pub fn owner_accounts(conn: &mut PgConnection, unit_code: &str) -> QueryResult<Vec<OwnerAccount>> {
    use crate::schema::users;
    users::table
        .filter(users::unit_code.eq(unit_code))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(["leader", "officer"]))
        .order(users::username.asc())
        .select((users::username, users::role, users::officer_code))
        .load(conn)
}

/// The unit's officers (code, name), to name owners.
pub fn unit_officers(conn: &mut PgConnection, unit_code: &str) -> QueryResult<Vec<(String, String)>> {
    use crate::schema::officers;
    officers::table
        .filter(officers::unit_code.eq(unit_code))
        .order(officers::code.asc())
        .select((officers::code, officers::name))
        .load(conn)
}

/// Whether `owner` may own a follow-up of the unit: its leader ([`default_owner`]), one of its
/// active accounts ([`owner_accounts`]) or one of its active officers by code.
pub fn is_owner_of(conn: &mut PgConnection, unit_code: &str, owner: &str) -> QueryResult<bool> {
    use crate::schema::{officers, users};
    if owner == default_owner(unit_code) {
        return Ok(true);
    }
    let account = users::table
        .filter(users::username.eq(owner))
        .filter(users::unit_code.eq(unit_code))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(["leader", "officer"]));
    let officer = officers::table
        .filter(officers::code.eq(owner))
        .filter(officers::unit_code.eq(unit_code))
        .filter(officers::active.eq(true));
    diesel::select(diesel::dsl::exists(account).or(diesel::dsl::exists(officer))).get_result(conn)
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

/// Triggers that accuse the officer who handled the case (a harassment complaint, TT01.I7, and
/// being asked to pay beyond the fees): such follow-ups are for the leaders and never shown to
/// that officer (SECURITY.md, finding 7).
pub const ACCUSING: [&str; 2] = ["harassment", "extra_cost"];

/// What an officer may read of their own follow-ups (SECURITY.md, findings 2 and 7): none that
/// accuses them, and of the rest only those whose answer lies in a released block of
/// `kernel::release` (so a new follow-up never appears right after serving a resident), ordered
/// newest block first and within a block by a hash, never by arrival. The caller strips the
/// times, deadlines and ids too.
pub fn officer_view(rows: Vec<FollowupRow>, release: &Release) -> Vec<FollowupRow> {
    let mut kept: Vec<(NaiveDate, String, FollowupRow)> = rows
        .into_iter()
        .filter(|r| !r.triggers.iter().any(|t| ACCUSING.contains(&t.as_str())))
        .filter_map(|r| {
            let end = release.block_end(local_day(r.opened_at))?;
            let mix = crate::kernel::hashing::sha256_hex(format!("followup:{}", r.id).as_bytes());
            Some((end, mix, r))
        })
        .collect();
    kept.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    kept.into_iter().map(|(_, _, r)| r).collect()
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
    #[error("owner `{0}` is neither an active account nor an active officer of the unit")]
    UnknownOwner(String),
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
                if !is_owner_of(conn, &owner_unit, owner)? {
                    return Err(FollowupError::UnknownOwner(owner.clone()));
                }
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
