//! Roll-ups: pre-aggregated counts maintained in the same transaction as every write, so that
//! statistics read counts instead of raw answers. The raw answers stay the source of truth.
//!
//! INTERFACE FOR THE WRITERS (invitations, responses): call these inside the transaction that
//! writes the row. The statistics capability owns their implementation.
//! - [`apply_invitation_issued`] after inserting an invitation.
//! - [`apply_response_change`] after inserting a response or adding answers to it, with the
//!   answer set before (empty for a new response) and after. Take `held` from the response row as
//!   your transaction sees it after locking it (the UPDATE of `last_added_at` does), so a
//!   concurrent [`set_held`] cannot slip between. Its deltas go to a [`PendingDeltas`] you flush
//!   before committing (once for a whole batch of answers).
//! - The integrity checks move a response out of / back into the figures with [`set_held`]; a
//!   follow-up that finds a TT01.I7 complaint unfounded calls [`set_i7_unfounded`]. Both change
//!   the response row and its roll-ups together; never update those two columns directly.
//!
//! How it works (the tables are described in the migration `stats_rollups`):
//! - A write appends the *difference* it makes — contributions(after) − contributions(before),
//!   see [`model::contributions`] — as rows of `rollup_deltas`, in one INSERT per transaction. Writers
//!   never update a shared counter row, so concurrent answers for the same officer, day and item do
//!   not wait on one another (a hot counter row would serialise them on its row lock until commit;
//!   `bench/contention.sh` measures both). A later addition (TT01.I1 after TT01.I7, say) appends
//!   just what changed, including the I7 points the early result raises.
//! - [`compact`] (run every 2 seconds by `sipas serve`, or `sipas rollup compact`) folds the
//!   deltas into `rollup_day` and `rollup_month`, in five grouping sets ([`GROUPING_SETS`]), and
//!   deletes them, in one transaction, under an advisory lock so only one compactor runs. Queries
//!   read compacted counts plus the pending deltas in one statement, so they are exact whether or
//!   not the compactor has run.
//! - [`rebuild`] (`sipas rollup rebuild`) recomputes everything from `responses`, `answers` and
//!   `invitations` with SQL written independently of [`model::contributions`]; the tests check
//!   that both give the same figures.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, SmallInt, Text};

use super::model::{self, Amount, Contributions, INVITATION};
use crate::db::{Pool, statement};
use crate::instrument::{Instrument, Instruments, ItemKind};
use crate::kernel::answers::{AnswerSet, AnswerValue};
use crate::kernel::time::{local_day, local_day_sql};
use crate::schema::{answers, invitations, responses};

/// What the roll-ups need to know about a response besides its answers.
#[derive(Debug, Clone)]
pub struct ResponseFacts<'a> {
    pub response_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
    /// Held out of the statistics (flagged and not reviewed genuine).
    pub held: bool,
    /// What the case facts on its invitation give the TT01 indicators.
    pub case: model::CaseScores,
}

/// What the roll-ups need to know about an issued invitation.
#[derive(Debug, Clone)]
pub struct InvitationFacts<'a> {
    pub issued_at: DateTime<Utc>,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
}

/// Advisory lock key of the compactor and the rebuild ("ROLLUP" in ASCII).
const ROLLUP_LOCK_KEY: i64 = 0x524F_4C4C_5550;

/// One cell of the roll-ups.
struct Cell<'a> {
    day: NaiveDate,
    unit_code: &'a str,
    officer_code: &'a str,
    procedure_code: &'a str,
    channel: &'a str,
    held: bool,
}

impl<'a> Cell<'a> {
    fn of(facts: &ResponseFacts<'a>, held: bool) -> Self {
        Cell {
            day: local_day(facts.submitted_at),
            unit_code: facts.unit_code,
            officer_code: facts.officer_code,
            procedure_code: facts.procedure_code,
            channel: facts.channel,
            held,
        }
    }
}

/// Roll-up deltas gathered over one transaction's writes, summed per cell, item and level, and
/// appended in one statement by [`PendingDeltas::flush`] before the transaction commits (a batch
/// of answers costs one statement here, not one per answer). Nothing reads `rollup_deltas` inside
/// the writing transaction, so appending later in it changes no result.
#[derive(Debug, Default)]
pub struct PendingDeltas {
    rows: BTreeMap<DeltaKey, Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DeltaKey {
    day: NaiveDate,
    unit_code: String,
    officer_code: String,
    procedure_code: String,
    channel: String,
    held: bool,
    item_code: String,
    level: i16,
}

impl PendingDeltas {
    fn add(&mut self, cell: &Cell<'_>, amounts: &Contributions, sign: i64) {
        for ((item, level), a) in amounts {
            let key = DeltaKey {
                day: cell.day,
                unit_code: cell.unit_code.to_string(),
                officer_code: cell.officer_code.to_string(),
                procedure_code: cell.procedure_code.to_string(),
                channel: cell.channel.to_string(),
                held: cell.held,
                item_code: item.clone(),
                level: *level,
            };
            let sum = self.rows.entry(key).or_default();
            sum.n += a.n * sign;
            sum.scored += a.scored * sign;
            sum.points += a.points * sign;
        }
    }

