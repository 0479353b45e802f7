//! The demo's generator: who comes to the desk when, for what, served by whom, and how they
//! answer. Pure: it writes COPY text into buffers and touches no database.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::Chunk;
use super::binary::Rows;
use super::tally::Tally;
use crate::instrument::Instrument;
use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;
use crate::kernel::time::{local_day, midnight, today};
use crate::stats::model::statements;

/// What to generate: `responses` responses over `days` local days from `first_day`.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub responses: u64,
    pub seed: u64,
    pub first_day: NaiveDate,
    pub days: u32,
    /// From this day on, the simulated unit ([`SIMULATED_UNIT`]) gets no generated invitations:
    /// its days are those of the integrity simulation (`demo::staged`), answered through the
    /// real submission core. Without this, two years of generated data overlapped the
    /// simulation's four weeks, so the evidence per officer over those weeks mixed the two (the
    /// generated officers' quality shifts, and caseloads the simulation did not plan), and
    /// ordinary officers looked unusual. Those days keep the other unit's share of the traffic,
    /// so the generated total stays `responses`.
    pub simulated_from: Option<NaiveDate>,
}

/// The unit `demo::staged` simulates.
pub const SIMULATED_UNIT: &str = "CHIEMHOA";
/// The share of the demo's invitations that go to the other unit, KIMBINH.
const KIMBINH_SHARE: f64 = 0.13;

impl Plan {
    /// Two years (730 days) ending yesterday, local time.
    pub fn ending_yesterday(responses: u64, seed: u64) -> Plan {
        let today = today();
        let first_day = today.checked_sub_days(Days::new(730)).unwrap_or(today);
        Plan { responses, seed, first_day, days: 730, simulated_from: None }
    }

    /// The same two years, leaving the simulated unit's days from `day` on to the simulation.
    pub fn simulated_from(self, day: NaiveDate) -> Plan {
        Plan { simulated_from: Some(day), ..self }
    }

    fn simulated(&self, day: NaiveDate) -> bool {
        self.simulated_from.is_some_and(|from| day >= from)
    }
}

/// A procedure of the demo: code, field, share of the caseload, how well it usually goes (on the
/// 1–5 scale), and whether it is a land case (slower, more contacts).
struct Procedure {
    code: &'static str,
    field: &'static str,
    share: f64,
    quality: f64,
    land: bool,
}

const PROCEDURES: [Procedure; 11] = [
    Procedure { code: "1.001193", field: "HOTICH", share: 12.0, quality: 4.55, land: false },
    Procedure { code: "1.000894", field: "HOTICH", share: 5.0, quality: 4.6, land: false },
    Procedure { code: "1.000656", field: "HOTICH", share: 4.0, quality: 4.4, land: false },
    Procedure { code: "1.004873", field: "HOTICH", share: 8.0, quality: 4.35, land: false },
    Procedure { code: "2.000815", field: "CHUNGTHUC", share: 30.0, quality: 4.3, land: false },
    Procedure { code: "2.000884", field: "CHUNGTHUC", share: 9.0, quality: 4.3, land: false },
    Procedure { code: "2.000908", field: "CHUNGTHUC", share: 6.0, quality: 4.0, land: false },
    Procedure { code: "1.004227", field: "DATDAI", share: 10.0, quality: 3.55, land: true },
    Procedure { code: "1.003003", field: "DATDAI", share: 3.0, quality: 3.3, land: true },
    Procedure { code: "1.001776", field: "BAOTROXAHOI", share: 9.0, quality: 4.2, land: false },
    Procedure { code: "1.001731", field: "BAOTROXAHOI", share: 4.0, quality: 4.25, land: false },
];

/// Who handles a field in each unit, with their share; the quality shift is the officer's own.
const OFFICERS: [(&str, &str, &str, f64, f64); 11] = [
    // (unit, field, officer, share, quality shift)
    ("CHIEMHOA", "HOTICH", "CH01", 0.55, 0.1),
    ("CHIEMHOA", "HOTICH", "CH06", 0.45, -0.95),
    ("CHIEMHOA", "CHUNGTHUC", "CH01", 0.3, 0.1),
    ("CHIEMHOA", "CHUNGTHUC", "CH02", 0.4, 0.05),
    ("CHIEMHOA", "CHUNGTHUC", "CH06", 0.3, -0.95),
    ("CHIEMHOA", "DATDAI", "CH03", 0.6, 0.0),
    ("CHIEMHOA", "DATDAI", "CH05", 0.4, -0.1),
    ("CHIEMHOA", "BAOTROXAHOI", "CH04", 1.0, 0.1),
    ("KIMBINH", "*", "KB01", 0.5, 0.15),
    ("KIMBINH", "*", "KB02", 0.5, 0.0),
    ("CHIEMHOA", "-", "CH04", 0.0, 0.0),
];

