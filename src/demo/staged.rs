//! Staged patterns for `sipas demo`, and the measurement of how many the checks catch.
//!
//! One working day of the demo commune (CHIEMHOA, officers CH01–CH06) is answered through the
//! real submission core — the same transaction, the same checks — by two kinds of respondent:
//!
//! Genuine residents (240): one invitation each, answered from their own phone 20 s to 40 min
//! after issue (2% tap the first screen within 8 s of issue, at the counter); the address is one
//! of 40 carrier-NAT addresses shared by everybody on mobile data, the user agent one of 12
//! common phones; each browser keeps the device cookie of its survey page, except 5% (in-app
//! browsers that keep nothing, judged by address + agent); 2% answer over the commune's staff
//! Wi-Fi (a desk network). Scores are mostly 4–5.
//!
//! Staged answers (32), four patterns:
//! - `desk`: officer CH03 answers 15 of their own invitations from the desk PC (desk network),
//!   30–120 s after issue, all 5s, through the day.
//! - `burst`: officer CH05 answers 6 slips within 100 s at the end of the day on three phones
//!   (two each), all 5s.
//! - `device`: officer CH02 answers 8 invitations on one phone on mobile data through the day,
//!   2–20 min after issue, all 5s.
//! - `careful`: officer CH04 answers 3 on one phone, hours apart, minutes after issue: within
//!   every limit, so nothing catches it (the checks are a deterrent, not proof).

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::config::Config;
use crate::http::client::ClientHashes;
use crate::instrument::Instruments;
use crate::kernel::net::{Cidr, any_contains};
use crate::kernel::ratelimit::Submissions;
use crate::kernel::time::midnight;
use crate::responses::model::{RawAnswers, Repeats};
use crate::responses::submit::{self, Limits, Submission};
use crate::schema::{integrity_flags, invitations, responses};

/// The desk network the demo assumes when `DESK_NETWORKS` is unset.
pub const DEMO_DESK_NETWORK: &str = "10.20.0.0/24";
/// Genuine residents and staged answers of the staged day.
pub const GENUINE: usize = 240;
pub const STAGED: usize = 32;

/// How one pattern fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternFigure {
    pub pattern: &'static str,
    pub answers: usize,
    pub caught: usize,
}

/// What the checks caught on the staged day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub day: NaiveDate,
    pub staged: usize,
    pub staged_caught: usize,
    pub genuine: usize,
    pub genuine_flagged: usize,
    /// Why genuine answers were flagged: reason and how many (one answer can have two).
    pub genuine_reasons: Vec<(String, usize)>,
    pub patterns: Vec<PatternFigure>,
}

impl std::fmt::Display for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        write!(
            f,
            "staged patterns on {}: {} of {} staged answers flagged ({:.1}%), {} of {} genuine answers flagged ({:.1}%)",
            self.day,
            self.staged_caught,
            self.staged,
            pct(self.staged_caught, self.staged),
            self.genuine_flagged,
            self.genuine,
            pct(self.genuine_flagged, self.genuine)
        )?;
        for p in &self.patterns {
            write!(f, "; {} {}/{}", p.pattern, p.caught, p.answers)?;
        }
        let why: Vec<String> = self.genuine_reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        write!(
            f,
            "; genuine flagged for: {}",
            if why.is_empty() { "nothing".to_string() } else { why.join(", ") }
        )?;
        Ok(())
    }
}

/// One answer to make.
struct Event {
    officer: &'static str,
    issued_at: DateTime<Utc>,
    submitted_at: DateTime<Utc>,
    address: String,
    user_agent: String,
    /// The browser's device cookie (`http::client::DEVICE_COOKIE`); `None` when it keeps nothing.
    device: Option<String>,
    overall: i16,
    /// `None` for a genuine resident, else the pattern.
    pattern: Option<&'static str>,
    token: String,
    code: String,
}

const PHONES: [&str; 12] = [
    "Mozilla/5.0 (Linux; Android 11; Redmi 9A) Chrome/119",
    "Mozilla/5.0 (Linux; Android 12; SM-A135F) Chrome/120",
    "Mozilla/5.0 (Linux; Android 10; vivo 1906) Chrome/118",
    "Mozilla/5.0 (Linux; Android 13; OPPO A17) Chrome/121",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) Safari/604.1",
    "Mozilla/5.0 (Linux; Android 11; Nokia C20) Chrome/117",
    "Mozilla/5.0 (Linux; Android 12; Redmi 10C) Chrome/120",
    "Mozilla/5.0 (Linux; Android 13; SM-A045F) Chrome/121",
    "Mozilla/5.0 (Linux; Android 9; Mobell S41) Chrome/110",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_7 like Mac OS X) Safari/604.1",
    "Mozilla/5.0 (Linux; Android 12; realme C31) Chrome/119",
    "Mozilla/5.0 (Linux; Android 11; Itel A58) Chrome/116",
];
const OFFICERS: [&str; 6] = ["CH01", "CH02", "CH03", "CH04", "CH05", "CH06"];