    /// Appends what was gathered (rows that summed to nothing are left out) and empties it.
    pub fn flush(&mut self, conn: &mut PgConnection) -> QueryResult<()> {
        let rows = std::mem::take(&mut self.rows);
        let mut columns = NewDeltas::default();
        for (key, a) in &rows {
            if a.n == 0 && a.scored == 0 && a.points == 0 {
                continue;
            }
            columns.push(key, *a);
        }
        if columns.days.is_empty() {
            return Ok(());
        }
        columns.execute(conn)?;
        Ok(())
    }
}

/// Delta rows as columns, appended in one statement whatever their number (see
/// [`crate::db::statement`]).
#[derive(Default)]
struct NewDeltas<'a> {
    days: Vec<NaiveDate>,
    unit_codes: Vec<&'a str>,
    officer_codes: Vec<&'a str>,
    procedure_codes: Vec<&'a str>,
    channels: Vec<&'a str>,
    held: Vec<bool>,
    item_codes: Vec<&'a str>,
    levels: Vec<i16>,
    n: Vec<i32>,
    scored: Vec<i32>,
    points: Vec<i32>,
}

impl<'a> NewDeltas<'a> {
    fn push(&mut self, key: &'a DeltaKey, a: Amount) {
        let clamp = |v: i64| i32::try_from(v).unwrap_or(if v > 0 { i32::MAX } else { i32::MIN });
        self.days.push(key.day);
        self.unit_codes.push(&key.unit_code);
        self.officer_codes.push(&key.officer_code);
        self.procedure_codes.push(&key.procedure_code);
        self.channels.push(&key.channel);
        self.held.push(key.held);
        self.item_codes.push(&key.item_code);
        self.levels.push(key.level);
        self.n.push(clamp(a.n));
        self.scored.push(clamp(a.scored));
        self.points.push(clamp(a.points));
    }
}

impl QueryFragment<Pg> for NewDeltas<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        statement::walk(
            "INSERT INTO rollup_deltas (day, unit_code, officer_code, procedure_code, channel, held, \
             item_code, level, n, scored, points) \
             SELECT * FROM unnest(?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::boolean[], \
             ?::text[], ?::smallint[], ?::integer[], ?::integer[], ?::integer[])",
            &mut out,
            |i, out| match i {
                0 => out.push_bind_param::<Array<Date>, _>(&self.days),
                1 => out.push_bind_param::<Array<Text>, _>(&self.unit_codes),
                2 => out.push_bind_param::<Array<Text>, _>(&self.officer_codes),
                3 => out.push_bind_param::<Array<Text>, _>(&self.procedure_codes),
                4 => out.push_bind_param::<Array<Text>, _>(&self.channels),
                5 => out.push_bind_param::<Array<Bool>, _>(&self.held),
                6 => out.push_bind_param::<Array<Text>, _>(&self.item_codes),
                7 => out.push_bind_param::<Array<SmallInt>, _>(&self.levels),
                8 => out.push_bind_param::<Array<Integer>, _>(&self.n),
                9 => out.push_bind_param::<Array<Integer>, _>(&self.scored),
                10 => out.push_bind_param::<Array<Integer>, _>(&self.points),
                i => Err(statement::no_such_bind(i)),
            },
        )
    }
}

crate::cached_statement!(NewDeltas);

