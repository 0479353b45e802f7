//! The integrity checks that run inside the submission transaction. Plain sync diesel; called by
//! `responses::submit`.

use chrono::{DateTime, Duration, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::Text;

use super::model::{BURST_SIZE, BURST_WINDOW_SECONDS, Reason, Rules};
use crate::instrument::{Instruments, OVERALL};
use crate::kernel::answers::AnswerSet;
use crate::kernel::time::day_bounds;
use crate::schema::{answers, integrity_flags, integrity_reviews, responses};
use crate::stats::rollup;

/// What the checks know of a first response about to be stored.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    pub officer_code: &'a str,
    pub device_hash: &'a str,
    pub issued_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub from_desk_network: bool,
    /// The top level of `CASE.OVERALL`'s scale when this response gave it (else `None`).
    pub top_score: Option<i16>,
}

/// The reasons of the new response, and earlier responses the new one makes suspicious.
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

/// Runs the checks for a first response (before it is inserted). Takes a transaction-scoped
/// advisory lock on the device, so two posts from one device at the same moment see each other.
pub fn assess(conn: &mut PgConnection, rules: &Rules, a: &Arrival<'_>) -> QueryResult<Assessment> {
    let mut out = Assessment::default();
    if a.from_desk_network {
        out.own.push(Reason::DeskNetwork);
    }
    if a.submitted_at - a.issued_at < Duration::seconds(rules.min_seconds_to_answer) {
        out.own.push(Reason::TooFast);
    }
    DeviceLock { device_hash: a.device_hash }.execute(conn)?;
    let (start, end) = day_bounds(a.submitted_at);
    // At most max + 1 earlier rows are read: when exactly `max` came before, this answer crosses
    // the line and flags them all; when more came before, the crossing already flagged them (the
    // lock above keeps two answers of one device from crossing unseen together).
    let max = rules.max_tokens_per_device_per_day as usize;
    let same_device: Vec<i64> = responses::table
        .filter(responses::device_hash.eq(a.device_hash))
        .filter(responses::submitted_at.ge(start).and(responses::submitted_at.lt(end)))
        .select(responses::id)
        .limit(max as i64 + 1)
        .load(conn)?;
    if same_device.len() + 1 > max {
        out.own.push(Reason::SameDevice);
        if same_device.len() == max {
            out.others.extend(same_device.into_iter().map(|id| (id, Reason::SameDevice)));
        }
    }
    if let Some(top) = a.top_score {
        // With statistics of a table that has data, PostgreSQL serves this from
        // `responses_officer_idx` (many officers) or `responses_submitted_idx` (a commune's few),
        // both a few index pages. Row comparisons on (officer_code, submitted_at), tried to force
        // the first, made btree start at the officer's first entry: 40-55 ms on a commune's
        // million responses. See BENCHMARKS.md.
        let recent: Vec<i64> = responses::table
            .inner_join(answers::table.on(answers::response_id.eq(responses::id)))
            .filter(responses::officer_code.eq(a.officer_code))
            .filter(responses::submitted_at.gt(a.submitted_at - Duration::seconds(BURST_WINDOW_SECONDS)))
            .filter(responses::submitted_at.le(a.submitted_at))
            .filter(answers::item_code.eq(OVERALL))
            .filter(answers::level.eq(top))
            .select(responses::id)
            .load(conn)?;
        if recent.len() + 1 >= BURST_SIZE {
            out.own.push(Reason::Burst);
            out.others.extend(recent.into_iter().map(|id| (id, Reason::Burst)));
        }
    }
    Ok(out)
}

/// Takes the transaction-scoped advisory lock of one device (a cached statement, see
/// [`crate::db::statement`]).
struct DeviceLock<'a> {
    device_hash: &'a str,
}

impl QueryFragment<Pg> for DeviceLock<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT pg_advisory_xact_lock(hashtextextended(");
        out.push_bind_param::<Text, _>(self.device_hash)?;
        out.push_sql(", 7))");
        Ok(())
    }
}

crate::cached_statement!(DeviceLock);

/// Stores the reasons of a response (new and earlier ones), and holds out of the statistics every
/// earlier response that gained a reason, unless a leader already reviewed it genuine.
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
    diesel::insert_into(integrity_flags::table).values(rows).on_conflict_do_nothing().execute(conn)?;
    let mut others: Vec<i64> = assessment.others.iter().map(|(id, _)| *id).collect();
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