/// The worse officer, who also draws more harassment complaints and late results.
const WORSE: &str = "CH06";

/// (channel, share, chance the invitation is answered)
const CHANNELS: [(&str, f64, f64); 3] =
    [("desk", 0.85, 0.74), ("online", 0.12, 0.55), ("postal", 0.03, 0.35)];

const POSITIVE_COMMENTS: [&str; 6] = [
    "Cán bộ hướng dẫn tận tình, chu đáo.",
    "Thủ tục nhanh gọn, trả kết quả sớm hơn ngày hẹn.",
    "Rất hài lòng với thái độ phục vụ của cán bộ một cửa.",
    "Trụ sở sạch sẽ, có chỗ ngồi chờ và nước uống.",
    "Cảm ơn cán bộ đã hỗ trợ nhiệt tình, giải thích dễ hiểu.",
    "Được hướng dẫn một lần là hoàn thiện hồ sơ, rất thuận tiện.",
];

const NEGATIVE_COMMENTS: [&str; 7] = [
    "Phải đi lại nhiều lần mới hoàn thiện được hồ sơ.",
    "Thời gian chờ đợi lâu, đề nghị bố trí thêm cán bộ tiếp nhận.",
    "Cán bộ chưa nhiệt tình, trả lời qua loa.",
    "Hồ sơ đất đai trả chậm so với giấy hẹn, không được báo trước.",
    "Đề nghị niêm yết rõ ràng mức phí, lệ phí.",
    "Máy lấy số thứ tự thường xuyên bị hỏng.",
    "Cán bộ yêu cầu bổ sung giấy tờ không có trong quy định.",
];

const OTHER_COMMENTS: [&str; 4] = [
    "Nên có hướng dẫn bằng tiếng dân tộc cho bà con vùng cao.",
    "Mong xã mở rộng dịch vụ công trực tuyến để đỡ phải đi lại.",
    "Đề nghị bố trí chỗ để xe có mái che.",
    "Nên gửi tin nhắn báo khi có kết quả.",
];

/// How busy a local day is, relative to an ordinary weekday: weekends, Tết and public holidays,
/// the months before Tết busier, adoption growing over the two years.
pub fn day_weight(day: NaiveDate, progress: f64) -> f64 {
    let (m, d) = (day.month(), day.day());
    let closed = matches!((m, d), (1, 1) | (4, 30) | (5, 1) | (9, 1) | (9, 2)) || is_tet(day);
    if closed {
        return 0.0;
    }
    let weekday = match day.weekday() {
        Weekday::Sat => 0.3,
        Weekday::Sun => 0.0,
        _ => 1.0,
    };
    let month = [1.25, 0.85, 1.0, 0.95, 0.95, 0.9, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2][m as usize - 1];
    weekday * month * (0.75 + 0.35 * progress)
}

/// The Tết holiday week (the office is closed) of the years the demo can cover.
fn is_tet(day: NaiveDate) -> bool {
    let range = |y, m1, d1, m2, d2| {
        let a = NaiveDate::from_ymd_opt(y, m1, d1);
        let b = NaiveDate::from_ymd_opt(y, m2, d2);
        matches!((a, b), (Some(a), Some(b)) if day >= a && day <= b)
    };
    range(2024, 2, 8, 2, 14)
        || range(2025, 1, 25, 2, 2)
        || range(2026, 2, 14, 2, 22)
        || range(2027, 2, 4, 2, 10)
        || range(2028, 1, 24, 1, 31)
}

