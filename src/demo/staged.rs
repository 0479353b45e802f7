//! A realistic simulation for `sipas demo` and the tests: four working weeks of the demo commune
//! (CHIEMHOA, officers CH01–CH06) answered through the real submission core — the same
//! transaction, the same checks — and the measurement of what the per-answer checks and the
//! evidence per officer (`integrity::evidence`) catch.
//!
//! **Genuine residents.** Each officer handles 12–20 cases a working day at the desk
//! (07:30–11:30, 13:30–17:00), offers the slip for 90% of them, and 45% of those slips are
//! answered; 70% of answers give `CASE.OVERALL` its top score. How they answer:
//! - when: 30% scan the desk screen and answer within seconds (page shown 5–40 s after issue,
//!   answer 3–25 s later), 40% within the hour, 30% hours later in the evening;
//! - where: at the desk, half on the commune's guest Wi-Fi (`GUEST_NETWORKS`) and half on mobile
//!   data; later, 60% on their home line (an address of their own) and 40% on mobile data. Mobile
//!   data is five carrier-NAT addresses shared by everyone. One resident in 200 is on the staff
//!   Wi-Fi (a desk network: someone gave them the password);
//! - with what: 45% Chrome on Android with its reduced agent (`Android 10; K`, versions
//!   129–131), 25% iPhones (three iOS versions), 20% Zalo's in-app browser (names the phone
//!   model, keeps no cookie: judged by address + agent), 10% Samsung Internet. Every browser
//!   but Zalo's keeps the device cookie its first survey page set.
//!
//! **Staged patterns** (their answers are the staged ones):
//! - `desk`: CH03 answers 12 of their own slips from the desk PC (desk network), 1–3 min after
//!   issue, spread over the four weeks.
//! - `burst`: CH05 answers 6 slips of the last day at 16:30 within 100 s on three phones.
//! - `device`: CH02 answers 8 slips of one day on one iPhone on mobile data, minutes after each.
//! - `careful`: CH04 answers 3 slips every day on three phones (one each, hours apart), 3–9 min
//!   after issue, from mobile data: within every per-answer limit.
//! - `selective`: CH06 offers the slip only to residents who look pleased (35% of cases); 70%
//!   of them answer, 95% with a top score. These answers are residents' own; the choice of who
//!   gets a slip is staged.
//!
//! A staged slip is one the officer kept: one residents did not answer when there is one, else
//! one a resident would have answered. Every staged answer gives the top score.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::config::Config;
use crate::http::client::ClientHashes;
use crate::instrument::Instruments;
use crate::integrity::evidence::Evidence;
use crate::kernel::net::{Cidr, any_contains};
use crate::kernel::ratelimit::Submissions;
use crate::kernel::survey_secrets;
use crate::kernel::time::midnight;
use crate::responses::model::{RawAnswers, Repeats};
use crate::responses::submit::{self, Limits, Submission};
use crate::schema::{cases_daily, integrity_flags, invitations, responses};

/// The desk network the demo assumes when `DESK_NETWORKS` is unset.
pub const DEMO_DESK_NETWORK: &str = "10.20.0.0/24";
/// The guest Wi-Fi the demo assumes when `GUEST_NETWORKS` is unset.
pub const DEMO_GUEST_NETWORK: &str = "10.30.0.0/22";
/// Working days simulated, ending on the last working day: four weeks. The evidence per officer
/// grows with the period: over two weeks the careful officer's three answers a day stayed within
/// chance for one of eleven seeds tried; over four weeks every one of 26 seeds caught them (the
/// test in `tests/api/integrity.rs` runs six).
pub const DAYS: usize = 20;
/// The staged patterns, in the order they are reported.
pub const PATTERNS: [&str; 5] = ["desk", "burst", "device", "careful", "selective"];

const UNIT: &str = super::model::SIMULATED_UNIT;
const PROCEDURE: &str = "1.001193";
const OFFICERS: [&str; 6] = ["CH01", "CH02", "CH03", "CH04", "CH05", "CH06"];
/// Mobile data: a few carrier-grade NAT addresses shared by every subscriber in the commune.
const CARRIER_NAT: [&str; 5] =
    ["171.224.180.17", "171.224.181.2", "113.185.42.9", "14.231.96.120", "27.72.104.5"];
