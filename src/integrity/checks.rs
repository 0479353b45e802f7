//! The integrity checks that run inside the submission transaction. Plain sync diesel; called by
//! `responses::submit`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::{BURST_SIZE, BURST_WINDOW_SECONDS, Reason, Rules};
use crate::instrument::{Instruments, OVERALL};
use crate::kernel::answers::AnswerSet;
use crate::kernel::time::day_bounds;
use crate::schema::{integrity_flags, integrity_reviews, responses};
use crate::stats::rollup;

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
/// that have the reason already are left as they are by [`record`]).
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
/// no flag (a reason already there is found by [`record`]'s insert), and take no lock: an officer's or a carrier address's answers never wait for each other here.
/// Earlier responses gain a reason only if they lack it, so a long burst flags each of its
/// answers once (the answer that extends it finds its predecessors already flagged) instead of
/// re-flagging the whole window on every arrival, which made the cost grow with the square of the
/// rate of top scores (issue 15: 220 answers/s with 70 % top scores, p99 1 s).
///
/// Why on the answer's path and not a scorer running every few seconds over new answers: a flag
/// known before the 201 keeps a flagged answer out of the statistics from its first moment (no
/// figure counts it and then drops it), the leader's review list is never behind, and one
/// transaction keeps the response, its flags and its roll-ups consistent; with the reads bounded
/// the checks cost the same few index probes as the rest of the answer (see BENCHMARKS.md,
/// "Answers: a satisfied commune").
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
    if let Some(device_hash) = a.device_hash {
        same_device(conn, rules, a.submitted_at, device_hash, &mut out)?;
    }
    if a.top_score.is_some() {
        burst(conn, a, &mut out)?;
    }
    Ok(out)
}

/// The same-device rule, when something identifies the device.
fn same_device(
    conn: &mut PgConnection,
    rules: &Rules,
    submitted_at: DateTime<Utc>,
    device_hash: &str,
    out: &mut Assessment,
) -> QueryResult<()> {
    let (start, end) = day_bounds(submitted_at);
    // The device's latest answers of the day, newest first, at most max + 1: when at least `max`
    // came before, this one is over the limit; those read that lack the reason gain it in
    // `record` (any older ones gained it when the device first crossed the line).
    let max = rules.max_tokens_per_device_per_day as usize;
    let same_device: Vec<i64> = responses::table
        .filter(responses::device_hash.eq(device_hash))
        .filter(responses::submitted_at.ge(start).and(responses::submitted_at.lt(end)))
        .order(responses::submitted_at.desc())
        .select(responses::id)
        .limit(max as i64 + 1)
        .load(conn)?;
    if same_device.len() >= max {
        out.own.push(Reason::SameDevice);
        out.others.extend(same_device.into_iter().map(|id| (id, Reason::SameDevice)));
    }
    Ok(())
}

/// The burst rule, for a top score.
fn burst(conn: &mut PgConnection, a: &Arrival<'_>, out: &mut Assessment) -> QueryResult<()> {
    // The officer's latest BURST_SIZE - 1 top scores in the window, newest first, from the
    // partial index `responses_officer_top_idx`. When there are that many, this one completes
    // a burst; the ones read that lack the reason gain it in `record`. Older ones of the window need no
    // look: if the newest earlier one is flagged, its own window held a burst and every
    // answer in it was flagged then; if it is not, its window held fewer than BURST_SIZE, so
    // the ones read are all there are. (`top_score` as the condition itself, not `= $1`: a
    // cached generic plan of a bound value could not prove the partial index's predicate.)
    let recent: Vec<i64> = responses::table
        .filter(responses::officer_code.eq(a.officer_code))
        .filter(responses::top_score)
        .filter(responses::submitted_at.gt(a.submitted_at - Duration::seconds(BURST_WINDOW_SECONDS)))
        .filter(responses::submitted_at.le(a.submitted_at))
        .order(responses::submitted_at.desc())
        .select(responses::id)
        .limit(BURST_SIZE as i64 - 1)
        .load(conn)?;
    if recent.len() + 1 >= BURST_SIZE {
        out.own.push(Reason::Burst);
        out.others.extend(recent.into_iter().map(|id| (id, Reason::Burst)));
    }
    Ok(())
}

/// Stores the reasons of a response (new and earlier ones), and holds out of the statistics every
/// earlier response that gained a reason, unless a leader already reviewed it genuine.
///
/// Which earlier responses *gain* a reason is what the insert itself reports (`ON CONFLICT DO
/// NOTHING RETURNING`): a reason already there is a conflict on the primary key, found by the
/// insert's own index probe. No statement reads the flags first: as an `EXISTS` beside the rule's
/// read (a hashed subplan over every flag of the reason, chosen against the window's estimated
/// rows rather than the rule's `LIMIT`), or as a `response_id = ANY(…)` read of its few ids (a
/// plan made while the table was small; a connection keeps its prepared statements' plans until
/// the next ANALYZE), on the satisfied mix of `bench/answers.sh` (STATEMENTS=1) those reads cost
/// 1.6 ms and then 0.3 ms a call once 15 000–30 000 burst flags had arrived in the first round
/// (p99 159 ms, then 91 ms). An insert's conflict check has no plan to choose.
pub fn record(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    assessment: &Assessment,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let rows: Vec<_> = assessment
        .own
        .iter()
        .map(|r| (response_id, *r))
        .chain(assessment.others.iter().copied())
        .map(|(id, r)| {
            (
                integrity_flags::response_id.eq(id),
                integrity_flags::reason.eq(r.code()),
                integrity_flags::flagged_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let gained: Vec<i64> = diesel::insert_into(integrity_flags::table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(integrity_flags::response_id)
        .get_results(conn)?;
    let mut others: Vec<i64> = gained.into_iter().filter(|id| *id != response_id).collect();
    others.sort_unstable();
    others.dedup();
    for id in others {
        let held: bool = responses::table.find(id).select(responses::held).first(conn)?;
        if !held && !reviewed_genuine(conn, id)? {
            rollup::set_held(conn, instruments, id, true)?;
        }
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
