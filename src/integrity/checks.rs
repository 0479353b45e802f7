//! The integrity checks that run inside the submission transaction. Plain sync diesel; called by
//! `responses::submit`.

use chrono::{DateTime, Duration, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Bool, SmallInt, Text, Timestamptz};

use super::model::{BURST_SIZE, BURST_WINDOW_SECONDS, Reason, Rules};
use crate::db::statement;
use crate::instrument::OVERALL;
use crate::kernel::answers::AnswerSet;
use crate::kernel::time::day_bounds;
use crate::schema::{integrity_reviews, integrity_spread};

/// What the checks know of a first response about to be stored.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    pub officer_code: &'a str,
    /// The device (see `http::client`): `None` when nothing identifies it.
    pub device_hash: Option<&'a str>,
    pub issued_at: DateTime<Utc>,
    /// When the survey page was first shown (`None` when the answer came without it, through
    /// the JSON API).
    pub shown_at: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    pub from_desk_network: bool,
    /// The top level of `CASE.OVERALL`'s scale when this response gave it (else `None`).
    pub top_score: Option<i16>,
}

/// The reasons of the new response, and earlier responses the new one makes suspicious (those
/// that have the reason already are left as they are by [`super::spread`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assessment {
    pub own: Vec<Reason>,
    pub others: Vec<(i64, Reason)>,
}

/// `Some(top)` when these answers give `CASE.OVERALL` the top level of its scale.
pub fn top_score(instrument: &crate::instrument::Instrument, answers: &AnswerSet) -> Option<i16> {
    let item = instrument.item(OVERALL)?;
    let top = instrument.scale_of(item)?.levels.iter().map(|c| c.code).max()?;
    match answers.get(OVERALL) {
        Some(crate::kernel::answers::AnswerValue::Level(l)) if *l == top => Some(top),
        _ => None,
    }
}

/// Runs the checks for a first response (before it is inserted).
///
/// **Constant cost.** Whatever the answer says and however many answers were flagged before it,
/// the checks read at most `MAX_TOKENS_PER_DEVICE_PER_DAY + 1` rows of the device and
/// `BURST_SIZE - 1` of the officer, each through an index that starts at the newest entry, read
/// no flag, and write only new keys ([`record`]): an officer's or a carrier address's answers
/// never wait for each other here. Earlier responses gain a reason only if they lack it
/// ([`super::spread`]), so a long burst flags each of its answers once instead of re-flagging the
/// whole window on every arrival, which made the cost grow with the square of the
/// rate of top scores (issue 15: 220 answers/s with 70 % top scores, p99 1 s).
///
/// Why the checks of the answer itself stay on its path, and not in a scorer running every few
/// seconds over new answers: a flag known before the 201 keeps a flagged answer out of the
/// statistics from its first moment (no figure counts it and then drops it), and one transaction
/// keeps the response, its own flags and its roll-ups consistent; with the reads bounded they
/// cost the same few index probes as the rest of the answer. What an answer reveals about
/// *earlier* answers (the first four of a burst, a device's earlier answers of the day) is
/// queued by [`record`] and flagged by [`super::spread`] within a second or two, because
/// flagging those here made two writers wait for each other (see [`record`]).
///
/// Two answers of one device or officer stored at the same moment by two writers do not see each
/// other; the next answer of that device (day) or officer (window) sees both and flags what lacks
/// a flag, so at worst a rule fires one answer late.
pub fn assess(conn: &mut PgConnection, rules: &Rules, a: &Arrival<'_>) -> QueryResult<Assessment> {
    let mut out = Assessment::default();
    if a.from_desk_network {
        out.own.push(Reason::DeskNetwork);
    }
    if a.submitted_at - a.shown_at.unwrap_or(a.issued_at) < Duration::seconds(rules.min_seconds_to_answer) {
        out.own.push(Reason::TooFast);
    }
    recent_rules(conn, rules, a, &mut out)?;
    Ok(out)
}

/// The rows both rules read, in **one** statement whatever the answer says (a round trip per
/// rule made a top score cost two statements more than any other answer, and the satisfied mix
/// of `bench/answers.sh` ran at 0.87-0.90 of the mixed one; see BENCHMARKS.md, 6 December). Each
/// branch is switched on or off by a bound flag, a one-time filter PostgreSQL evaluates before
/// touching its index, so a branch that does not apply costs nothing. Rows: (rule, id,
/// `completed_burst`), rule 0 for the device, 1 for the burst.
///
/// - Device: the device's latest answers of the day, newest first, at most `max + 1`, from the
///   partial index `responses_device_idx`. When at least `max` came before, this one is over the
///   limit; those read that lack the reason gain it through [`super::spread`] (any older ones
///   gained it when the device first crossed the line).
/// - Burst: the officer's latest `BURST_SIZE - 1` top scores in the window, newest first, from
///   the partial index `responses_officer_top_idx`. When there are that many, this one completes a
///   burst. Of those read, only the ones whose own check did not find them completing a burst
///   (`completed_burst`, written with their own `burst` flag) are queued for `spread`: the others
///   carry the flag already. So a sustained burst queues nothing after its first answers, where
///   queueing all four on every arrival made the spread job re-insert four flags per answer
///   (BENCHMARKS.md, 6 December). A response whose check ran before its predecessors had
///   committed did not see them, has no flag and no mark, and is queued by the next arrival:
///   nothing here trusts timestamps. Older ones of the window need no look: if the newest earlier
///   one is flagged, its own window held a burst and every answer in it was flagged then; if it
///   is not, its window held fewer than BURST_SIZE, so the ones read are all there are.
///   (`top_score` as the condition itself, not `= ?`: a cached generic plan of a bound value
///   could not prove the partial index's predicate.)
struct Recent<'a> {
    /// The device branch runs (something identifies the device).
    device_on: bool,
    device_hash: Option<&'a str>,
    day: (DateTime<Utc>, DateTime<Utc>),
    device_limit: i64,
    /// The burst branch runs (a top score).
    burst_on: bool,
    officer_code: Option<&'a str>,
    window: (DateTime<Utc>, DateTime<Utc>),
}

