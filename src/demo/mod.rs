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
//! responses and answers with PostgreSQL COPY, generated on a second thread while the database
//! ingests the previous chunk), then builds the roll-ups once with `rollup::rebuild`.

mod model;

use std::io::Write;
use std::sync::mpsc;
use std::time::Instant;

use diesel::pg::CopyFormat;
use diesel::prelude::*;

use crate::config::Config;
use crate::masterdata::{Kind, parse, store::import};
use crate::schema::{answers, invitations, responses};
use crate::stats::{cli, rollup};

pub use model::{Generator, Plan};

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

/// One chunk of generated rows in PostgreSQL's COPY text format.
#[derive(Default)]
pub struct Chunk {
    pub invitations: Vec<u8>,
    pub responses: Vec<u8>,
    pub answers: Vec<u8>,
    pub response_count: u64,
    pub invitation_count: u64,
    pub answer_count: u64,
}

fn copy_error(e: std::io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(e))
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
    if !chunk.invitations.is_empty() {
        diesel::copy_from(invitations::table)
            .from_raw_data(
                (
                    i::id,
                    i::token,
                    i::code,
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
                |w: &mut dyn Write| w.write_all(&chunk.invitations).map_err(copy_error),
            )
            .with_format(CopyFormat::Text)
            .execute(conn)?;
    }
    lap(0);
    if !chunk.responses.is_empty() {
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
                ),
                |w: &mut dyn Write| w.write_all(&chunk.responses).map_err(copy_error),
            )
            .with_format(CopyFormat::Text)
            .execute(conn)?;
    }
    lap(1);
    if !chunk.answers.is_empty() {
        diesel::copy_from(answers::table)
            .from_raw_data(
                (a::response_id, a::item_code, a::level, a::choices, a::text, a::answered_at),
                |w: &mut dyn Write| w.write_all(&chunk.answers).map_err(copy_error),
            )
            .with_format(CopyFormat::Text)
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
/// writes them; the roll-ups are rebuilt at the end. Returns what was done, in a sentence.
pub fn generate(
    conn: &mut PgConnection,
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

    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let generator = std::thread::Builder::new()
        .name("demo-generator".into())
        .spawn(move || {
            let mut g = Generator::new(&instrument, plan, first_invitation, first_response);
            while let Some(chunk) = g.next_chunk(CHUNK) {
                if tx.send(chunk).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start the generator: {e}"))?;
    let mut totals = (0u64, 0u64, 0u64);
    let mut seconds = [0.0; 3];
    let loaded: QueryResult<()> = conn.transaction(|conn| {
        for chunk in rx.iter() {
            load_chunk(conn, &chunk, &mut seconds)?;
            totals.0 += chunk.invitation_count;
            totals.1 += chunk.response_count;
            totals.2 += chunk.answer_count;
        }
        diesel::sql_query("SELECT setval('invitations_id_seq', (SELECT max(id) FROM invitations))")
            .execute(conn)?;
        diesel::sql_query("SELECT setval('responses_id_seq', (SELECT max(id) FROM responses))")
            .execute(conn)?;
        Ok(())
    });
    let generated = generator.join();
    if fast {
        diesel::sql_query("SET session_replication_role = DEFAULT").execute(conn).map_err(db_err)?;
    }
    loaded.map_err(db_err)?;
    generated.map_err(|_| "the demo generator failed".to_string())?;
    let load_secs = started.elapsed().as_secs_f64();
    diesel::sql_query("ANALYZE invitations, responses, answers").execute(conn).map_err(db_err)?;
    let rebuild_started = Instant::now();
    let report = rollup::rebuild(conn, instruments).map_err(db_err)?;
    rollup::vacuum(conn).map_err(db_err)?;
    Ok(format!(
        "demo data written: {} invitations, {} responses, {} answers in {:.1} s (COPY {:.1} s, {:.1} s, {:.1} s); \
         roll-ups rebuilt in {:.1} s ({} daily rows, {} monthly rows); {:.1} s in all",
        totals.0,
        totals.1,
        totals.2,
        load_secs,
        seconds[0],
        seconds[1],
        seconds[2],
        rebuild_started.elapsed().as_secs_f64(),
        report.day_rows,
        report.month_rows,
        started.elapsed().as_secs_f64()
    ))
}

/// `sipas demo [--responses N] [--seed S]`.
pub fn run(config: &Config, responses: u64, seed: u64) -> Result<String, String> {
    let (_db, mut conn, instruments) = cli::open(config)?;
    let plan = Plan::ending_yesterday(responses, seed);
    generate(&mut conn, &instruments, plan)
}