/// Seasonal factor of a procedure's share: weddings after the harvest and before Tết, land in the
/// dry season, social support at the start of each quarter.
fn seasonal(p: &Procedure, month: u32) -> f64 {
    match p.code {
        "1.000894" => [1.8, 1.0, 0.9, 0.7, 0.6, 0.6, 0.5, 0.6, 0.9, 1.4, 1.8, 1.9][month as usize - 1],
        _ if p.land => [1.3, 0.9, 1.3, 1.2, 1.0, 0.8, 0.7, 0.7, 0.9, 1.1, 1.3, 1.4][month as usize - 1],
        _ if p.field == "BAOTROXAHOI" => {
            [1.3, 1.0, 0.9, 1.3, 0.9, 0.9, 1.3, 0.9, 0.9, 1.3, 0.9, 0.9][month as usize - 1]
        }
        _ => 1.0,
    }
}

fn pick<T: Copy>(rng: &mut SmallRng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// Roughly normal noise with standard deviation `sd` (a sum of three uniforms).
fn noise(rng: &mut SmallRng, sd: f64) -> f64 {
    (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5) * 2.0 * sd
}

fn level(rng: &mut SmallRng, q: f64) -> i16 {
    (q + noise(rng, 0.55)).round().clamp(1.0, 5.0) as i16
}

/// Produces the demo's rows, chunk by chunk, in time order.
pub struct Generator {
    rng: SmallRng,
    plan: Plan,
    instrument_id: String,
    instrument_version: String,
    /// Statement codes per element, from the instrument.
    elements: Vec<Vec<String>>,
    known: std::collections::HashSet<String>,
    day: u32,
    day_cumulative: Vec<f64>,
    invitations_total: u64,
    invitations_made: u64,
    responses_made: u64,
    next_invitation: i64,
    next_response: i64,
    end: DateTime<Utc>,
    instrument: Instrument,
    /// The roll-ups of everything generated so far.
    tally: Tally,
}

impl Generator {
    pub fn new(instrument: &Instrument, plan: Plan, first_invitation: i64, first_response: i64) -> Generator {
        let weights: Vec<f64> = (0..plan.days)
            .map(|i| {
                let day = plan.first_day + Days::new(u64::from(i));
                let weight = day_weight(day, f64::from(i) / f64::from(plan.days.max(1)));
                if plan.simulated(day) { weight * KIMBINH_SHARE } else { weight }
            })
            .collect();
        let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let mut acc = 0.0;
        let day_cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        let answer_rate: f64 = CHANNELS.iter().map(|(_, s, p)| s * p).sum();
        let end_day = plan.first_day + Days::new(u64::from(plan.days));
        let end = midnight(end_day);
        Generator {
            rng: SmallRng::seed_from_u64(plan.seed),
            plan,
            instrument_id: instrument.meta.id.clone(),
            instrument_version: instrument.meta.version.clone(),
            elements: instrument
                .computation
                .elements
                .iter()
                .map(|e| statements(instrument, e).map(str::to_string).collect())
                .collect(),
            known: instrument.items().map(|i| i.code.clone()).collect(),
            day: 0,
            day_cumulative,
            invitations_total: (plan.responses as f64 / answer_rate).ceil() as u64,
            invitations_made: 0,
            responses_made: 0,
            next_invitation: first_invitation,
            next_response: first_response,
            end,
            instrument: instrument.clone(),
            tally: Tally::default(),
        }
    }

    /// The roll-ups of everything generated (call after the last chunk).
    pub fn into_tally(self) -> Tally {
        self.tally
    }

    /// The roll-up rows of the months the generator has left behind, taken out of its tally (see
    /// [`Tally::drain_before`]).
    pub fn drain_rollups(&mut self) -> super::RollupRows {
        let next = self.plan.first_day + Days::new(u64::from(self.day));
        let month = next.with_day(1).unwrap_or(next).num_days_from_ce();
        self.tally.drain_before(month)
    }

    /// The next chunk of about `responses` responses (whole days), or `None` when done.
    pub fn next_chunk(&mut self, responses: u64) -> Option<Chunk> {
        if self.day >= self.plan.days {
            return None;
        }
        let mut chunk = Chunk::default();
        while self.day < self.plan.days && chunk.response_count < responses {
            self.generate_day(&mut chunk);
            self.day += 1;
        }
        Some(chunk)
    }

    fn generate_day(&mut self, chunk: &mut Chunk) {
        let i = self.day as usize;
        let upto = |c: f64, total: u64| (c * total as f64).round() as u64;
        let before = if i == 0 { 0 } else { upto(self.day_cumulative[i - 1], self.invitations_total) };
        let last = i + 1 == self.day_cumulative.len();
        let after =
            if last { self.invitations_total } else { upto(self.day_cumulative[i], self.invitations_total) };
        let count = after.saturating_sub(before);
        let day = self.plan.first_day + Days::new(u64::from(self.day));
        let progress = f64::from(self.day) / f64::from(self.plan.days.max(1));
        let saturday = day.weekday() == Weekday::Sat;
        // office hours, local: 7:30–11:30 and 13:30–17:00 (Saturday mornings only)
        let mut seconds: Vec<u32> = (0..count)
            .map(|_| {
                let morning = saturday || self.rng.random_bool(0.55);
                if morning {
                    7 * 3600 + 1800 + self.rng.random_range(0..4 * 3600)
                } else {
                    13 * 3600 + 1800 + self.rng.random_range(0..3 * 3600 + 1800)
                }
            })
            .collect();
        seconds.sort_unstable();
        let midnight = midnight(day);
        let month = day.month();
        let procedures: Vec<(usize, f64)> =
            PROCEDURES.iter().enumerate().map(|(k, p)| (k, p.share * seasonal(p, month))).collect();
        let simulated = self.plan.simulated(day);
        for s in seconds {
            let issued = midnight + chrono::Duration::seconds(i64::from(s));
            self.invitation(chunk, issued, &procedures, progress, simulated);
        }
    }

    fn invitation(
        &mut self,
        chunk: &mut Chunk,
        issued: DateTime<Utc>,
        procedures: &[(usize, f64)],
        progress: f64,
        simulated: bool,
    ) {
        let rng = &mut self.rng;
        let p = &PROCEDURES[pick(rng, procedures)];
        let other = rng.random_bool(KIMBINH_SHARE);
        let unit = if other || simulated { "KIMBINH" } else { SIMULATED_UNIT };
        let officers: Vec<((&str, f64), f64)> = OFFICERS
            .iter()
            .filter(|(u, f, _, share, _)| *u == unit && (*f == p.field || *f == "*") && *share > 0.0)
            .map(|(_, _, o, share, shift)| ((*o, *shift), *share))
            .collect();
        let (officer, shift) = pick(rng, &officers);
        let (channel, answer_p) = pick(rng, &CHANNELS.map(|(c, s, p)| ((c, p), s)));
        let id = self.next_invitation;
        self.next_invitation += 1;
        self.invitations_made += 1;
        let mut token_random = [0u8; 16];
        rng.fill(&mut token_random);
        let expires = issued + chrono::Duration::days(7);
        // Bulk invitations are never handed to anyone, so nobody needs their token or code back:
        // they get values of a lookup hash's shape only (unique, random for the token, as a keyed
        // hash of a token nobody knows is), no seal, and no clear column (issue 21, finding 14).
        let token_hash = format!("{id:016x}{}{id:016x}", hex::encode(token_random));
        let code_hash = format!("{id:064x}");
        chunk
            .invitations
            .row(12)
            .int8(id)
            .text(&token_hash)
            .text(&code_hash)
            .text(unit)
            .text(officer)
            .text(p.code);
        chunk.invitations.text(channel).text(&self.instrument_id).text(&self.instrument_version);
        chunk.invitations.timestamptz(issued).timestamptz(expires).text("demo");
        chunk.invitation_count += 1;
        self.tally.invitation(local_day(issued), unit, officer, p.code, channel);

        let remaining_inv = self.invitations_total.saturating_sub(self.invitations_made) + 1;
        let remaining_resp = self.plan.responses.saturating_sub(self.responses_made);
        let worse = officer == WORSE;
        let answered = remaining_resp > 0
            && (remaining_inv <= remaining_resp
                || rng.random_bool(answer_p - if worse { 0.05 } else { 0.0 }));
        if !answered {
            return;
        }
        // when the answer came: at the desk within minutes; online and by post, later
        let delay = match channel {
            "desk" => 20 + (rng.random::<f64>().powi(2) * 900.0) as i64,
            "online" => 600 + rng.random_range(0..2 * 86_400),
            _ => 86_400 + rng.random_range(0..4 * 86_400),
        };
        let mut submitted = issued + chrono::Duration::seconds(delay);
        if submitted >= self.end {
            submitted = issued + chrono::Duration::seconds(60);
        }
        let rid = self.next_response;
        self.next_response += 1;
        self.responses_made += 1;
        let quality =
            p.quality + shift + 0.2 * progress + if unit == "KIMBINH" { 0.1 } else { 0.0 } + noise(rng, 0.45);
        let mut answers = Answers::new(rid, submitted, &self.known);
        answers.level("CASE.OVERALL", level(rng, quality));
        let mut added = false;
        // per-case questions (TT01)
        if rng.random_bool(0.6) {
            added = true;
            let late = if p.land { 0.18 } else { 0.04 } + if worse { 0.08 } else { 0.0 };
            let early = if p.land { 0.1 } else { 0.25 };
            if rng.random_bool(0.97) {
                answers.level("TT01.I1", pick(rng, &[(1, early), (2, 1.0 - early - late), (3, late)]));
            }
            let (none, once) = if p.land { (0.5, 0.3) } else { (0.72, 0.2) };
            if rng.random_bool(0.95) {
                answers.level("TT01.I3", pick(rng, &[(1, none), (2, once), (3, 1.0 - none - once)]));
            }
            if rng.random_bool(0.95) {
                answers.level("TT01.I4", pick(rng, &[(1, none), (2, once), (3, 1.0 - none - once)]));
            }
            let complaint = if worse {
                0.12
            } else if p.land {
                0.05
            } else {
                0.02
            };
            if rng.random_bool(0.95) {
                answers.level("TT01.I7", pick(rng, &[(1, 1.0 - complaint), (2, complaint)]));
            }
            if rng.random_bool(0.9) {
                answers.level("CASE.EXTRA_COST", pick(rng, &[(1, 0.97), (2, 0.03)]));
            }
        }
        // the SIPAS statements
        if rng.random_bool(0.3) {
            added = true;
            for (e, codes) in self.elements.iter().enumerate() {
                let element_shift = match e {
                    1 => 0.1,
                    2 => shift * 0.5,
                    3 if p.land => -0.3,
                    4 => -0.3,
                    _ => 0.0,
                };
                if e == 4 {
                    let asked = rng.random_bool(0.2);
                    answers.level("E5.GATE", if asked { 1 } else { 2 });
                    if !asked {
                        continue;
                    }
                }
                for code in codes {
                    if rng.random_bool(0.97) {
                        answers.level(code, level(rng, quality + element_shift));
                    }
                }
            }
        }
        if rng.random_bool(0.2) {
            added = true;
            let mut options = [1i16, 2, 3, 4, 5, 6, 7, 9, 10];
            let weights = [1.0, 0.7, 1.2, 1.4, 1.6, 0.8, 0.5, 0.3, 0.9];
            let k = 1 + rng.random_range(0..3usize);
            let mut chosen = Vec::new();
            for _ in 0..k {
                let pool: Vec<(usize, f64)> =
                    (0..options.len()).filter(|i| options[*i] != 0).map(|i| (i, weights[i])).collect();
                let i = pick(rng, &pool);
                chosen.push(options[i]);
                options[i] = 0;
            }
            chosen.sort_unstable();
            answers.multi("EXP", &chosen);
        }
        if rng.random_bool(0.05) {
            added = true;
            let text = if quality < 3.6 {
                NEGATIVE_COMMENTS[rng.random_range(0..NEGATIVE_COMMENTS.len())]
            } else if rng.random_bool(0.7) {
                POSITIVE_COMMENTS[rng.random_range(0..POSITIVE_COMMENTS.len())]
            } else {
                OTHER_COMMENTS[rng.random_range(0..OTHER_COMMENTS.len())]
            };
            answers.text("COMMENT", text);
            if rng.random_bool(0.4) {
                answers.level("REPLY.WANTED", if quality < 3.6 { 1 } else { 2 });
            }
        }
        if rng.random_bool(0.25) {
            added = true;
            answers.level("D.SEX", pick(rng, &[(1, 0.48), (2, 0.52)]));
            answers.level("D.AGE", pick(rng, &[(1, 0.1), (2, 0.25), (3, 0.3), (4, 0.2), (5, 0.15)]));
            answers.level(
                "D.ETHNIC",
                pick(rng, &[(1, 0.35), (2, 0.35), (3, 0.12), (4, 0.06), (5, 0.05), (6, 0.04), (7, 0.03)]),
            );
            answers
                .level("D.EDU", pick(rng, &[(1, 0.12), (2, 0.3), (3, 0.3), (4, 0.15), (5, 0.1), (6, 0.03)]));
            answers.level(
                "D.JOB",
                pick(rng, &[(1, 0.1), (2, 0.1), (3, 0.4), (4, 0.05), (5, 0.15), (6, 0.12), (7, 0.08)]),
            );
            answers.level("D.RESPONDENT", pick(rng, &[(1, 0.95), (2, 0.05)]));
        }
        let last_added =
            if added { submitted + chrono::Duration::seconds(rng.random_range(15..240)) } else { submitted };
        // The burst rule's partial index reads `top_score`; the generated history keeps it true to
        // its meaning (the first answer rates CASE.OVERALL at the top of its scale).
        let top = crate::integrity::checks::top_score(&self.instrument, &answers.set).is_some();
        let r = &mut chunk.responses;
        r.row(11).int8(rid).int8(id).text(&self.instrument_id).text(&self.instrument_version);
        r.text(unit).text(officer).text(p.code).text(channel).timestamptz(submitted).timestamptz(last_added);
        r.boolean(top);
        chunk.response_count += 1;
        chunk.answer_count += answers.count;
        chunk.answers.buf.extend_from_slice(&answers.rows.buf);
        let set = answers.set;
        self.tally.response(&self.instrument, local_day(submitted), unit, officer, p.code, channel, &set);
    }
}

/// A response's answer rows in binary COPY format.
struct Answers<'a> {
    rid: i64,
    at: DateTime<Utc>,
    known: &'a std::collections::HashSet<String>,
    rows: Rows,
    count: u64,
    /// The same answers as the answer path holds them, for the tally.
    set: AnswerSet,
}

