//! `sipas demo`: realistic synthetic data for demos and benchmarks — a commune's one-stop desk
//! (UBND xã Chiêm Hóa, Tuyên Quang) and a smaller neighbour, their desk officers, the common
//! commune procedures, and two years of invitations and responses with weekly and seasonal rhythm.
//!
//! What the data shows, on purpose: land cases rate lower than birth registration; one officer
//! (CH06) is clearly worse than the others; about 30% of invitations are never answered (more
//! online and by post); most residents answer only the first screen, some the per-case questions,
//! fewer the SIPAS statements; a few leave a comment in Vietnamese; satisfaction improves slowly.
//!
//! It writes through the service's own tables (master data through the import path; invitations,
//! responses and answers with binary PostgreSQL COPY, generated on a second thread while the
//! database ingests the previous chunk), in one transaction. Into empty tables:
//! - their indexes are dropped for the load and built once at the end (`db::bulk`), which holds
//!   an exclusive lock on those tables until the load commits;
//! - the generator also tallies what every row adds to the roll-ups (with the answer path's own
//!   `stats::model::contributions`) and hands over each month's roll-up rows once it has left the
//!   month behind; they are merged into one sorted run and COPYed on a second connection while
//!   the first builds the indexes, in a transaction committed right after the load's (if that
//!   fails, they are rebuilt from the raw answers).
//!
//! Into a database that already had data, the roll-ups are rebuilt with `rollup::rebuild`.

mod binary;
mod model;
pub mod pages;
pub mod staged;
mod tally;

use std::io::Write;
use std::sync::mpsc;
use std::time::Instant;

use diesel::pg::CopyFormat;
use diesel::prelude::*;

use crate::masterdata::{Kind, parse, store::import};
use crate::schema::{answers, invitations, responses};
use crate::stats::rollup;

pub use model::{Generator, Plan};
pub use tally::{RollupRows, Tally};

/// The tables the demo COPYs into; into empty ones their indexes are dropped during the load and
/// built at the end ([`crate::db::bulk`]).
const LOADED_TABLES: [&str; 3] = ["invitations", "responses", "answers"];

/// Responses per chunk handed from the generator to the loader.
const CHUNK: u64 = 25_000;

/// Master data of the demo, as the CSV files `sipas import` reads.
pub const UNITS_CSV: &str = "code,name,province_code\n\
CHIEMHOA,UBND xã Chiêm Hóa,08\n\
KIMBINH,UBND xã Kim Bình,08\n";

pub const OFFICERS_CSV: &str = "code,name,unit_code\n\
CH01,Nguyễn Thị Lan,CHIEMHOA\n\
CH02,Hoàng Văn Minh,CHIEMHOA\n\
CH03,Ma Văn Thắng,CHIEMHOA\n\
CH04,Lý Thị Hương,CHIEMHOA\n\
CH05,Quan Văn Đức,CHIEMHOA\n\
CH06,Triệu Văn Hùng,CHIEMHOA\n\
KB01,Ma Thị Hoa,KIMBINH\n\
KB02,Bàn Văn Sơn,KIMBINH\n";

/// The commune's common procedures. The codes of birth, marriage and death registration, the
/// three certifications and the land registration change are national TTHC codes; the others are
/// well-formed codes given for illustration (check them against the national database before any
/// real import).
pub const PROCEDURES_CSV: &str = "code,name,field_code,field_name\n\
1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch\n\
1.000894,Đăng ký kết hôn,HOTICH,Hộ tịch\n\
1.000656,Đăng ký khai tử,HOTICH,Hộ tịch\n\
1.004873,Cấp Giấy xác nhận tình trạng hôn nhân,HOTICH,Hộ tịch\n\
2.000815,\"Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam cấp hoặc chứng nhận\",CHUNGTHUC,Chứng thực\n\
2.000884,\"Chứng thực chữ ký trong các giấy tờ, văn bản\",CHUNGTHUC,Chứng thực\n\
2.000908,\"Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất, nhà ở\",CHUNGTHUC,Chứng thực\n\
1.004227,Đăng ký biến động quyền sử dụng đất,DATDAI,Đất đai\n\
1.003003,Hòa giải tranh chấp đất đai,DATDAI,Đất đai\n\
1.001776,\"Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng\",BAOTROXAHOI,Bảo trợ xã hội\n\
1.001731,Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội,BAOTROXAHOI,Bảo trợ xã hội\n";

fn db_err(e: impl std::fmt::Display) -> String {
    format!("demo data could not be written: {e}")
}