const DESK_PC: &str = "10.20.0.15";
const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONES: [&str; 3] = ["17_6", "18_1", "18_2"];
const ZALO_MODELS: [&str; 8] =
    ["SM-A145F", "SM-A055F", "Redmi 13C", "Redmi Note 12", "CPH2591", "vivo 1906", "RMX3710", "2312DRAA5"];

fn reduced_chrome(version: u32) -> String {
    format!(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 \
         Mobile Safari/537.36"
    )
}

fn iphone(ios: &str) -> String {
    format!(
        "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
         Version/{} Mobile/15E148 Safari/604.1",
        ios.replace('_', ".")
    )
}

fn zalo(model: &str) -> String {
    format!(
        "Mozilla/5.0 (Linux; Android 13; {model} Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) \
         Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 Zalo android/12100712 ZaloTheme/light"
    )
}

fn samsung(model: &str) -> String {
    format!(
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG {model}) AppleWebKit/537.36 (KHTML, like Gecko) \
         SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
    )
}

/// How one pattern fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternFigure {
    pub pattern: &'static str,
    pub answers: usize,
    /// Flagged by a per-answer check.
    pub flagged: usize,
    /// Flagged, or belonging to an officer the evidence marks unusual for the period.
    pub caught: usize,
    /// The measures the evidence marks unusual for the pattern's officer.
    pub unusual: Vec<&'static str>,
}

/// What the checks and the evidence caught over the simulated four weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub invitations: usize,
    pub staged: usize,
    pub staged_caught: usize,
    pub genuine: usize,
    pub genuine_flagged: usize,
    /// Why genuine answers were flagged: reason and how many (one answer can have two).
    pub genuine_reasons: Vec<(String, usize)>,
    /// Genuine answers of officers the evidence marks unusual (they are not flagged: the evidence
    /// is about the officer, never a single answer).
    pub genuine_of_unusual: usize,
    /// Officers marked unusual, with the measures.
    pub unusual_officers: Vec<(String, Vec<&'static str>)>,
    pub patterns: Vec<PatternFigure>,
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 }
}

impl std::fmt::Display for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "simulated {}–{} ({} invitations): {} of {} staged answers caught ({:.1}%), {} of {} genuine answers \
             flagged ({:.1}%)",
            self.from,
            self.to,
            self.invitations,
            self.staged_caught,
            self.staged,
            pct(self.staged_caught, self.staged),
            self.genuine_flagged,
            self.genuine,
            pct(self.genuine_flagged, self.genuine)
        )?;
        for p in &self.patterns {
            write!(f, "; {} {}/{} (flagged {})", p.pattern, p.caught, p.answers, p.flagged)?;
        }
        let why: Vec<String> = self.genuine_reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        write!(
            f,
            "; genuine flagged for: {}",
            if why.is_empty() { "nothing".to_string() } else { why.join(", ") }
        )?;
        let unusual: Vec<String> =
            self.unusual_officers.iter().map(|(o, m)| format!("{o} ({})", m.join(", "))).collect();
        write!(
            f,
            "; officers unusual: {}",
            if unusual.is_empty() { "none".to_string() } else { unusual.join(", ") }
        )
    }
}

/// How a browser answers.
#[derive(Debug, Clone)]
struct Browser {
    address: String,
    user_agent: String,
    /// The device cookie it keeps (`http::client::DEVICE_COOKIE`); `None` when it keeps nothing.
    cookie: Option<String>,
}

/// One answer to a slip.
#[derive(Debug, Clone)]
struct Answer {
    shown_at: DateTime<Utc>,
    submitted_at: DateTime<Utc>,
    browser: Browser,
    overall: i16,
    /// `None` for a genuine resident, else the pattern.
    pattern: Option<&'static str>,
}

/// One invitation issued, answered or not.
#[derive(Debug, Clone)]
struct Slip {
    officer: &'static str,
    day: usize,
    issued_at: DateTime<Utc>,
    answer: Option<Answer>,
    token: String,
    code: String,
}

/// The simulated four weeks: slips and the cases each officer handled per day.
struct Plan {
    days: Vec<NaiveDate>,
    slips: Vec<Slip>,
    cases: Vec<(&'static str, NaiveDate, i32)>,
}

/// The most recent working day before `today`.
pub fn last_working_day(today: NaiveDate) -> NaiveDate {
    let mut d = today - Days::new(1);
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d - Days::new(1);
    }
    d
}