impl<'a> Answers<'a> {
    fn new(rid: i64, at: DateTime<Utc>, known: &'a std::collections::HashSet<String>) -> Self {
        Answers { rid, at, known, rows: Rows::default(), count: 0, set: AnswerSet::new() }
    }

    fn level(&mut self, code: &str, level: i16) {
        if self.known.contains(code) {
            self.rows.row(6).int8(self.rid).text(code).int2(level).null().null().timestamptz(self.at);
            self.count += 1;
            self.set.insert(code.to_string(), AnswerValue::Level(level));
        }
    }

    fn multi(&mut self, code: &str, options: &[i16]) {
        if self.known.contains(code) {
            self.rows.row(6).int8(self.rid).text(code).null().int2_array(options).null().timestamptz(self.at);
            self.count += 1;
            self.set.insert(code.to_string(), AnswerValue::Multi(options.to_vec()));
        }
    }

    fn text(&mut self, code: &str, text: &str) {
        if self.known.contains(code) {
            self.rows.row(6).int8(self.rid).text(code).null().null().text(text).timestamptz(self.at);
            self.count += 1;
            self.set.insert(code.to_string(), AnswerValue::Text(text.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::Instruments;

    #[test]
    fn the_generator_makes_exactly_the_responses_asked_for_and_more_invitations() {
        let instruments = Instruments::load_published().unwrap();
        let plan = Plan {
            responses: 3000,
            seed: 7,
            first_day: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            days: 730,
            simulated_from: None,
        };
        let mut g = Generator::new(instruments.current(), plan, 1, 1);
        let (mut inv, mut resp) = (0, 0);
        while let Some(c) = g.next_chunk(500) {
            inv += c.invitation_count;
            resp += c.response_count;
        }
        assert_eq!(resp, 3000);
        let rate = resp as f64 / inv as f64;
        assert!((0.6..0.8).contains(&rate), "response rate {rate}");
    }

    #[test]
    fn the_desk_is_closed_on_sundays_and_during_tet() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(day_weight(d(2026, 2, 15), 0.5), 0.0, "Tết 2026");
        assert_eq!(day_weight(d(2026, 3, 1), 0.5), 0.0, "a Sunday");
        assert!(
            day_weight(d(2026, 3, 2), 0.5) > day_weight(d(2026, 3, 7), 0.5),
            "Monday busier than Saturday"
        );
    }
}