/// The most recent working day before `today`.
pub fn last_working_day(today: NaiveDate) -> NaiveDate {
    let mut d = today - Days::new(1);
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d - Days::new(1);
    }
    d
}

fn at(day: NaiveDate, minutes_after_seven: f64) -> DateTime<Utc> {
    midnight(day) + Duration::hours(7) + Duration::milliseconds((minutes_after_seven * 60_000.0) as i64)
}

fn genuine_level(rng: &mut SmallRng) -> i16 {
    match rng.random_range(0..100) {
        0..45 => 5,
        45..80 => 4,
        80..92 => 3,
        92..97 => 2,
        _ => 1,
    }
}

fn plan(day: NaiveDate, seed: u64) -> Vec<Event> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5354_4147);
    let mut events = Vec::new();
    let ev = |officer, issued_at, submitted_at, address: String, ua: &str, overall, pattern| Event {
        officer,
        issued_at,
        submitted_at,
        address,
        user_agent: ua.to_string(),
        device: None,
        overall,
        pattern,
        token: String::new(),
        code: String::new(),
    };
    // genuine residents: spread over the officers and the working day (07:30–17:00)
    for i in 0..GENUINE {
        let officer = OFFICERS[i % OFFICERS.len()];
        let issued = at(day, 30.0 + rng.random::<f64>() * 570.0);
        let delay_s = match rng.random_range(0..100) {
            0..2 => 3.0 + rng.random::<f64>() * 4.5,
            2..70 => 20.0 + rng.random::<f64>() * 280.0,
            _ => 300.0 + rng.random::<f64>() * 2100.0,
        };
        let (address, ua) = if rng.random_range(0..100) < 2 {
            (format!("10.20.0.{}", 100 + rng.random_range(0..50)), PHONES[rng.random_range(0..PHONES.len())])
        } else {
            (format!("100.64.{}.{}", 7, rng.random_range(1..41)), PHONES[rng.random_range(0..PHONES.len())])
        };
        let level = genuine_level(&mut rng);
        events.push(ev(
            officer,
            issued,
            issued + Duration::milliseconds((delay_s * 1000.0) as i64),
            address,
            ua,
            level,
            None,
        ));
    }
    // desk: CH03 from the desk PC
    for k in 0..15 {
        let issued = at(day, 40.0 + k as f64 * 36.0 + rng.random::<f64>() * 10.0);
        let delay = Duration::seconds(rng.random_range(30..120));
        events.push(ev(
            "CH03",
            issued,
            issued + delay,
            "10.20.0.15".into(),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120",
            5,
            Some("desk"),
        ));
    }
    // burst: CH05, six slips in 100 s on three phones, at 16:30
    let start = at(day, 570.0);
    for k in 0..6 {
        let issued = at(day, 200.0 + k as f64 * 45.0);
        let phone = k % 3;
        events.push(ev(
            "CH05",
            issued,
            start + Duration::seconds(k as i64 * 20),
            format!("100.64.9.{}", 200 + phone),
            PHONES[phone],
            5,
            Some("burst"),
        ));
    }
    // device: CH02's phone, eight tokens through the day
    for k in 0..8 {
        let issued = at(day, 60.0 + k as f64 * 65.0);
        let delay = Duration::seconds(rng.random_range(120..1200));
        events.push(ev("CH02", issued, issued + delay, "100.64.12.77".into(), PHONES[4], 5, Some("device")));
    }
    // careful: CH04, three on one phone, hours apart
    for k in 0..3 {
        let issued = at(day, 90.0 + k as f64 * 180.0);
        let delay = Duration::seconds(rng.random_range(60..300));
        events.push(ev("CH04", issued, issued + delay, "100.64.30.5".into(), PHONES[7], 5, Some("careful")));
    }
    // every browser keeps the device cookie its first survey page set, except in-app browsers
    // that keep nothing (5% of residents); a staged phone or PC is one browser
    for e in &mut events {
        let bytes: [u8; 16] = rng.random();
        e.token = format!("stg{}", hex::encode(bytes));
        let id: [u8; 11] = rng.random();
        e.device = match e.pattern {
            None if rng.random_range(0..100) < 5 => None,
            None => Some(hex::encode(id)[..22].to_string()),
            Some(_) => Some(format!("{:0>22}", e.address.replace('.', "-"))),
        };
    }
    events.sort_by_key(|e| e.submitted_at);
    events
}