/// The first of the `DAYS` working days ending on `last`: from it on, the generated data leaves
/// the simulated unit to the simulation (`demo::Plan::simulated_from`).
pub fn first_day(last: NaiveDate) -> NaiveDate {
    working_days(last).first().copied().unwrap_or(last)
}

/// The `DAYS` working days ending on `last`.
fn working_days(last: NaiveDate) -> Vec<NaiveDate> {
    let mut days = vec![last];
    while days.len() < DAYS {
        let before = days.last().copied().unwrap_or(last);
        days.push(last_working_day(before));
    }
    days.reverse();
    days
}

/// Local time `hours` (fractional) on `day`.
fn at(day: NaiveDate, hours: f64) -> DateTime<Utc> {
    midnight(day) + Duration::milliseconds((hours * 3_600_000.0) as i64)
}

fn seconds(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0) as i64)
}

fn genuine_level(rng: &mut SmallRng) -> i16 {
    match rng.random_range(0..100) {
        0..70 => 5,
        70..90 => 4,
        90..96 => 3,
        96..98 => 2,
        _ => 1,
    }
}

fn cookie(rng: &mut SmallRng) -> String {
    let id: [u8; 11] = rng.random();
    hex::encode(id)[..22].to_string()
}

/// A resident's browser, on a network that depends on where they answer from.
fn resident_browser(rng: &mut SmallRng, at_the_desk: bool) -> Browser {
    let address = if rng.random_range(0..200) == 0 {
        format!("10.20.0.{}", 100 + rng.random_range(0..100))
    } else if at_the_desk && rng.random_bool(0.5) {
        format!("10.30.{}.{}", rng.random_range(0..4), rng.random_range(1..255))
    } else if !at_the_desk && rng.random_bool(0.6) {
        format!("14.{}.{}.{}", rng.random_range(160..192), rng.random_range(0..256), rng.random_range(1..255))
    } else {
        CARRIER_NAT[rng.random_range(0..CARRIER_NAT.len())].to_string()
    };
    let (user_agent, keeps_cookie) = match rng.random_range(0..100) {
        0..45 => (reduced_chrome(129 + rng.random_range(0..3)), true),
        45..70 => (iphone(IPHONES[rng.random_range(0..IPHONES.len())]), true),
        70..90 => (zalo(ZALO_MODELS[rng.random_range(0..ZALO_MODELS.len())]), false),
        _ => (samsung(ZALO_MODELS[rng.random_range(0..2)]), true),
    };
    Browser { address, user_agent, cookie: keeps_cookie.then(|| cookie(rng)) }
}

/// A resident's answer to a slip issued at `issued`, on `day`.
fn resident_answer(rng: &mut SmallRng, day: NaiveDate, issued: DateTime<Utc>, overall: i16) -> Answer {
    let kind = rng.random_range(0..100);
    let (shown_at, submitted_at) = match kind {
        0..30 => {
            let shown = issued + seconds(rng.random_range(5.0..40.0));
            (shown, shown + seconds(rng.random_range(3.0..25.0)))
        }
        30..70 => {
            let submitted = issued + seconds(rng.random_range(120.0..3600.0));
            (submitted - seconds(rng.random_range(15.0..120.0)), submitted)
        }
        _ => {
            // hours later, in the evening at the latest
            let latest = at(day, 22.5);
            let mut submitted = issued + seconds(rng.random_range(2.0 * 3600.0..10.0 * 3600.0));
            if submitted > latest {
                submitted = latest - seconds(rng.random_range(0.0..5400.0));
            }
            (submitted - seconds(rng.random_range(20.0..180.0)), submitted)
        }
    };
    Answer { shown_at, submitted_at, browser: resident_browser(rng, kind < 70), overall, pattern: None }
}

/// A staged answer: `delay` after issue, the page shown `read` before the answer.
fn staged_answer(
    slip: &Slip,
    delay: Duration,
    read: Duration,
    browser: &Browser,
    pattern: &'static str,
) -> Answer {
    let submitted_at = slip.issued_at + delay;
    Answer {
        shown_at: submitted_at - read,
        submitted_at,
        browser: browser.clone(),
        overall: 5,
        pattern: Some(pattern),
    }
}