/// Appends `sign × amounts` to the cells at once, in one statement.
fn append(conn: &mut PgConnection, parts: &[(Cell<'_>, &Contributions, i64)]) -> QueryResult<()> {
    let mut pending = PendingDeltas::default();
    for (cell, amounts, sign) in parts {
        pending.add(cell, amounts, *sign);
    }
    pending.flush(conn)
}

/// True when the answers include a TT01.I7 complaint ("Có"), the only answer a follow-up can
/// find unfounded; then the response's flag is read.
fn has_i7_complaint(answers: &AnswerSet) -> bool {
    matches!(answers.get(model::TT01_I7), Some(AnswerValue::Level(l)) if *l != 1)
}

/// Applies the change one write made to a response: `before` is its answer set before the write
/// (empty for a new response), `after` the set after it.
pub fn apply_response_change(
    conn: &mut PgConnection,
    instrument: &Instrument,
    facts: &ResponseFacts<'_>,
    before: &AnswerSet,
    after: &AnswerSet,
    pending: &mut PendingDeltas,
) -> QueryResult<()> {
    let unfounded = if has_i7_complaint(before) || has_i7_complaint(after) {
        responses::table
            .find(facts.response_id)
            .select(responses::tt01_i7_unfounded)
            .first::<bool>(conn)
            .optional()?
            .unwrap_or(false)
    } else {
        false
    };
    let diff = model::difference(
        &model::contributions(instrument, before, unfounded, facts.case),
        &model::contributions(instrument, after, unfounded, facts.case),
    );
    pending.add(&Cell::of(facts, facts.held), &diff, 1);
    Ok(())
}

/// Counts one issued invitation.
pub fn apply_invitation_issued(conn: &mut PgConnection, facts: &InvitationFacts<'_>) -> QueryResult<()> {
    let one = Contributions::from([((INVITATION.to_string(), 0), Amount { n: 1, scored: 0, points: 0 })]);
    let cell = Cell {
        day: local_day(facts.issued_at),
        unit_code: facts.unit_code,
        officer_code: facts.officer_code,
        procedure_code: facts.procedure_code,
        channel: facts.channel,
        held: false,
    };
    append(conn, &[(cell, &one, 1)])
}

/// A stored response with its answers, read for a change of its status.
struct StoredResponse {
    facts_row: (i64, DateTime<Utc>, String, String, String, String, bool, bool, String, String),
    case: model::CaseScores,
    answers: AnswerSet,
}

fn load_response(conn: &mut PgConnection, response_id: i64) -> QueryResult<Option<StoredResponse>> {
    let row = responses::table
        .find(response_id)
        .select((
            responses::id,
            responses::submitted_at,
            responses::unit_code,
            responses::officer_code,
            responses::procedure_code,
            responses::channel,
            responses::held,
            responses::tt01_i7_unfounded,
            responses::instrument_id,
            responses::instrument_version,
        ))
        .for_update()
        .first(conn)
        .optional()?;
    let Some(facts_row) = row else { return Ok(None) };
    let (timing, i2_points): (Option<i16>, Option<i16>) = invitations::table
        .inner_join(responses::table)
        .filter(responses::id.eq(response_id))
        .select((invitations::fact_timing, invitations::fact_i2_points))
        .first(conn)?;
    let answers = load_answers(conn, response_id)?;
    Ok(Some(StoredResponse { facts_row, case: model::CaseScores { timing, i2_points }, answers }))
}

/// A response's stored answers as an [`AnswerSet`].
pub fn load_answers(conn: &mut PgConnection, response_id: i64) -> QueryResult<AnswerSet> {
    type Row = (String, Option<i16>, Option<Vec<Option<i16>>>, Option<String>);
    let rows: Vec<Row> = answers::table
        .filter(answers::response_id.eq(response_id))
        .select((answers::item_code, answers::level, answers::choices, answers::text))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, level, choices, text)| {
            let value = match (level, choices, text) {
                (Some(l), _, _) => AnswerValue::Level(l),
                (_, Some(c), _) => AnswerValue::Multi(c.into_iter().flatten().collect()),
                (_, _, Some(t)) => AnswerValue::Text(t),
                _ => return None,
            };
            Some((code, value))
        })
        .collect())
}

/// What a status change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Changed,
    Unchanged,
    NoSuchResponse,
}

/// Moves a response out of (`held = true`) or back into the statistics, with its roll-ups, in the
/// caller's transaction. For the integrity checks: flagged answers are held until reviewed.
pub fn set_held(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    held: bool,
) -> QueryResult<StatusChange> {
    conn.transaction(|conn| set_held_in(conn, instruments, response_id, held))
}

/// Records whether a follow-up found this response's TT01.I7 complaint unfounded, which takes the
/// case out of (or puts it back into) that indicator, with its roll-ups.
pub fn set_i7_unfounded(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    unfounded: bool,
) -> QueryResult<StatusChange> {
    change_status(conn, instruments, response_id, |held, was| (held, unfounded, was != unfounded))
}

/// [`set_held`] in the caller's open transaction, without a savepoint of its own: for callers that
/// hold many responses in one transaction (`integrity::spread`; more than 64 savepoints in one
/// transaction slow every other session, see `responses::submit::submit_batch`). Any error must
/// roll the caller's transaction back.
pub fn set_held_in(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    held: bool,
) -> QueryResult<StatusChange> {
    change_status_in(conn, instruments, response_id, |was_held, unfounded| {
        (held, unfounded, was_held != held)
    })
}

fn change_status(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    next: impl Fn(bool, bool) -> (bool, bool, bool),
) -> QueryResult<StatusChange> {
    conn.transaction(|conn| change_status_in(conn, instruments, response_id, next))
}