impl QueryFragment<Pg> for Recent<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        const SQL: &str = "(SELECT 0::smallint, id, completed_burst FROM responses \
              WHERE ?::boolean AND device_hash = ? AND submitted_at >= ? AND submitted_at < ? \
              ORDER BY submitted_at DESC LIMIT ?) \
             UNION ALL \
             (SELECT 1::smallint, id, completed_burst FROM responses \
              WHERE ?::boolean AND officer_code = ? AND top_score AND submitted_at > ? AND submitted_at <= ? \
              ORDER BY submitted_at DESC LIMIT ?)";
        statement::walk(SQL, &mut out, |i, out| match i {
            0 => out.push_bind_param::<Bool, _>(&self.device_on),
            1 => out.push_bind_param::<Text, _>(self.device_hash.unwrap_or_default()),
            2 => out.push_bind_param::<Timestamptz, _>(&self.day.0),
            3 => out.push_bind_param::<Timestamptz, _>(&self.day.1),
            4 => out.push_bind_param::<BigInt, _>(&self.device_limit),
            5 => out.push_bind_param::<Bool, _>(&self.burst_on),
            6 => out.push_bind_param::<Text, _>(self.officer_code.unwrap_or_default()),
            7 => out.push_bind_param::<Timestamptz, _>(&self.window.0),
            8 => out.push_bind_param::<Timestamptz, _>(&self.window.1),
            9 => out.push_bind_param::<BigInt, _>(&BURST_LIMIT),
            i => Err(statement::no_such_bind(i)),
        })
    }
}

crate::cached_statement!(Recent, (SmallInt, BigInt, Bool));

/// Earlier top scores of the officer the burst rule reads.
const BURST_LIMIT: i64 = BURST_SIZE as i64 - 1;

/// The device rule and the burst rule, from one read ([`Recent`]).
fn recent_rules(
    conn: &mut PgConnection,
    rules: &Rules,
    a: &Arrival<'_>,
    out: &mut Assessment,
) -> QueryResult<()> {
    if a.device_hash.is_none() && a.top_score.is_none() {
        return Ok(());
    }
    let max = i64::from(rules.max_tokens_per_device_per_day);
    let rows: Vec<(i16, i64, bool)> = Recent {
        device_hash: a.device_hash,
        device_on: a.device_hash.is_some(),
        day: day_bounds(a.submitted_at),
        device_limit: max + 1,
        officer_code: a.top_score.map(|_| a.officer_code),
        burst_on: a.top_score.is_some(),
        window: (a.submitted_at - Duration::seconds(BURST_WINDOW_SECONDS), a.submitted_at),
    }
    .load(conn)?;
    let device: Vec<i64> = rows.iter().filter(|r| r.0 == 0).map(|r| r.1).collect();
    let burst: Vec<(i64, bool)> = rows.iter().filter(|r| r.0 == 1).map(|r| (r.1, r.2)).collect();
    if a.device_hash.is_some() && device.len() as i64 >= max {
        out.own.push(Reason::SameDevice);
        out.others.extend(device.into_iter().map(|id| (id, Reason::SameDevice)));
    }
    if a.top_score.is_some() && burst.len() + 1 >= BURST_SIZE {
        out.own.push(Reason::Burst);
        out.others.extend(burst.into_iter().filter(|(_, done)| !done).map(|(id, _)| (id, Reason::Burst)));
    }
    Ok(())
}

/// Queues the earlier responses a new response makes suspicious for [`super::spread`], which
/// flags them and holds them out of the statistics within a second or two. The new response's own
/// reasons are not written here: they go in with the response itself, in its insert statement
/// (`responses::store::NewResponse::flags`), so a flagged answer costs no statement more than
/// any other.
///
/// Flagging the earlier ones here took the flags' keys and the earlier responses' rows (`held`)
/// in the answer's transaction, and two answer writers storing answers of one officer (or device)
/// wanted the same ones: each waited for the other's commit, and, locking in different orders,
/// they deadlocked (`bench/answers.sh`, satisfied mix: one deadlock and its second of
/// `deadlock_timeout`, p99 847 ms). The queue row is an insert of a new key instead. Before that
/// fix (ee27553), the flags were read first and re-inserted; see BENCHMARKS.md.
pub fn queue_others(
    conn: &mut PgConnection,
    response_id: i64,
    assessment: &Assessment,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let mut by_reason: std::collections::BTreeMap<Reason, Vec<Option<i64>>> = Default::default();
    for (id, reason) in &assessment.others {
        if *id != response_id {
            by_reason.entry(*reason).or_default().push(Some(*id));
        }
    }
    if !by_reason.is_empty() {
        let rows: Vec<_> = by_reason
            .into_iter()
            .map(|(reason, ids)| {
                (
                    integrity_spread::reason.eq(reason.code()),
                    integrity_spread::response_ids.eq(ids),
                    integrity_spread::flagged_at.eq(now),
                )
            })
            .collect();
        diesel::insert_into(integrity_spread::table).values(rows).execute(conn)?;
    }
    Ok(())
}

/// True when a leader reviewed this response genuine.
pub fn reviewed_genuine(conn: &mut PgConnection, response_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        integrity_reviews::table
            .filter(integrity_reviews::response_id.eq(response_id))
            .filter(integrity_reviews::verdict.eq("genuine")),
    ))
    .get_result(conn)
}