/// `n` slips of `officer` on day `day` issued before `before`, spread over the day, preferring
/// those residents did not answer: the ones the officer kept. A slip already staged is not
/// taken again.
fn kept(slips: &[Slip], officer: &str, day: usize, n: usize, before: Option<DateTime<Utc>>) -> Vec<usize> {
    let of: Vec<usize> = (0..slips.len())
        .filter(|i| {
            let s = &slips[*i];
            s.officer == officer
                && s.day == day
                && before.is_none_or(|b| s.issued_at < b)
                && s.answer.as_ref().is_none_or(|a| a.pattern.is_none())
        })
        .collect();
    let unanswered: Vec<usize> = of.iter().copied().filter(|i| slips[*i].answer.is_none()).collect();
    let answered: Vec<usize> = of.iter().copied().filter(|i| slips[*i].answer.is_some()).collect();
    let pool = if unanswered.len() >= n { unanswered } else { [unanswered, answered].concat() };
    // evenly spaced through the day's pool
    let mut picked: Vec<usize> = (0..n.min(pool.len())).map(|k| pool[k * pool.len() / n.max(1)]).collect();
    picked.sort_by_key(|i| slips[*i].issued_at);
    picked
}

/// Stages the `picked` slips: each answered `delay` seconds after issue (a range), the page read
/// `read` seconds before, on the browsers in turn.
fn stage(
    rng: &mut SmallRng,
    slips: &mut [Slip],
    picked: &[usize],
    delay: (f64, f64),
    read: (f64, f64),
    browsers: &[Browser],
    pattern: &'static str,
) {
    for (k, &i) in picked.iter().enumerate() {
        let (d, r) = (seconds(rng.random_range(delay.0..delay.1)), seconds(rng.random_range(read.0..read.1)));
        let a = staged_answer(&slips[i], d, r, &browsers[k % browsers.len()], pattern);
        slips[i].answer = Some(a);
    }
}

fn plan(last: NaiveDate, seed: u64) -> Plan {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5354_4147);
    let days = working_days(last);
    let mut slips = Vec::new();
    let mut cases = Vec::new();
    for (d, &day) in days.iter().enumerate() {
        for officer in OFFICERS {
            let handled = rng.random_range(12..=20);
            cases.push((officer, day, handled));
            let selective = officer == "CH06";
            for _ in 0..handled {
                // the desk is open 07:30–11:30 and 13:30–17:00
                let hour = rng.random_range(0.0..7.5);
                let issued_at = at(day, if hour < 4.0 { 7.5 + hour } else { 13.5 + hour - 4.0 });
                let (offered, answers) = if selective { (0.35, 0.7) } else { (0.9, 0.45) };
                if !rng.random_bool(offered) {
                    continue;
                }
                let answer = rng.random_bool(answers).then(|| {
                    let level = if selective {
                        if rng.random_bool(0.95) { 5 } else { 4 }
                    } else {
                        genuine_level(&mut rng)
                    };
                    let mut a = resident_answer(&mut rng, day, issued_at, level);
                    if selective {
                        a.pattern = Some("selective");
                    }
                    a
                });
                slips.push(Slip {
                    officer,
                    day: d,
                    issued_at,
                    answer,
                    token: String::new(),
                    code: String::new(),
                });
            }
        }
    }
    slips.sort_by_key(|s| s.issued_at);
    let phone = |rng: &mut SmallRng, address: &str, user_agent: String| Browser {
        address: address.to_string(),
        user_agent,
        cookie: Some(cookie(rng)),
    };
    // desk: CH03 from the desk PC, 12 slips over the four weeks
    let desk_pc = [phone(&mut rng, DESK_PC, WINDOWS_CHROME.to_string())];
    for k in 0..12 {
        let picked = kept(&slips, "CH03", k * DAYS / 12, 1, None);
        stage(&mut rng, &mut slips, &picked, (60.0, 180.0), (20.0, 40.0), &desk_pc, "desk");
    }
    // burst: CH05, six slips of the last day answered at 16:30 within 100 s on three phones
    let phones: Vec<Browser> =
        (0..3).map(|k| phone(&mut rng, CARRIER_NAT[k], reduced_chrome(130 + k as u32))).collect();
    let start = at(days[DAYS - 1], 16.5);
    let before = start - Duration::minutes(5);
    for (k, i) in kept(&slips, "CH05", DAYS - 1, 6, Some(before)).into_iter().enumerate() {
        let delay = start + Duration::seconds(k as i64 * 20) - slips[i].issued_at;
        let a = staged_answer(&slips[i], delay, Duration::seconds(8), &phones[k % 3], "burst");
        slips[i].answer = Some(a);
    }
    // device: CH02's iPhone on mobile data answers eight slips of one day
    let iphone_of_ch02 = [phone(&mut rng, CARRIER_NAT[3], iphone(IPHONES[1]))];
    let picked = kept(&slips, "CH02", 4, 8, None);
    stage(&mut rng, &mut slips, &picked, (120.0, 1200.0), (30.0, 90.0), &iphone_of_ch02, "device");
    // careful: CH04, three slips a day, one per phone, hours apart, minutes after issue
    let careful = [
        phone(&mut rng, CARRIER_NAT[0], reduced_chrome(130)),
        phone(&mut rng, CARRIER_NAT[2], iphone(IPHONES[2])),
        phone(&mut rng, CARRIER_NAT[4], samsung(ZALO_MODELS[0])),
    ];
    for d in 0..DAYS {
        let picked = kept(&slips, "CH04", d, 3, None);
        stage(&mut rng, &mut slips, &picked, (180.0, 540.0), (40.0, 90.0), &careful, "careful");
    }
    for s in &mut slips {
        let bytes: [u8; 16] = rng.random();
        s.token = format!("stg{}", hex::encode(bytes));
    }
    Plan { days, slips, cases }
}