fn change_status_in(
    conn: &mut PgConnection,
    instruments: &Instruments,
    response_id: i64,
    next: impl Fn(bool, bool) -> (bool, bool, bool),
) -> QueryResult<StatusChange> {
    let Some(stored) = load_response(conn, response_id)? else {
        return Ok(StatusChange::NoSuchResponse);
    };
    let (id, submitted_at, unit, officer, procedure, channel, held, unfounded, iid, iver) = &stored.facts_row;
    let (new_held, new_unfounded, changed) = next(*held, *unfounded);
    if !changed {
        return Ok(StatusChange::Unchanged);
    }
    diesel::update(responses::table.find(id))
        .set((responses::held.eq(new_held), responses::tt01_i7_unfounded.eq(new_unfounded)))
        .execute(conn)?;
    // Without its questionnaire version the response adds nothing but its count; the
    // service refuses to start without every version it has stored, so this is a safeguard.
    if let Some(instrument) = instruments.get(iid, iver) {
        let facts = ResponseFacts {
            response_id: *id,
            submitted_at: *submitted_at,
            unit_code: unit,
            officer_code: officer,
            procedure_code: procedure,
            channel,
            held: *held,
            case: stored.case,
        };
        let old = model::contributions(instrument, &stored.answers, *unfounded, stored.case);
        let new = model::contributions(instrument, &stored.answers, new_unfounded, stored.case);
        append(conn, &[(Cell::of(&facts, *held), &old, -1), (Cell::of(&facts, new_held), &new, 1)])?;
    }
    Ok(StatusChange::Changed)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// The grouping sets the compacted tables keep (see the migration): (set, keeps officer, keeps
/// procedure, keeps channel). Set 0 keeps everything; a dropped dimension reads [`ANY`].
pub const GROUPING_SETS: [(i16, bool, bool, bool); 5] = [
    (0, true, true, true),
    (1, true, false, false),
    (2, false, true, false),
    (3, false, false, true),
    (4, false, false, false),
];

/// The code of a dimension a grouping set dropped (no real code is `*`).
pub const ANY: &str = "*";

/// The smallest grouping set that keeps the dimensions a query needs.
pub fn grouping_set_for(officer: bool, procedure: bool, channel: bool) -> i16 {
    GROUPING_SETS
        .iter()
        .filter(|(_, o, p, c)| (*o || !officer) && (*p || !procedure) && (*c || !channel))
        .map(|(set, o, p, c)| (usize::from(*o) + usize::from(*p) + usize::from(*c), *set))
        .min()
        .map(|(_, set)| set)
        .unwrap_or(0)
}

/// SQL: `source` (full-detail rows with columns day, unit_code, officer_code, procedure_code,
/// channel, held, item_code, level, n, scored, points) summed into the grouping sets in one pass
/// (GROUPING SETS), as rows of (grouping_set, `period`, unit_code, officer_code, procedure_code,
/// channel, held, item_code, level, n, scored, points); `period` is an SQL expression over `day`.
fn grouping_sets_sql(source: &str, period: &str, sets: &[(i16, bool, bool, bool)]) -> String {
    let mut lists = Vec::new();
    let mut whens = Vec::new();
    for (set, o, p, c) in sets {
        let mut columns = vec!["period", "unit_code"];
        for (keep, column) in [(o, "officer_code"), (p, "procedure_code"), (c, "channel")] {
            if *keep {
                columns.push(column);
            }
        }
        columns.extend(["held", "item_code", "level"]);
        lists
            .push(format!("({})", columns.iter().map(|c| format!("src.{c}")).collect::<Vec<_>>().join(", ")));
        // GROUPING(officer, procedure, channel) has a bit set for each dimension summed away
        let mask = (u8::from(!o) << 2) | (u8::from(!p) << 1) | u8::from(!c);
        whens.push(format!("WHEN {mask} THEN {set}"));
    }
    format!(
        "SELECT (CASE GROUPING(src.officer_code, src.procedure_code, src.channel) {} END)::smallint, src.period, \
                src.unit_code, coalesce(src.officer_code, '{ANY}'), coalesce(src.procedure_code, '{ANY}'), \
                coalesce(src.channel, '{ANY}'), src.held, src.item_code, src.level, \
                sum(src.n), sum(src.scored), sum(src.points) \
         FROM (SELECT {period} AS period, s0.* FROM ({source}) s0) src \
         GROUP BY GROUPING SETS ({})",
        whens.join(" "),
        lists.join(", ")
    )
}

/// SQL: like [`grouping_sets_sql`] for one set, with a plain GROUP BY (which PostgreSQL hashes,
/// spilling to disk when it must, where GROUPING SETS over millions of rows would sort).
fn one_set_sql(source: &str, period: &str, (set, o, p, c): (i16, bool, bool, bool)) -> String {
    let keep = |k: bool, column: &str| if k { format!("src.{column}") } else { format!("'{ANY}'") };
    format!(
        "SELECT {set}::smallint, src.period, src.unit_code, {}, {}, {}, src.held, src.item_code, src.level, \
                sum(src.n), sum(src.scored), sum(src.points) \
         FROM (SELECT {period} AS period, s0.* FROM ({source}) s0) src \
         GROUP BY 2, 3, 4, 5, 6, 7, 8, 9",
        keep(o, "officer_code"),
        keep(p, "procedure_code"),
        keep(c, "channel"),
    )
}

const ADD_UP: &str = "DO UPDATE SET n = t.n + excluded.n, scored = t.scored + excluded.scored, points = t.points + excluded.points";

/// Folds the pending deltas into the daily and monthly counts; returns how many delta rows it
/// folded (0 when another compactor holds the lock).
pub fn compact(conn: &mut PgConnection) -> QueryResult<i64> {
    conn.transaction(|conn| {
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(ROLLUP_LOCK_KEY)
            .get_result(conn)?;
        if !locked.locked {
            return Ok(0);
        }
        let conflict =
            "unit_code, grouping_set, officer_code, procedure_code, channel, held, item_code, level";
        // Data-modifying CTEs share one snapshot: exactly the rows deleted are added, once.
        let moved: Count = diesel::sql_query(format!(
            "WITH moved AS (DELETE FROM rollup_deltas RETURNING *), \
             d AS (INSERT INTO rollup_day AS t {days} ON CONFLICT ({conflict}, day) {ADD_UP}), \
             m AS (INSERT INTO rollup_month AS t {months} ON CONFLICT ({conflict}, month) {ADD_UP}) \
             SELECT count(*) AS count FROM moved",
            days = grouping_sets_sql("SELECT * FROM moved", "s0.day", &GROUPING_SETS),
            months = grouping_sets_sql(
                "SELECT * FROM moved",
                "s0.day - extract(day FROM s0.day)::int + 1",
                &GROUPING_SETS
            ),
        ))
        .get_result(conn)?;
        Ok(moved.count)
    })
}

/// Takes the roll-ups' lock (the compactor's and the rebuild's) until the end of the caller's
/// transaction.
pub fn lock(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(ROLLUP_LOCK_KEY).execute(conn)?;
    Ok(())
}

/// Fills the empty roll-up tables with `write` (COPY of rows counted elsewhere, e.g. by the demo's
/// generator), in the caller's transaction: under the roll-ups' lock, with the primary keys built
/// once afterwards from the sorted rows (about half the time of maintaining them row by row).
/// Fails, writing nothing, when the tables are not empty.
pub fn fill_empty(
    conn: &mut PgConnection,
    write: impl FnOnce(&mut PgConnection) -> QueryResult<()>,
) -> QueryResult<()> {
    lock(conn)?;
    if !is_empty(conn)? {
        return Err(diesel::result::Error::QueryBuilderError("the roll-up tables are not empty".into()));
    }
    diesel::sql_query("SET LOCAL maintenance_work_mem = '1GB'").execute(conn)?;
    let keys = without_primary_keys(conn, &["rollup_day", "rollup_month"])?;
    write(conn)?;
    for (table, definition) in keys {
        diesel::sql_query(format!("ALTER TABLE {table} ADD CONSTRAINT {table}_pkey {definition}"))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Empty {
    #[diesel(sql_type = Bool)]
    empty: bool,
}

/// True when no compacted roll-up row exists yet.
pub fn is_empty(conn: &mut PgConnection) -> QueryResult<bool> {
    let e: Empty = diesel::sql_query(
        "SELECT NOT EXISTS (SELECT FROM rollup_day) AND NOT EXISTS (SELECT FROM rollup_month) AS empty",
    )
    .get_result(conn)?;
    Ok(e.empty)
}

/// The compactor rests at least this many times as long as its last compaction took, so under
/// heavy load it works at most a fifth of the time (its cost per answer falls as batches grow,
/// since a busy day's answers keep hitting the same roll-up rows). Statistics never wait for it:
/// they read the pending deltas too.
const COMPACTOR_REST_FACTOR: u32 = 4;

/// Runs [`compact`] on its own thread for as long as the process lives: every `every`, or after
/// [`COMPACTOR_REST_FACTOR`] times the last compaction's duration when that is longer (at most
/// `8 × every`).
pub fn spawn_compactor(pool: Pool, every: Duration) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rollup-compactor".into()).spawn(move || {
        let mut rest = every;
        loop {
            std::thread::sleep(rest);
            let Ok(mut conn) = pool.get() else { continue };
            let started = std::time::Instant::now();
            match compact(&mut conn) {
                Ok(0) => {}
                Ok(rows) => tracing::debug!(rows, "compacted roll-up deltas"),
                Err(e) => tracing::warn!(error = %e, "roll-up compaction failed; will retry"),
            }
            rest = (started.elapsed() * COMPACTOR_REST_FACTOR).clamp(every, every * 8);
        }
    })
}

