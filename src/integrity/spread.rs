//! Flags the earlier answers that a new answer showed to be part of a pattern: the first answers
//! of a burst of top scores for one officer, a device's earlier answers of the day. The answer's
//! own transaction flags the answer itself and queues the earlier ones (`integrity_spread`,
//! [`super::checks::record`]); this job, a thread of `sipas serve` running every [`EVERY`],
//! flags them set-based, holds them out of the statistics (unless a leader reviewed them
//! genuine) and deletes the queue rows, in one transaction.
//!
//! Why not in the answer's transaction: the earlier answers of one officer (or device) are the
//! same for every answer that arrives during its burst, so two answer writers flagging them
//! locked the same flag keys and response rows, waited for each other's commits and deadlocked
//! in different orders (bench/answers.sh, satisfied mix). Here one job takes them, in key order,
//! under an advisory lock (one job at a time across instances), and an answer writes only new
//! keys. The cost: for up to about a second the earlier answers of a fresh burst count in the
//! statistics before they are held, and the review list shows them a second later.
//!
//! A step is one transaction (flags, holds and the queue rows' deletion), and repeating work is
//! harmless anyway: a flag already there is a conflict (`ON CONFLICT DO NOTHING`), and only a
//! response that *gained* a reason is held.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::checks::reviewed_genuine;
use crate::db::Pool;
use crate::instrument::Instruments;
use crate::schema::{integrity_flags, integrity_spread};
use crate::stats::rollup;

/// How often `sipas serve` runs [`spread`] (and again at once while a step found a full chunk).
pub const EVERY: Duration = Duration::from_secs(1);

/// Queue rows one step takes (each names up to `BURST_SIZE - 1` or
/// `MAX_TOKENS_PER_DEVICE_PER_DAY + 1` earlier answers).
pub const CHUNK: i64 = 500;

/// Advisory lock key of the job ("SPREAD" in ASCII).
const SPREAD_LOCK_KEY: i64 = 0x5350_5245_4144;

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    /// Queue rows taken (0 when the queue was empty or another instance's job held the lock).
    pub queued: usize,
    /// Responses that gained a reason.
    pub gained: usize,
}

/// A queue row: id, reason, the earlier responses it names, when the revealing answer arrived.
type QueueRow = (i64, String, Vec<Option<i64>>, DateTime<Utc>);

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// One step: takes up to [`CHUNK`] queue rows, oldest first, and flags what they name.
pub fn spread(conn: &mut PgConnection, instruments: &Instruments) -> QueryResult<Step> {
    conn.transaction(|conn| {
        let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(SPREAD_LOCK_KEY)
            .get_result(conn)?;
        if !lock.locked {
            return Ok(Step::default());
        }
        let rows: Vec<QueueRow> = integrity_spread::table
            .order(integrity_spread::id)
            .limit(CHUNK)
            .select((
                integrity_spread::id,
                integrity_spread::reason,
                integrity_spread::response_ids,
                integrity_spread::flagged_at,
            ))
            .load(conn)?;
        if rows.is_empty() {
            return Ok(Step::default());
        }
        // each (response, reason) once, with the time of the first answer that revealed it, in
        // key order (two transactions inserting the same keys in one order wait, never deadlock)
        let mut pairs: BTreeMap<(i64, &str), DateTime<Utc>> = BTreeMap::new();
        for (_, reason, ids, at) in &rows {
            for id in ids.iter().flatten() {
                pairs.entry((*id, reason.as_str())).and_modify(|t| *t = (*t).min(*at)).or_insert(*at);
            }
        }
        let values: Vec<_> = pairs
            .iter()
            .map(|((id, reason), at)| {
                (
                    integrity_flags::response_id.eq(*id),
                    integrity_flags::reason.eq(*reason),
                    integrity_flags::flagged_at.eq(*at),
                )
            })
            .collect();
        let mut gained: Vec<i64> = Vec::new();
        // at most 3 binds a row: chunks stay far below PostgreSQL's 65 535 parameters
        for part in values.chunks(5_000) {
            let ids: Vec<i64> = diesel::insert_into(integrity_flags::table)
                .values(part)
                .on_conflict_do_nothing()
                .returning(integrity_flags::response_id)
                .get_results(conn)?;
            gained.extend(ids);
        }
        gained.sort_unstable();
        gained.dedup();
        for id in &gained {
            if !reviewed_genuine(conn, *id)? {
                rollup::set_held_in(conn, instruments, *id, true)?;
            }
        }
        let taken: Vec<i64> = rows.iter().map(|r| r.0).collect();
        diesel::delete(integrity_spread::table.filter(integrity_spread::id.eq_any(&taken))).execute(conn)?;
        Ok(Step { queued: rows.len(), gained: gained.len() })
    })
}

/// Runs [`spread`] until the queue is empty (tests, `sipas demo`'s simulation, the command line).
pub fn drain(conn: &mut PgConnection, instruments: &Instruments) -> QueryResult<usize> {
    let mut gained = 0;
    loop {
        let step = spread(conn, instruments)?;
        gained += step.gained;
        if step.queued == 0 {
            return Ok(gained);
        }
    }
}

/// Runs [`spread`] on its own thread for as long as the process lives: every `every`, and again
/// at once while a step took a full chunk.
pub fn spawn(
    pool: Pool,
    instruments: Arc<Instruments>,
    every: Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("integrity-spread".into()).spawn(move || {
        loop {
            std::thread::sleep(every);
            let Ok(mut conn) = pool.get() else { continue };
            loop {
                match spread(&mut conn, &instruments) {
                    Ok(step) if step.queued as i64 == CHUNK => continue,
                    Ok(step) => {
                        if step.gained > 0 {
                            tracing::debug!(gained = step.gained, "earlier answers flagged");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "flagging earlier answers failed; will retry");
                        break;
                    }
                }
            }
        }
    })
}