/// How many responses the simulation ending on `last` writes (the demo counts them among the
/// responses asked for).
pub fn answers_planned(last: NaiveDate, seed: u64) -> usize {
    plan(last, seed).slips.iter().filter(|s| s.answer.is_some()).count()
}

/// Runs the simulation ending on `last` through the submission core and measures what the
/// checks flagged and what the evidence marks unusual. The demo's master data must be in place.
/// The commune's networks are the configuration's, or the demo's ([`DEMO_DESK_NETWORK`],
/// [`DEMO_GUEST_NETWORK`]) when it names none.
pub fn run(
    conn: &mut PgConnection,
    instruments: &Instruments,
    config: &Config,
    secret: &[u8],
    last: NaiveDate,
    seed: u64,
) -> Result<Detection, String> {
    let networks = |set: &[Cidr], default: &str| -> Result<Vec<Cidr>, String> {
        if set.is_empty() { Ok(vec![default.parse()?]) } else { Ok(set.to_vec()) }
    };
    let desk = networks(&config.integrity.desk_networks, DEMO_DESK_NETWORK)?;
    let guest = networks(&config.integrity.guest_networks, DEMO_GUEST_NETWORK)?;
    let instrument = instruments.current();
    let db = |e: diesel::result::Error| format!("the simulation could not be written: {e}");
    // a second run on the same database makes new tokens and codes
    let salt: i64 = invitations::table
        .select(diesel::dsl::max(invitations::id))
        .first::<Option<i64>>(conn)
        .map_err(db)?
        .unwrap_or(0);
    let Plan { days, mut slips, cases } = plan(last, seed);
    for (i, s) in slips.iter_mut().enumerate() {
        s.token = format!("stg{salt:x}{}", &s.token[3..]);
        s.code = format!("ZS{:08X}", (salt as u32).wrapping_add(i as u32));
    }
    for s in &slips {
        let id: i64 = diesel::insert_into(invitations::table)
            .values((
                invitations::token_hash.eq(survey_secrets::token_hash(secret, &s.token)),
                invitations::code_hash.eq(survey_secrets::code_hash(secret, &s.code)),
                invitations::unit_code.eq(UNIT),
                invitations::officer_code.eq(s.officer),
                invitations::procedure_code.eq(PROCEDURE),
                invitations::channel.eq("desk"),
                invitations::instrument_id.eq(&instrument.meta.id),
                invitations::instrument_version.eq(&instrument.meta.version),
                invitations::issued_at.eq(s.issued_at),
                invitations::expires_at.eq(s.issued_at + Duration::days(7)),
                invitations::issued_by.eq("demo:staged"),
            ))
            .returning(invitations::id)
            .get_result(conn)
            .map_err(db)?;
        // sealed for its row like every invitation (the id is the seal's associated data)
        diesel::update(invitations::table.find(id))
            .set(invitations::sealed.eq(survey_secrets::seal(secret, id, &s.token, &s.code)))
            .execute(conn)
            .map_err(db)?;
        crate::stats::rollup::apply_invitation_issued(
            conn,
            &crate::stats::rollup::InvitationFacts {
                issued_at: s.issued_at,
                unit_code: UNIT,
                officer_code: s.officer,
                procedure_code: PROCEDURE,
                channel: "desk",
            },
        )
        .map_err(db)?;
        if let Some(a) = &s.answer {
            crate::responses::store::mark_shown(conn, id, a.shown_at).map_err(db)?;
        }
    }
    // the one-stop system's caseload (the generated data leaves these days of the unit to the
    // simulation: `demo::Plan::simulated_from`; the upsert adds to a count already there)
    for (officer, day, handled) in &cases {
        diesel::insert_into(cases_daily::table)
            .values((
                cases_daily::officer_code.eq(officer),
                cases_daily::day.eq(day),
                cases_daily::unit_code.eq(UNIT),
                cases_daily::cases.eq(handled),
                cases_daily::updated_at.eq(Utc::now()),
                cases_daily::updated_by.eq("demo:staged"),
            ))
            .on_conflict((cases_daily::officer_code, cases_daily::day))
            .do_update()
            .set(cases_daily::cases.eq(cases_daily::cases + handled))
            .execute(conn)
            .map_err(db)?;
    }
    let mut limits = Limits::new(config, std::sync::Arc::new(Submissions::default()));
    limits.per_client = u32::MAX / 2;
    let mut answered: Vec<&Slip> = slips.iter().filter(|s| s.answer.is_some()).collect();
    answered.sort_by_key(|s| s.answer.as_ref().map(|a| a.submitted_at));
    for s in &answered {
        let Some(a) = &s.answer else { continue };
        let mut answers = serde_json::Map::new();
        answers.insert(crate::instrument::OVERALL.to_string(), a.overall.into());
        let b = &a.browser;
        let ip = b.address.parse().map_err(|_| format!("bad simulated address {}", b.address))?;
        let sub = Submission {
            token: s.token.clone(),
            token_hash: survey_secrets::token_hash(secret, &s.token),
            answers: RawAnswers::Json(answers),
            client: ClientHashes::of_device(
                secret,
                &b.address,
                &b.user_agent,
                b.cookie.as_deref(),
                !any_contains(&desk, ip) && any_contains(&guest, ip),
            ),
            from_desk_network: any_contains(&desk, ip),
            repeats: Repeats::Refuse,
            now: a.submitted_at,
        };
        submit::submit(conn, instruments, &limits, sub)
            .map_err(|r| format!("a simulated answer was refused: {r:?}"))?;
    }
    // what the simulated answers showed of earlier ones, as the running service's job would flag it
    crate::integrity::spread::drain(conn, instruments).map_err(db)?;
    let (from, to) = (days[0], days[DAYS - 1]);
    let min_n = u64::from(config.min_n.unwrap_or(instrument.computation.min_n));
    let evidence = crate::integrity::store::evidence(conn, UNIT, from, to, min_n).map_err(db)?;
    // the tokens are stored as hashes only: the run's own are found by theirs
    let token_of: std::collections::HashMap<String, &str> =
        slips.iter().map(|s| (survey_secrets::token_hash(secret, &s.token), s.token.as_str())).collect();
    let hashes: Vec<&String> = token_of.keys().collect();
    let flagged: Vec<(Option<String>, String)> = responses::table
        .inner_join(invitations::table)
        .inner_join(integrity_flags::table.on(integrity_flags::response_id.eq(responses::id)))
        .filter(invitations::token_hash.eq_any(hashes))
        .select((invitations::token_hash, integrity_flags::reason))
        .load(conn)
        .map_err(db)?;
    let flags: Vec<(String, String)> = flagged
        .into_iter()
        .filter_map(|(hash, reason)| Some((token_of.get(hash.as_deref()?)?.to_string(), reason)))
        .collect();
    Ok(measure(&answered, &flags, &evidence, from, to, slips.len()))
}