/// What a rebuild produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub day_rows: i64,
    pub month_rows: i64,
    /// Seconds each step took.
    pub steps: Vec<(&'static str, f64)>,
}

impl RebuildReport {
    /// "days from the raw answers 12.3 s, months from the days 1.2 s, …"
    pub fn timings(&self) -> String {
        self.steps.iter().map(|(s, t)| format!("{s} {t:.1} s")).collect::<Vec<_>>().join(", ")
    }
}

/// Recomputes every roll-up from the raw responses, answers and invitations, in one transaction.
/// Writers that arrive meanwhile wait for it (it locks the delta table) and are counted after it.
pub fn rebuild(conn: &mut PgConnection, instruments: &Instruments) -> QueryResult<RebuildReport> {
    conn.transaction(|conn| {
        let mut clock = Instant::now();
        let mut steps = Vec::new();
        let mut lap = |step: &'static str| {
            steps.push((step, clock.elapsed().as_secs_f64()));
            clock = Instant::now();
        };
        diesel::sql_query("LOCK TABLE rollup_deltas IN ACCESS EXCLUSIVE MODE").execute(conn)?;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(ROLLUP_LOCK_KEY).execute(conn)?;
        diesel::sql_query("SET LOCAL work_mem = '512MB'").execute(conn)?;
        diesel::sql_query("SET LOCAL maintenance_work_mem = '1GB'").execute(conn)?;
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        diesel::sql_query("TRUNCATE rollup_deltas, rollup_day, rollup_month").execute(conn)?;
        // Building the keys once, sorted, after the rows are in is far quicker than inserting
        // millions of keys one by one; the tables are locked by TRUNCATE until commit anyway.
        let keys = without_primary_keys(conn, &["rollup_day", "rollup_month"])?;
        // Full detail per day from the raw tables, the coarser sets per day from the detail, then
        // every set per month from the days.
        let columns = "grouping_set, day, unit_code, officer_code, procedure_code, channel, held, item_code, level, \
                       n, scored, points";
        let detail = format!(
            "INSERT INTO rollup_day ({columns}) {}",
            one_set_sql(&raw_measures_sql(instruments, None), "s0.day", GROUPING_SETS[0])
        );
        lap("prepare");
        let mut day_rows = diesel::sql_query(detail).execute(conn)? as i64;
        lap("days from the raw answers");
        for set in &GROUPING_SETS[1..] {
            let coarser = format!(
                "INSERT INTO rollup_day ({columns}) {}",
                one_set_sql("SELECT * FROM rollup_day WHERE grouping_set = 0", "s0.day", *set)
            );
            day_rows += diesel::sql_query(coarser).execute(conn)? as i64;
        }
        lap("coarser sets");
        let month_rows = diesel::sql_query(format!(
            "INSERT INTO rollup_month ({}) \
             SELECT grouping_set, day - extract(day FROM day)::int + 1, unit_code, officer_code, procedure_code, channel, \
                    held, item_code, level, sum(n), sum(scored), sum(points) \
             FROM rollup_day GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
            columns.replace("day,", "month,")
        ))
        .execute(conn)? as i64;
        lap("months from the days");
        for (table, definition) in keys {
            diesel::sql_query(format!("ALTER TABLE {table} ADD CONSTRAINT {table}_pkey {definition}"))
                .execute(conn)?;
        }
        lap("keys");
        Ok(RebuildReport { day_rows, month_rows, steps })
    })
}