/// Answers the staged day through the submission core and measures what the checks flagged. The
/// demo's master data must be in place. `desk_networks`: the commune's networks (the demo's
/// [`DEMO_DESK_NETWORK`] when the configuration names none).
pub fn run(
    conn: &mut PgConnection,
    instruments: &Instruments,
    config: &Config,
    secret: &[u8],
    day: NaiveDate,
    seed: u64,
) -> Result<Detection, String> {
    let desk: Vec<Cidr> = if config.integrity.desk_networks.is_empty() {
        vec![DEMO_DESK_NETWORK.parse()?]
    } else {
        config.integrity.desk_networks.clone()
    };
    let instrument = instruments.current();
    let db = |e: diesel::result::Error| format!("staged patterns could not be written: {e}");
    // a second run on the same database makes new tokens and codes
    let salt: i64 = invitations::table
        .select(diesel::dsl::max(invitations::id))
        .first::<Option<i64>>(conn)
        .map_err(db)?
        .unwrap_or(0);
    let mut events = plan(day, seed);
    for (i, e) in events.iter_mut().enumerate() {
        e.token = format!("stg{salt:x}{}", &e.token[3..]);
        e.code = format!("ZS{:08X}", (salt as u32).wrapping_add(i as u32));
    }
    for e in &events {
        diesel::insert_into(invitations::table)
            .values((
                invitations::token.eq(&e.token),
                invitations::code.eq(&e.code),
                invitations::unit_code.eq("CHIEMHOA"),
                invitations::officer_code.eq(e.officer),
                invitations::procedure_code.eq("1.001193"),
                invitations::channel.eq("desk"),
                invitations::instrument_id.eq(&instrument.meta.id),
                invitations::instrument_version.eq(&instrument.meta.version),
                invitations::issued_at.eq(e.issued_at),
                invitations::expires_at.eq(e.issued_at + Duration::days(7)),
                invitations::issued_by.eq("demo:staged"),
            ))
            .execute(conn)
            .map_err(db)?;
        crate::stats::rollup::apply_invitation_issued(
            conn,
            &crate::stats::rollup::InvitationFacts {
                issued_at: e.issued_at,
                unit_code: "CHIEMHOA",
                officer_code: e.officer,
                procedure_code: "1.001193",
                channel: "desk",
            },
        )
        .map_err(db)?;
    }
    let mut limits = Limits::new(config, std::sync::Arc::new(Submissions::default()));
    limits.per_client = u32::MAX / 2;
    for e in &events {
        let mut answers = serde_json::Map::new();
        answers.insert(crate::instrument::OVERALL.to_string(), e.overall.into());
        let ip = e.address.parse().map_err(|_| format!("bad demo address {}", e.address))?;
        let sub = Submission {
            token: e.token.clone(),
            answers: RawAnswers::Json(answers),
            client: ClientHashes::of_device(secret, &e.address, &e.user_agent, e.device.as_deref(), false),
            from_desk_network: any_contains(&desk, ip),
            repeats: Repeats::Refuse,
            now: e.submitted_at,
        };
        submit::submit(conn, instruments, &limits, sub)
            .map_err(|r| format!("a staged answer was refused: {r:?}"))?;
    }
    let flags: Vec<(String, String)> = responses::table
        .inner_join(invitations::table)
        .inner_join(integrity_flags::table.on(integrity_flags::response_id.eq(responses::id)))
        .filter(invitations::token.like("stg%"))
        .select((invitations::token, integrity_flags::reason))
        .load(conn)
        .map_err(db)?;
    let flagged: std::collections::HashSet<String> = flags.iter().map(|(t, _)| t.clone()).collect();
    let genuine_tokens: std::collections::HashSet<&str> =
        events.iter().filter(|e| e.pattern.is_none()).map(|e| e.token.as_str()).collect();
    let mut genuine_reasons = std::collections::BTreeMap::<String, usize>::new();
    for (token, reason) in &flags {
        if genuine_tokens.contains(token.as_str()) {
            *genuine_reasons.entry(reason.clone()).or_default() += 1;
        }
    }
    let caught = |e: &&&Event| flagged.contains(&e.token);
    let mut patterns = Vec::new();
    for p in ["desk", "burst", "device", "careful"] {
        let of: Vec<&Event> = events.iter().filter(|e| e.pattern == Some(p)).collect();
        patterns.push(PatternFigure {
            pattern: p,
            answers: of.len(),
            caught: of.iter().filter(caught).count(),
        });
    }
    let staged: Vec<&Event> = events.iter().filter(|e| e.pattern.is_some()).collect();
    let genuine: Vec<&Event> = events.iter().filter(|e| e.pattern.is_none()).collect();
    Ok(Detection {
        day,
        staged: staged.len(),
        staged_caught: staged.iter().filter(caught).count(),
        genuine: genuine.len(),
        genuine_flagged: genuine.iter().filter(caught).count(),
        genuine_reasons: genuine_reasons.into_iter().collect(),
        patterns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_the_documented_sizes_in_time_order_on_the_working_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let events = plan(day, 1);
        assert_eq!(events.iter().filter(|e| e.pattern.is_none()).count(), GENUINE);
        assert_eq!(events.iter().filter(|e| e.pattern.is_some()).count(), STAGED);
        assert!(events.windows(2).all(|w| w[0].submitted_at <= w[1].submitted_at));
        assert!(events.iter().all(|e| e.submitted_at > e.issued_at));
        assert_eq!(last_working_day(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()), day);
    }
}