/// The figures of a run: what was flagged (`flags`: token and reason) and whom the evidence
/// marks unusual.
fn measure(
    answered: &[&Slip],
    flags: &[(String, String)],
    evidence: &Evidence,
    from: NaiveDate,
    to: NaiveDate,
    invitations: usize,
) -> Detection {
    let flagged: HashSet<&str> = flags.iter().map(|(t, _)| t.as_str()).collect();
    let unusual: BTreeMap<&str, Vec<&'static str>> = evidence
        .officers
        .iter()
        .filter(|o| o.unusual())
        .map(|o| {
            let measures: BTreeSet<&'static str> = o.unusual_ones().map(|c| c.measure.code()).collect();
            (o.officer_code.as_str(), measures.into_iter().collect())
        })
        .collect();
    let pattern_of = |s: &Slip| s.answer.as_ref().and_then(|a| a.pattern);
    let is_flagged = |s: &Slip| flagged.contains(s.token.as_str());
    let is_caught = |s: &Slip| is_flagged(s) || unusual.contains_key(s.officer);
    let genuine: Vec<&&Slip> = answered.iter().filter(|s| pattern_of(s).is_none()).collect();
    let staged: Vec<&&Slip> = answered.iter().filter(|s| pattern_of(s).is_some()).collect();
    let genuine_tokens: HashSet<&str> = genuine.iter().map(|s| s.token.as_str()).collect();
    let mut genuine_reasons = BTreeMap::<String, usize>::new();
    for (token, reason) in flags {
        if genuine_tokens.contains(token.as_str()) {
            *genuine_reasons.entry(reason.clone()).or_default() += 1;
        }
    }
    let patterns = PATTERNS
        .iter()
        .map(|&p| {
            let of: Vec<&&Slip> = answered.iter().filter(|s| pattern_of(s) == Some(p)).collect();
            let officer = of.first().map(|s| s.officer).unwrap_or_default();
            PatternFigure {
                pattern: p,
                answers: of.len(),
                flagged: of.iter().filter(|s| is_flagged(s)).count(),
                caught: of.iter().filter(|s| is_caught(s)).count(),
                unusual: unusual.get(officer).cloned().unwrap_or_default(),
            }
        })
        .collect();
    Detection {
        from,
        to,
        invitations,
        staged: staged.len(),
        staged_caught: staged.iter().filter(|s| is_caught(s)).count(),
        genuine: genuine.len(),
        genuine_flagged: genuine.iter().filter(|s| is_flagged(s)).count(),
        genuine_reasons: genuine_reasons.into_iter().collect(),
        genuine_of_unusual: genuine.iter().filter(|s| unusual.contains_key(s.officer)).count(),
        unusual_officers: unusual.into_iter().map(|(o, m)| (o.to_string(), m)).collect(),
        patterns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_covers_twenty_working_days_with_every_pattern_answered_after_issue() {
        let last = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let p = plan(last, 1);
        assert_eq!(p.days.len(), DAYS);
        assert_eq!(p.days[0], NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        assert!(p.days.iter().all(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)));
        let count = |pattern: &str| {
            p.slips.iter().filter(|s| s.answer.as_ref().and_then(|a| a.pattern) == Some(pattern)).count()
        };
        assert_eq!([count("desk"), count("burst"), count("device"), count("careful")], [12, 6, 8, 60]);
        assert!(count("selective") > 40);
        for s in &p.slips {
            if let Some(a) = &s.answer {
                assert!(s.issued_at < a.shown_at && a.shown_at < a.submitted_at, "{s:?}");
                assert_eq!(
                    crate::kernel::time::local_day(a.submitted_at),
                    p.days[s.day],
                    "answered the same day"
                );
            }
        }
        let answered = p.slips.iter().filter(|s| s.answer.is_some()).count();
        assert_eq!(answers_planned(last, 1), answered);
        // about 45% of a genuine officer's slips are answered, 70% of those with a top score
        let ch01: Vec<&Slip> = p.slips.iter().filter(|s| s.officer == "CH01").collect();
        let rate = ch01.iter().filter(|s| s.answer.is_some()).count() as f64 / ch01.len() as f64;
        assert!((0.35..0.55).contains(&rate), "{rate}");
        assert_eq!(last_working_day(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()), last);
    }
}