/// One chunk of generated rows in PostgreSQL's binary COPY format.
#[derive(Default)]
pub struct Chunk {
    pub invitations: binary::Rows,
    pub responses: binary::Rows,
    pub answers: binary::Rows,
    pub response_count: u64,
    pub invitation_count: u64,
    pub answer_count: u64,
}

fn copy_error(e: std::io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(e))
}

/// Writes one binary COPY stream: header, rows, trailer.
fn binary_copy(w: &mut dyn Write, rows: &binary::Rows) -> std::io::Result<()> {
    w.write_all(&binary::HEADER)?;
    w.write_all(&rows.buf)?;
    w.write_all(&binary::TRAILER)
}

/// Loads one chunk with three COPY statements; adds the seconds each took to `seconds`.
pub fn load_chunk(conn: &mut PgConnection, chunk: &Chunk, seconds: &mut [f64; 3]) -> QueryResult<()> {
    use crate::schema::answers as a;
    use crate::schema::invitations as i;
    use crate::schema::responses as r;
    let mut clock = Instant::now();
    let mut lap = |slot: usize| {
        seconds[slot] += clock.elapsed().as_secs_f64();
        clock = Instant::now();
    };
    if !chunk.invitations.buf.is_empty() {
        diesel::copy_from(invitations::table)
            .from_raw_data(
                (
                    i::id,
                    i::token_hash,
                    i::code_hash,
                    i::unit_code,
                    i::officer_code,
                    i::procedure_code,
                    i::channel,
                    i::instrument_id,
                    i::instrument_version,
                    i::issued_at,
                    i::expires_at,
                    i::issued_by,
                ),
                |w: &mut dyn Write| binary_copy(w, &chunk.invitations).map_err(copy_error),
            )
            .with_format(CopyFormat::Binary)
            .execute(conn)?;
    }
    lap(0);
    if !chunk.responses.buf.is_empty() {
        diesel::copy_from(responses::table)
            .from_raw_data(
                (
                    r::id,
                    r::invitation_id,
                    r::instrument_id,
                    r::instrument_version,
                    r::unit_code,
                    r::officer_code,
                    r::procedure_code,
                    r::channel,
                    r::submitted_at,
                    r::last_added_at,
                    r::top_score,
                ),
                |w: &mut dyn Write| binary_copy(w, &chunk.responses).map_err(copy_error),
            )
            .with_format(CopyFormat::Binary)
            .execute(conn)?;
    }
    lap(1);
    if !chunk.answers.buf.is_empty() {
        diesel::copy_from(answers::table)
            .from_raw_data(
                (a::response_id, a::item_code, a::level, a::choices, a::text, a::answered_at),
                |w: &mut dyn Write| binary_copy(w, &chunk.answers).map_err(copy_error),
            )
            .with_format(CopyFormat::Binary)
            .execute(conn)?;
    }
    lap(2);
    Ok(())
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

fn max_id(conn: &mut PgConnection, table: &str) -> QueryResult<i64> {
    let row: MaxId = diesel::sql_query(format!("SELECT coalesce(max(id), 0)::bigint AS id FROM {table}"))
        .get_result(conn)?;
    Ok(row.id)
}

/// Imports the demo's master data through the same path as `sipas import`.
pub fn import_master_data(conn: &mut PgConnection) -> Result<(), String> {
    for (kind, text) in
        [(Kind::Units, UNITS_CSV), (Kind::Officers, OFFICERS_CSV), (Kind::Procedures, PROCEDURES_CSV)]
    {
        let rows = parse(kind, text.as_bytes()).map_err(|e| format!("demo master data: {e}"))?;
        import(conn, &rows, "demo").map_err(|e| format!("demo master data: {e}"))?;
    }
    Ok(())
}

/// Generates `responses` responses (and their invitations) ending yesterday, local time, and
/// writes them in one transaction. Into empty tables the roll-ups come from the generator's tally,
/// written on a second connection to `url` (or on `conn` when there is none) while the indexes
/// are built; otherwise they are rebuilt from the raw answers. Returns what was done, in a
/// sentence.
pub fn generate(
    conn: &mut PgConnection,
    url: Option<&str>,
    instruments: &crate::instrument::Instruments,
    plan: Plan,
) -> Result<String, String> {
    let started = Instant::now();
    import_master_data(conn)?;
    let first_invitation = max_id(conn, "invitations").map_err(db_err)? + 1;
    let first_response = max_id(conn, "responses").map_err(db_err)? + 1;
    let instrument = instruments.current().clone();
    // Skipping foreign-key triggers for the bulk load is what a restore does; the generator only
    // writes codes it has just imported and ids it has just made. Refused (not superuser): the
    // checks run, just slower.
    let fast = diesel::sql_query("SET session_replication_role = replica").execute(conn).is_ok();
    diesel::sql_query("SET synchronous_commit = off").execute(conn).map_err(db_err)?;

    // Into a database that had no responses, invitations or roll-ups before (the usual case) the
    // roll-ups are written from the generator's tally; otherwise they are rebuilt from the raw
    // answers, which counts what was there too.
    let fresh = first_invitation == 1 && first_response == 1 && rollup::is_empty(conn).map_err(db_err)?;

    // Into empty roll-ups, the generator hands over each month's rows once it has left the month
    // behind (on the core the load leaves idle); they are written on a second connection (when
    // there is a URL for one) while this one builds the indexes, in a transaction that commits
    // only after the load's has; should anything go wrong there, the roll-ups are rebuilt from
    // the raw answers below. Otherwise they are written on this connection at the end of the
    // load (or rebuilt, into a database that had data).
    let aside_url = url.filter(|_| fresh);
    let aside = aside_url.is_some();
    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let (parts_tx, parts_rx) = mpsc::channel::<RollupRows>();
    let generator = std::thread::Builder::new()
        .name("demo-generator".into())
        .spawn(move || {
            let mut g = Generator::new(&instrument, plan, first_invitation, first_response);
            while let Some(chunk) = g.next_chunk(CHUNK) {
                if tx.send(chunk).is_err() {
                    return false;
                }
                // a roll-up writer that has given up (it could not connect, say) has dropped its
                // end: the load goes on, and the roll-ups are rebuilt after it
                if aside {
                    let part = g.drain_rollups();
                    if !part.is_empty() {
                        let _ = parts_tx.send(part);
                    }
                }
            }
            drop(tx);
            // the last rows are sorted here, while the database takes the last chunk
            if fresh {
                let _ = parts_tx.send(g.into_tally().rows());
            }
            true
        })
        .map_err(|e| format!("cannot start the generator: {e}"))?;
    let mut totals = (0u64, 0u64, 0u64);
    let mut seconds = [0.0; 3];
    let mut index_secs = 0.0;
    let (loaded, rollup_step) = std::thread::scope(|scope| {
        let mut rollup_step: Option<(f64, usize, usize)> = None;
        let (commit_tx, commit_rx) = mpsc::channel::<bool>();
        let mut parts_rx = Some(parts_rx);
        let rollup_writer = aside_url.and_then(|url| {
            parts_rx.take().map(|parts| scope.spawn(move || write_rollups_aside(url, parts, &commit_rx)))
        });
        let loaded: QueryResult<()> = conn.transaction(|conn| {
            // Into empty tables, the indexes are built once after the load instead of kept up to
            // date row by row (most of the database's work otherwise).
            let dropped =
                if fresh { crate::db::bulk::drop_indexes(conn, &LOADED_TABLES)? } else { Vec::new() };
            for chunk in rx {
                load_chunk(conn, &chunk, &mut seconds)?;
                totals.0 += chunk.invitation_count;
                totals.1 += chunk.response_count;
                totals.2 += chunk.answer_count;
            }
            let clock = Instant::now();
            crate::db::bulk::build_indexes(conn, &dropped)?;
            index_secs = clock.elapsed().as_secs_f64();
            diesel::sql_query("SELECT setval('invitations_id_seq', (SELECT max(id) FROM invitations))")
                .execute(conn)?;
            diesel::sql_query("SELECT setval('responses_id_seq', (SELECT max(id) FROM responses))")
                .execute(conn)?;
            if !generator.join().unwrap_or(false) {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            if let (true, Some(parts)) = (fresh, parts_rx.take()) {
                let clock = Instant::now();
                let (days, months) = write_rollups(conn, &RollupRows::merge(parts.into_iter().collect()))?;
                rollup_step = Some((clock.elapsed().as_secs_f64(), days, months));
            }
            Ok(())
        });
        let committed = loaded.is_ok();
        let _ = commit_tx.send(committed);
        if let Some(writer) = rollup_writer {
            match writer.join() {
                Ok(Ok(step)) if committed => rollup_step = Some(step),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the roll-ups written aside failed; rebuilding them")
                }
                Err(_) => tracing::warn!("the roll-up writer stopped; rebuilding the roll-ups"),
            }
        }
        (loaded, rollup_step)
    });
    let load_secs = started.elapsed().as_secs_f64();
    if fast {
        diesel::sql_query("SET session_replication_role = DEFAULT").execute(conn).map_err(db_err)?;
    }
    match loaded {
        Ok(_) => {}
        Err(diesel::result::Error::RollbackTransaction) => {
            return Err("the demo generator failed".to_string());
        }
        Err(e) => return Err(db_err(e)),
    }
    let rows_done = format!(
        "demo data written: {} invitations, {} responses, {} answers in {:.1} s (COPY {:.1} s, {:.1} s, {:.1} s; \
         indexes {:.1} s)",
        totals.0, totals.1, totals.2, load_secs, seconds[0], seconds[1], seconds[2], index_secs,
    );
    diesel::sql_query("ANALYZE invitations, responses, answers").execute(conn).map_err(db_err)?;
    let rollups_done = if let Some((secs, days, months)) = rollup_step {
        let clock = Instant::now();
        rollup::vacuum(conn).map_err(db_err)?;
        format!(
            "roll-ups counted while generating and written in {secs:.1} s ({days} daily rows, {months} monthly \
             rows; vacuum and statistics {:.1} s)",
            clock.elapsed().as_secs_f64()
        )
    } else {
        let clock = Instant::now();
        let report = rollup::rebuild(conn, instruments).map_err(db_err)?;
        rollup::vacuum(conn).map_err(db_err)?;
        format!(
            "roll-ups rebuilt from the raw answers in {:.1} s ({}; {} daily rows, {} monthly rows)",
            clock.elapsed().as_secs_f64(),
            report.timings(),
            report.day_rows,
            report.month_rows
        )
    };
    Ok(format!("{rows_done}; {rollups_done}; {:.1} s in all", started.elapsed().as_secs_f64()))
}

/// Writes the tallied roll-ups on a connection of its own (see [`generate`]) once the generator
/// has sent its last part, in a transaction it commits only when `commit` says the load
/// committed. Returns the seconds the writing took and the row counts.
fn write_rollups_aside(
    url: &str,
    parts: mpsc::Receiver<RollupRows>,
    commit: &mpsc::Receiver<bool>,
) -> Result<(f64, usize, usize), String> {
    let mut conn = PgConnection::establish(url).map_err(db_err)?;
    diesel::sql_query("SET synchronous_commit = off").execute(&mut conn).map_err(db_err)?;
    // Written once the generator is done: during the load, the database's one core is the
    // bottleneck and writing beside it made the whole slower (measured: 70 s instead of 63 s
    // for a million responses); the parts are computed meanwhile on the generator's spare time,
    // and merged into one sorted run here.
    let rows = RollupRows::merge(parts.into_iter().collect());
    conn.transaction(|conn| {
        let clock = Instant::now();
        let (days, months) = write_rollups(conn, &rows)?;
        let secs = clock.elapsed().as_secs_f64();
        if commit.recv().unwrap_or(false) {
            Ok((secs, days, months))
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    })
    .map_err(db_err)
}

/// COPYs the tallied roll-up rows into the empty `rollup_day` and `rollup_month`; returns how many
/// of each.
fn write_rollups(conn: &mut PgConnection, rows: &RollupRows) -> QueryResult<(usize, usize)> {
    rollup::fill_empty(conn, |conn| copy_rollups(conn, rows))?;
    Ok((rows.days.len(), rows.months.len()))
}

fn copy_rollups(conn: &mut PgConnection, rows: &RollupRows) -> QueryResult<()> {
    use crate::schema::{rollup_day as d, rollup_month as m};
    diesel::copy_from(d::table)
        .from_raw_data(
            (
                d::grouping_set,
                d::day,
                d::unit_code,
                d::officer_code,
                d::procedure_code,
                d::channel,
                d::held,
                d::item_code,
                d::level,
                d::n,
                d::scored,
                d::points,
            ),
            |w: &mut dyn Write| rows.write_copy(&rows.days, w).map_err(copy_error),
        )
        .with_format(CopyFormat::Binary)
        .execute(conn)?;
    diesel::copy_from(m::table)
        .from_raw_data(
            (
                m::grouping_set,
                m::month,
                m::unit_code,
                m::officer_code,
                m::procedure_code,
                m::channel,
                m::held,
                m::item_code,
                m::level,
                m::n,
                m::scored,
                m::points,
            ),
            |w: &mut dyn Write| rows.write_copy(&rows.months, w).map_err(copy_error),
        )
        .with_format(CopyFormat::Binary)
        .execute(conn)?;
    Ok(())
}
