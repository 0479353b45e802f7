//! What makes every staff page show something after `sipas demo`: accounts for each role (with
//! passwords printed once), daily case counts (so offer rates show), follow-ups opened through
//! the follow-up writer from the recent answers that call for one (some answered, some closed),
//! and the commune's public results page switched on.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, SmallInt, Text, Timestamptz};

use crate::auth::Scope;
use crate::followups::store::{self as followups, Facts, FollowupChange};
use crate::instrument::Instruments;
use crate::kernel::answers::{AnswerSet, AnswerValue};
use crate::kernel::hashing::random_token;

/// The demo's accounts: username, role and scope.
fn accounts() -> Vec<(&'static str, Scope)> {
    vec![
        ("demo-quantri", Scope::Admin { unit: None }),
        ("demo-lanhdao", Scope::Leader { unit: "CHIEMHOA".into() }),
        ("demo-canbo", Scope::Officer { unit: "CHIEMHOA".into(), officer: "CH01".into() }),
        ("demo-tinh", Scope::Province),
    ]
}

/// Creates the demo accounts that do not exist yet, each with a fresh random password; returns
/// the lines to print (username, role, password — or that it existed already).
pub fn create_accounts(conn: &mut PgConnection) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for (username, scope) in accounts() {
        let password = format!("Demo-{}", random_token(9));
        let hash = crate::staff::password::hash(&password)?;
        let role = scope.role();
        match crate::staff::store::create(conn, username, &hash, &scope, "demo") {
            Ok(_) => lines.push(format!("  {username:<14} {:<16} {password}", role.label_vi())),
            Err(crate::staff::store::AccountError::UsernameTaken(_)) => lines.push(format!(
                "  {username:<14} {:<16} (already there; its password was not changed)",
                role.label_vi()
            )),
            Err(e) => return Err(format!("demo account {username}: {e}")),
        }
    }
    Ok(lines)
}

/// Daily case counts for every officer and day the demo issued on: more cases than invitations,
/// so the offer rate (invitations ÷ cases) reads about 85%, and under half for CH06, whose
/// results are the worst (an officer who offers the survey to fewer residents). Returns the rows.
pub fn case_counts(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO cases_daily (officer_code, day, unit_code, cases, updated_at, updated_by) \
         SELECT officer_code, (issued_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, unit_code, \
                ceil(count(*) * CASE WHEN officer_code = 'CH06' THEN 2.2 ELSE 1.18 END)::int, now(), 'demo' \
         FROM invitations WHERE issued_by = 'demo' \
         GROUP BY 1, 2, 3 \
         ON CONFLICT (officer_code, day) DO NOTHING",
    )
    .execute(conn)
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    unit_code: String,
    #[diesel(sql_type = Text)]
    officer_code: String,
    #[diesel(sql_type = Timestamptz)]
    submitted_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct AnswerRow {
    #[diesel(sql_type = Text)]
    item_code: String,
    #[diesel(sql_type = Nullable<SmallInt>)]
    level: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
}

/// Most follow-ups the demo opens.
const FOLLOWUPS_MAX: i64 = 60;
/// How far back the demo opens follow-ups.
const FOLLOWUP_DAYS_BACK: i64 = 60;

/// Opens follow-ups (through `followups::store::open`, as a submission would) for the recent
/// demo answers that call for one; of those older than a week, two in three get a reply and one
/// in three of the answered is closed as resolved. Returns (opened, answered, closed).
pub fn followups(
    conn: &mut PgConnection,
    instruments: &Instruments,
    followup_days: u32,
) -> QueryResult<(usize, usize, usize)> {
    let since = Utc::now() - Duration::days(FOLLOWUP_DAYS_BACK);
    let candidates: Vec<Candidate> = diesel::sql_query(
        "SELECT r.id, r.unit_code, r.officer_code, r.submitted_at FROM responses r \
         WHERE r.submitted_at >= $1 AND EXISTS (SELECT 1 FROM answers a WHERE a.response_id = r.id AND ( \
             (a.item_code = 'REPLY.WANTED' AND a.level = 1) OR (a.item_code = 'TT01.I7' AND a.level = 2) \
             OR (a.item_code = 'CASE.EXTRA_COST' AND a.level = 2) \
             OR (a.item_code = 'COMMENT' AND EXISTS (SELECT 1 FROM answers o WHERE o.response_id = r.id \
                 AND o.item_code = 'CASE.OVERALL' AND o.level <= 2)))) \
           AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.response_id = r.id) \
         ORDER BY r.submitted_at DESC LIMIT $2",
    )
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(FOLLOWUPS_MAX)
    .load(conn)?;
    let (mut opened, mut answered, mut closed) = (0, 0, 0);
    let week_ago = Utc::now() - Duration::days(7);
    for (n, c) in candidates.iter().enumerate() {
        let rows: Vec<AnswerRow> =
            diesel::sql_query("SELECT item_code, level, text FROM answers WHERE response_id = $1")
                .bind::<BigInt, _>(c.id)
                .load(conn)?;
        let set: AnswerSet = rows
            .into_iter()
            .filter_map(|a| match (a.level, a.text) {
                (Some(l), _) => Some((a.item_code, AnswerValue::Level(l))),
                (None, Some(t)) => Some((a.item_code, AnswerValue::Text(t))),
                _ => None,
            })
            .collect();
        let facts = Facts { response_id: c.id, unit_code: &c.unit_code, officer_code: &c.officer_code };
        let Some(id) = followups::open(conn, followup_days, &facts, &set, c.submitted_at)? else { continue };
        opened += 1;
        if c.submitted_at < week_ago && n % 3 != 0 {
            let reply = FollowupChange::Reply(
                "Cảm ơn ông/bà đã góp ý. Bộ phận Một cửa đã rà soát và chấn chỉnh việc hướng dẫn hồ sơ."
                    .into(),
            );
            let at = c.submitted_at + Duration::days(2);
            let done = followups::change_followup(conn, instruments, &|_| true, id, &reply, "demo", at);
            if done.is_ok() {
                answered += 1;
                if n % 3 == 1 {
                    let close = FollowupChange::Close { outcome: "resolved".into(), note: String::new() };
                    if followups::change_followup(conn, instruments, &|_| true, id, &close, "demo", at)
                        .is_ok()
                    {
                        closed += 1;
                    }
                }
            }
        }
    }
    Ok((opened, answered, closed))
}