#[derive(QueryableByName)]
struct KeyDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Drops the primary keys of these tables; returns their definitions, to add them back.
fn without_primary_keys(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<Vec<(String, String)>> {
    let mut keys = Vec::new();
    for table in tables {
        let def: KeyDefinition = diesel::sql_query(
            "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint \
             WHERE conrelid = $1::regclass AND contype = 'p'",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result(conn)?;
        diesel::sql_query(format!("ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")).execute(conn)?;
        keys.push((table.to_string(), def.definition));
    }
    Ok(keys)
}

/// Refreshes the planner's statistics and the visibility map of the roll-ups (index-only scans
/// need it) after a rebuild; outside any transaction.
pub fn vacuum(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("VACUUM (ANALYZE) rollup_day, rollup_month").execute(conn)?;
    Ok(())
}

/// SQL for a string literal (the instrument's codes are checked to be letters, digits, `.`, `_`;
/// quotes are doubled all the same).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// SQL: `CASE a.level WHEN <option> THEN <points> … ELSE 0 END` for one TT01 indicator of a
/// version, with `points_when` read from the response's other answer — or, when `i1_from_facts`
/// and the condition is on TT01.I1, from the invitation's case facts (`i.fact_timing`).
fn level_points_sql(inst: &Instrument, code: &str, i1_from_facts: bool) -> Option<String> {
    let item = inst.item(code)?;
    let mut per_level = Vec::new();
    for option in &item.options {
        let base = option.points.unwrap_or(0);
        let value = match &option.points_when {
            Some(pw) if i1_from_facts && pw.item == model::TT01_I1 => {
                format!("CASE WHEN i.fact_timing = {} THEN {} ELSE {base} END", pw.code, pw.points)
            }
            // an index probe on answers' key, made only for these answers
            Some(pw) => format!(
                "CASE WHEN (SELECT w.level FROM answers w WHERE w.response_id = a.response_id \
                 AND w.item_code = {}) = {} THEN {} ELSE {base} END",
                lit(&pw.item),
                pw.code,
                pw.points
            ),
            None => base.to_string(),
        };
        per_level.push(format!("WHEN {} THEN {value}", option.code));
    }
    Some(format!("CASE a.level {} ELSE 0 END", per_level.join(" ")))
}

/// A SELECT of unaggregated measure rows `(day, unit_code, officer_code, procedure_code, channel,
/// held, item_code, level, n, scored, points)` computed straight from the raw tables — the same
/// measures [`model::contributions`] produces, written in SQL for the whole table at once. Used by
/// [`rebuild`] and by the naive scan the benchmark compares with. `range` restricts responses and
/// invitations to `[from, to)` (SQL timestamptz expressions).
pub fn raw_measures_sql(instruments: &Instruments, range: Option<(&str, &str)>) -> String {
    // The instruments become SQL expressions over `r` (the response) and `a` (the answer), one
    // branch per version, so the planner sees a plain answers ⋈ responses join.
    let array = |codes: &[&str]| {
        if codes.is_empty() {
            "ARRAY[]::text[]".to_string()
        } else {
            format!("ARRAY[{}]", codes.iter().map(|c| lit(c)).collect::<Vec<_>>().join(", "))
        }
    };
    let mut leveled = Vec::new(); // the answer counts by level (scale, choice)
    let mut tt01 = Vec::new(); // the answer is scored in a TT01 indicator
    let mut points = Vec::new(); // the points it earns
    let mut i1_replaced = Vec::new(); // versions where case facts replace the resident's TT01.I1
    let mut i7_facts = Vec::new(); // TT01.I7's points with the timing from the case facts
    let mut i7_versions = Vec::new(); // versions that score TT01.I7
    let mut multi = Vec::new(); // the answer is a multi item's
    let mut statement = Vec::new(); // the answer is an element's statement
    let mut element = Vec::new(); // the bit of its element
    let mut bits: Vec<String> = Vec::new(); // element codes, by bit
    for inst in instruments.all() {
        let version = format!(
            "r.instrument_id = {} AND r.instrument_version = {}",
            lit(&inst.meta.id),
            lit(&inst.meta.version)
        );
        let of_kind = |kinds: &[ItemKind]| -> Vec<&str> {
            inst.items().filter(|i| kinds.contains(&i.kind)).map(|i| i.code.as_str()).collect()
        };
        leveled.push(format!(
            "({version} AND a.item_code = ANY({}))",
            array(&of_kind(&[ItemKind::Scale, ItemKind::Choice]))
        ));
        let indicators: Vec<&str> = inst.computation.tt01_indicators.iter().map(String::as_str).collect();
        tt01.push(format!("({version} AND a.item_code = ANY({}))", array(&indicators)));
        multi.push(format!("({version} AND a.item_code = ANY({}))", array(&of_kind(&[ItemKind::Multi]))));
        let mut per_item = Vec::new();
        for code in &indicators {
            if let Some(case) = level_points_sql(inst, code, false) {
                per_item.push(format!("WHEN {} THEN {case}", lit(code)));
            }
        }
        if !per_item.is_empty() {
            points.push(format!("WHEN {version} THEN CASE a.item_code {} ELSE 0 END", per_item.join(" ")));
        }
        if indicators.contains(&model::TT01_I1) {
            i1_replaced.push(format!("({version})"));
        }
        if indicators.contains(&model::TT01_I7)
            && let Some(case) = level_points_sql(inst, model::TT01_I7, true)
        {
            i7_facts.push(format!("WHEN {version} THEN {case}"));
            i7_versions.push(format!("({version})"));
        }
        let mut codes = Vec::new();
        let mut whens = Vec::new();
        for e in &inst.computation.elements {
            let bit = match bits.iter().position(|b| b == e) {
                Some(i) => i,
                None => {
                    bits.push(e.clone());
                    bits.len() - 1
                }
            };
            for s in model::statements(inst, e) {
                codes.push(s);
                whens.push(format!("WHEN {} THEN {}", lit(s), 1_i64 << bit));
            }
        }
        statement.push(format!("({version} AND a.item_code = ANY({}))", array(&codes)));
        if !whens.is_empty() {
            element.push(format!("WHEN {version} THEN CASE a.item_code {} END", whens.join(" ")));
        }
    }
    let any = |conds: &[String]| if conds.is_empty() { "false".to_string() } else { conds.join(" OR ") };
    let case = |whens: &[String], default: &str| {
        if whens.is_empty() {
            default.to_string()
        } else {
            format!("CASE {} ELSE {default} END", whens.join(" "))
        }
    };
    let scored =
        format!("(({}) AND NOT (a.item_code = {} AND r.tt01_i7_unfounded))", any(&tt01), lit(model::TT01_I7));
    let (resp_and, inv_where) = match range {
        Some((from, to)) => (
            format!("AND r.submitted_at >= {from} AND r.submitted_at < {to}"),
            format!("WHERE i.issued_at >= {from} AND i.issued_at < {to}"),
        ),
        None => (String::new(), String::new()),
    };
    let rday = local_day_sql("r.submitted_at");
    let dims = format!("{rday} AS day, r.unit_code, r.officer_code, r.procedure_code, r.channel, r.held");
    let edims = "e.day, e.unit_code, e.officer_code, e.procedure_code, e.channel, e.held";
    format!(
        "SELECT {dims}, '@response'::text AS item_code, 0::smallint AS level, 1 AS n, 0 AS scored, 0 AS points \
         FROM responses r WHERE true {resp_and} \
         UNION ALL \
         SELECT {dims}, a.item_code, a.level, 1, \
                CASE WHEN {scored} THEN 1 ELSE 0 END, \
                CASE WHEN {scored} THEN {points} ELSE 0 END \
         FROM answers a JOIN responses r ON r.id = a.response_id {resp_and} \
         WHERE a.level IS NOT NULL AND ({leveled}) \
         UNION ALL \
         SELECT {dims}, a.item_code, c.level, 1, 0, 0 \
         FROM answers a JOIN responses r ON r.id = a.response_id {resp_and} \
         CROSS JOIN LATERAL (SELECT -1::smallint AS level UNION ALL SELECT unnest(a.choices)) c \
         WHERE a.choices IS NOT NULL AND ({multi}) \
         UNION ALL \
         SELECT {edims}, b.element, 0::smallint, 1, 0, 0 \
         FROM (SELECT r.id, {dims}, bit_or({element}) AS mask \
               FROM answers a JOIN responses r ON r.id = a.response_id {resp_and} \
               WHERE {statement} GROUP BY r.id) e \
         JOIN ({bits}) b(element, bit) ON e.mask & b.bit <> 0 \
         UNION ALL \
         SELECT {dims}, {f_i1}, {from_facts}, 1, 1, CASE i.fact_timing WHEN 1 THEN 2 WHEN 2 THEN 1 ELSE 0 END \
         FROM responses r JOIN invitations i ON i.id = r.invitation_id \
         WHERE i.fact_timing IS NOT NULL {resp_and} \
         UNION ALL \
         SELECT {dims}, {f_i2}, {from_facts}, 1, 1, i.fact_i2_points \
         FROM responses r JOIN invitations i ON i.id = r.invitation_id \
         WHERE i.fact_i2_points IS NOT NULL {resp_and} \
         UNION ALL \
         SELECT {dims}, {f_i1}, {replaced}, 1, 1, {points} \
         FROM answers a JOIN responses r ON r.id = a.response_id {resp_and} \
         JOIN invitations i ON i.id = r.invitation_id \
         WHERE i.fact_timing IS NOT NULL AND a.level IS NOT NULL AND a.item_code = {i1} AND ({i1_replaced}) \
         UNION ALL \
         SELECT {dims}, {f_i7}, l.level, 1, 1, CASE WHEN l.level = {replaced} THEN {points} ELSE {i7_facts} END \
         FROM answers a JOIN responses r ON r.id = a.response_id {resp_and} \
         JOIN invitations i ON i.id = r.invitation_id \
         CROSS JOIN (VALUES ({from_facts}), ({replaced})) l(level) \
         WHERE i.fact_timing IS NOT NULL AND a.level IS NOT NULL AND a.item_code = {i7} \
           AND NOT r.tt01_i7_unfounded AND ({i7_versions}) \
         UNION ALL \
         SELECT {iday}, i.unit_code, i.officer_code, i.procedure_code, i.channel, false, \
                '@invitation'::text, 0::smallint, 1, 0, 0 \
         FROM invitations i {inv_where}",
        f_i1 = lit(&format!("{}{}", model::FACTS_PREFIX, model::TT01_I1)),
        f_i2 = lit(&format!("{}{}", model::FACTS_PREFIX, model::TT01_I2)),
        f_i7 = lit(&format!("{}{}", model::FACTS_PREFIX, model::TT01_I7)),
        i1 = lit(model::TT01_I1),
        i7 = lit(model::TT01_I7),
        from_facts = format!("{}::smallint", model::FROM_FACTS),
        replaced = format!("{}::smallint", model::REPLACED),
        i1_replaced = any(&i1_replaced),
        i7_versions = any(&i7_versions),
        i7_facts = case(&i7_facts, "0"),
        points = case(&points, "0"),
        leveled = any(&leveled),
        multi = any(&multi),
        statement = any(&statement),
        element = case(&element, "0::bigint"),
        bits = if bits.is_empty() {
            "SELECT NULL::text, 0::bigint WHERE false".to_string()
        } else {
            format!(
                "VALUES {}",
                bits.iter()
                    .enumerate()
                    .map(|(i, e)| format!(
                        "({}, {}::bigint)",
                        lit(&format!("{}{e}", model::ELEMENT_PREFIX)),
                        1_i64 << i
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        iday = local_day_sql("i.issued_at"),
    )
}
