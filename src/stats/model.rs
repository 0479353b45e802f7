//! The formulas of DESIGN.md §4, as pure functions over counts: no database, no HTTP.
//!
//! Two halves meet here. [`contributions`] says what one response adds to the counts (what the
//! roll-ups store); [`compute`] turns a group's summed counts into its statistics. Nothing is
//! rounded here: rounding happens once, at the edge, when a figure is written out ([`round_to`]).

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::instrument::model::{Band, Scale};
use crate::instrument::{Instrument, ItemKind, OVERALL};
use crate::kernel::answers::{AnswerSet, AnswerValue};

/// The indicator whose cases a follow-up can take out when their complaint was unfounded.
pub const TT01_I7: &str = "TT01.I7";
/// Indicator 1 (time against the time the law allows), which case facts can give.
pub const TT01_I1: &str = "TT01.I1";
/// Indicator 2 (time at each unit that took part), which only case facts give.
pub const TT01_I2: &str = "TT01.I2";
/// Indicator 8 (feedback and petitions taken up and answered), from the service's follow-ups.
pub const TT01_I8: &str = "TT01.I8";
/// The nine indicators of TT 01/2018 Điều 13, which a unit's (agency's) total and band cover.
pub const TT01_AGENCY: [&str; 9] =
    ["TT01.I1", "TT01.I2", "TT01.I3", "TT01.I4", "TT01.I5", "TT01.I6", "TT01.I7", "TT01.I8", "TT01.I9"];
/// The five an officer is judged on (Điều 15: indicators 1, 2, 3, 4 and 7).
pub const TT01_OFFICER: [&str; 5] = ["TT01.I1", "TT01.I2", "TT01.I3", "TT01.I4", "TT01.I7"];

/// The indicators' names as TT 01/2018 Điều 13 lists them (our transcription, `verify`: the
/// signed text was not at hand; docs/TT01.md).
pub const TT01_NAMES: [(&str, &str); 9] = [
    ("TT01.I1", "Tổng thời gian giải quyết thủ tục hành chính so với thời gian quy định"),
    ("TT01.I2", "Thời gian thực hiện tại từng cơ quan, đơn vị tham gia giải quyết"),
    ("TT01.I3", "Số lần phải liên hệ với nơi tiếp nhận hồ sơ để hoàn thiện hồ sơ"),
    ("TT01.I4", "Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ"),
    ("TT01.I5", "Thực hiện tổ chức tiếp nhận hồ sơ, giải quyết, trả kết quả tại Bộ phận Một cửa"),
    ("TT01.I6", "Mức độ công khai các thủ tục hành chính"),
    ("TT01.I7", "Thái độ của cán bộ, công chức, viên chức khi hướng dẫn, tiếp nhận, giải quyết hồ sơ"),
    ("TT01.I8", "Tiếp thu, giải trình đối với các ý kiến phản ánh, kiến nghị"),
    ("TT01.I9", "Thực hiện dịch vụ công trực tuyến"),
];

/// The Vietnamese name of an indicator.
pub fn tt01_name(code: &str) -> &'static str {
    TT01_NAMES.iter().find(|(c, _)| *c == code).map_or("", |(_, n)| n)
}

/// What every report that shows a TT01 band says of the rule it comes from.
pub const TT01_BAND_NOTE_VI: &str = "Xếp loại theo Điều 13–15 Thông tư 01/2018/TT-VPCP (chín chỉ số, mỗi chỉ số 0–2 điểm; \
cơ quan: Xuất sắc từ 15 điểm, Tốt từ 12, Khá từ 9, Trung bình từ 6, dưới 6 là Yếu; cán bộ: năm chỉ số 1, 2, 3, 4, 7, \
hoàn thành 100% nhiệm vụ khi đạt 5 điểm trở lên). Chưa tìm thấy văn bản thay thế Thông tư 01/2018/TT-VPCP theo \
Nghị định 118/2025/NĐ-CP; xếp loại vẫn theo Thông tư 01/2018/TT-VPCP.";

/// Pseudo item of the measures case facts give an indicator: `@facts.TT01.I1`, … Level
/// [`FROM_FACTS`] counts the cases scored from facts and their points; level [`REPLACED`] the
/// resident's answers those facts stand in for (their cases and points), which the official
/// score takes out and the resident's view keeps.
pub const FACTS_PREFIX: &str = "@facts.";
pub const FROM_FACTS: i16 = 0;
pub const REPLACED: i16 = 1;

/// What the one-stop system's case facts give one case (kept on its invitation): the TT01.I1
/// option its return against the due day stands for (1 early, 2 on time, 3 late) and indicator
/// 2's points from its steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseScores {
    pub timing: Option<i16>,
    pub i2_points: Option<i16>,
}

/// Indicator 1's points for a timing, as TT 01/2018 Điều 13 khoản 1 gives them (early 2, on time
/// 1, late 0).
pub fn timing_points(timing: i16) -> i64 {
    match timing {
        1 => 2,
        2 => 1,
        _ => 0,
    }
}

/// Pseudo item codes of the roll-ups (real item codes never start with `@`).
pub const RESPONSE: &str = "@response";
pub const INVITATION: &str = "@invitation";
pub const ELEMENT_PREFIX: &str = "@element.";
/// The level under which a multi item counts the responses that answered it.
pub const ANSWERED_LEVEL: i16 = -1;

/// What one measure of one response adds: answers (`n`), TT01 cases scored and points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount {
    pub n: i64,
    pub scored: i64,
    pub points: i64,
}

impl Amount {
    fn is_zero(&self) -> bool {
        self.n == 0 && self.scored == 0 && self.points == 0
    }
}

/// Measures keyed by (item code or pseudo code, level).
pub type Contributions = BTreeMap<(String, i16), Amount>;

/// Everything one response with these answers adds to the counts of its cell.
///
/// `i7_unfounded`: a follow-up found this case's TT01.I7 complaint unfounded, so the case is left
/// out of that indicator (its answer is still counted as an answer). `case`: what the case facts
/// give (indicator 1 and the timing of 7 from them instead of the resident, indicator 2).
pub fn contributions(
    instrument: &Instrument,
    answers: &AnswerSet,
    i7_unfounded: bool,
    case: CaseScores,
) -> Contributions {
    let mut out = Contributions::new();
    if answers.is_empty() {
        return out;
    }
    let mut add = |code: &str, level: i16, a: Amount| {
        let e = out.entry((code.to_string(), level)).or_default();
        e.n += a.n;
        e.scored += a.scored;
        e.points += a.points;
    };
    add(RESPONSE, 0, Amount { n: 1, ..Amount::default() });
    let one = Amount { n: 1, ..Amount::default() };
    for (code, value) in answers {
        let Some(item) = instrument.item(code) else { continue };
        match (item.kind, value) {
            (ItemKind::Scale | ItemKind::Choice, AnswerValue::Level(level)) => {
                let mut amount = one;
                if instrument.computation.tt01_indicators.iter().any(|c| c == code)
                    && !(i7_unfounded && code == TT01_I7)
                {
                    amount.scored = 1;
                    amount.points = i64::from(tt01_points(instrument, code, *level, answers));
                }
                add(code, *level, amount);
            }
            (ItemKind::Multi, AnswerValue::Multi(codes)) => {
                add(code, ANSWERED_LEVEL, one);
                for c in codes {
                    add(code, *c, one);
                }
            }
            _ => {}
        }
    }
    for element in &instrument.computation.elements {
        if statements(instrument, element).any(|s| answers.contains_key(s)) {
            add(&format!("{ELEMENT_PREFIX}{element}"), 0, one);
        }
    }
    let is_indicator = |code: &str| instrument.computation.tt01_indicators.iter().any(|c| c == code);
    let case_amount = |points: i64| Amount { n: 1, scored: 1, points };
    if let Some(timing) = case.timing {
        add(&format!("{FACTS_PREFIX}{TT01_I1}"), FROM_FACTS, case_amount(timing_points(timing)));
        if is_indicator(TT01_I1)
            && let Some(AnswerValue::Level(l)) = answers.get(TT01_I1)
        {
            let resident = i64::from(tt01_points(instrument, TT01_I1, *l, answers));
            add(&format!("{FACTS_PREFIX}{TT01_I1}"), REPLACED, case_amount(resident));
        }
        if is_indicator(TT01_I7)
            && !i7_unfounded
            && let Some(AnswerValue::Level(l)) = answers.get(TT01_I7)
        {
            // the timing part of indicator 7 follows the facts: as if the resident had answered
            // TT01.I1 with the facts' option
            let mut with_facts = answers.clone();
            with_facts.insert(TT01_I1.to_string(), AnswerValue::Level(timing));
            let facts = i64::from(tt01_points(instrument, TT01_I7, *l, &with_facts));
            let resident = i64::from(tt01_points(instrument, TT01_I7, *l, answers));
            add(&format!("{FACTS_PREFIX}{TT01_I7}"), FROM_FACTS, case_amount(facts));
            add(&format!("{FACTS_PREFIX}{TT01_I7}"), REPLACED, case_amount(resident));
        }
    }
    if let Some(points) = case.i2_points {
        add(&format!("{FACTS_PREFIX}{TT01_I2}"), FROM_FACTS, case_amount(i64::from(points)));
    }
    out
}

/// The points an answer to a TT01 indicator earns: the option's `points`, raised by its
/// `points_when` when the other item of the same response has the named code.
pub fn tt01_points(instrument: &Instrument, code: &str, level: i16, answers: &AnswerSet) -> u8 {
    let Some(option) = instrument.item(code).and_then(|i| i.options.iter().find(|o| o.code == level)) else {
        return 0;
    };
    match &option.points_when {
        Some(pw) if answers.get(&pw.item) == Some(&AnswerValue::Level(pw.code)) => pw.points,
        _ => option.points.unwrap_or(0),
    }
}

/// `after − before`, without the measures that did not change.
pub fn difference(before: &Contributions, after: &Contributions) -> Contributions {
    let mut out = after.clone();
    for (key, b) in before {
        let e = out.entry(key.clone()).or_default();
        e.n -= b.n;
        e.scored -= b.scored;
        e.points -= b.points;
    }
    out.retain(|_, a| !a.is_zero());
    out
}

/// The scale statements of an element (its criteria), in questionnaire order.
pub fn statements<'a>(instrument: &'a Instrument, element: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    instrument
        .sections
        .iter()
        .filter(move |s| s.code == element)
        .flat_map(|s| s.items.iter())
        .filter(|i| i.kind == ItemKind::Scale)
        .map(|i| i.code.as_str())
}

/// The counts of one group, summed over its cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// Responses counted in the statistics.
    pub responses: u64,
    /// Responses held out (flagged); counted in `responses` too when flagged ones are included.
    pub flagged: u64,
    pub invitations: u64,
    /// Item → level → answers (for a multi item, level = option, n = times chosen).
    pub levels: BTreeMap<String, BTreeMap<i16, u64>>,
    /// Multi item → responses that answered it.
    pub answered: BTreeMap<String, u64>,
    /// Element → responses that answered at least one of its statements.
    pub elements: BTreeMap<String, u64>,
    /// TT01 indicator → (cases scored, points), as the residents answered.
    pub tt01: BTreeMap<String, (u64, u64)>,
    /// TT01 indicator → [(cases, points) from case facts, (cases, points) of the resident's
    /// answers the facts replace].
    pub facts: BTreeMap<String, [(u64, u64); 2]>,
}

impl GroupCounts {
    /// Adds one roll-up measure to the group.
    pub fn add(&mut self, item_code: &str, level: i16, held: bool, include_held: bool, a: Amount) {
        let n = u64::try_from(a.n).unwrap_or(0);
        if item_code == INVITATION {
            self.invitations += n;
            return;
        }
        if item_code == RESPONSE && held {
            self.flagged += n;
        }
        if held && !include_held {
            return;
        }
        if let Some(code) = item_code.strip_prefix(FACTS_PREFIX) {
            if let Some(slot) = [FROM_FACTS, REPLACED].iter().position(|l| *l == level) {
                let e = &mut self.facts.entry(code.to_string()).or_default()[slot];
                e.0 += u64::try_from(a.scored).unwrap_or(0);
                e.1 += u64::try_from(a.points).unwrap_or(0);
            }
            return;
        }
        if item_code == RESPONSE {
            self.responses += n;
        } else if let Some(element) = item_code.strip_prefix(ELEMENT_PREFIX) {
            *self.elements.entry(element.to_string()).or_default() += n;
        } else if level == ANSWERED_LEVEL {
            *self.answered.entry(item_code.to_string()).or_default() += n;
        } else {
            if n > 0 {
                *self.levels.entry(item_code.to_string()).or_default().entry(level).or_default() += n;
            }
            if a.scored > 0 || a.points > 0 {
                let t = self.tt01.entry(item_code.to_string()).or_default();
                t.0 += u64::try_from(a.scored).unwrap_or(0);
                t.1 += u64::try_from(a.points).unwrap_or(0);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Our reading of the Ministry's formula (DESIGN.md §4: the official one was not found). These
// three functions are the only place that says how statements make elements and elements make the
// SIPAS index; replace them when the official formula is known. The raw counts per level are
// stored, so any other formula can be recomputed from the same data.

/// Satisfaction rate of an item: 100 × answers at the positive levels ÷ answers; `None` without
/// answers.
pub fn satisfaction_rate(counts: &BTreeMap<i16, u64>, positive: &[i16]) -> Option<f64> {
    let n: u64 = counts.values().sum();
    let k: u64 = counts.iter().filter(|(l, _)| positive.contains(l)).map(|(_, c)| c).sum();
    percent(k, n)
}

/// How a statement's (and so an element's and the index's) score is computed from its counts per
/// level. Both read the same stored counts; every report, export and API answer states which it
/// used (docs/FORMULAS.md), since the Ministry's own formula was not found (DESIGN.md §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Formula {
    /// The share of answers at the scale's positive levels (4 and 5 of 1–5), in percent: the
    /// service's reading of SIPAS and the default.
    #[default]
    Share45,
    /// The mean level on the scale, shown as 0–100: (mean − lowest) ÷ (highest − lowest) × 100,
    /// so 5, 5, 4, 3 on 1–5 scores 81.25.
    Mean100,
}

impl Formula {
    pub const ALL: [Formula; 2] = [Formula::Share45, Formula::Mean100];

    pub fn parse(s: &str) -> Option<Formula> {
        Formula::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Formula::Share45 => "share45",
            Formula::Mean100 => "mean100",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Formula::Share45 => "Tỉ lệ hài lòng (mức 4 và 5)",
            Formula::Mean100 => "Điểm trung bình quy về thang 0–100",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Formula::Share45 => "share of levels 4–5",
            Formula::Mean100 => "mean score on 0–100",
        }
    }

    /// The unit its scores are read in: "%" or "điểm" (points of 0–100).
    pub fn unit_vi(self) -> &'static str {
        match self {
            Formula::Share45 => "%",
            Formula::Mean100 => "điểm",
        }
    }

    /// The unit of a change of its scores: "điểm %" (points of percent) or "điểm".
    pub fn change_unit_vi(self) -> &'static str {
        match self {
            Formula::Share45 => "điểm %",
            Formula::Mean100 => "điểm",
        }
    }

    /// One sentence, Vietnamese then English, of how a statement's score is computed.
    pub fn rule(self) -> &'static str {
        match self {
            Formula::Share45 => {
                "Điểm của từng tiêu chí = số trả lời ở mức 4 và 5 ÷ tổng số trả lời × 100 (%). \
                 A statement's score is the share of answers at levels 4 and 5, in percent."
            }
            Formula::Mean100 => {
                "Điểm của từng tiêu chí = (mức trung bình − 1) ÷ 4 × 100 trên thang 1–5 (điểm 0–100; \
                 5, 5, 4, 3 cho 81,25 điểm). A statement's score is its mean level on the 1–5 scale \
                 shown as 0–100 (5, 5, 4, 3 scores 81.25)."
            }
        }
    }

    /// A statement's score from its counts per level, with its 95% interval: `None` without
    /// answers. For the mean, each answer counts as a score between 0 and 1 and the interval is
    /// Wilson's over their sum, which is never narrower than the exact one for scores bounded
    /// by 0 and 1.
    pub fn score(self, counts: &BTreeMap<i16, u64>, scale: &Scale) -> (Option<f64>, Option<(f64, f64)>) {
        let n: u64 = counts.values().sum();
        match self {
            Formula::Share45 => {
                let k: u64 = counts.iter().filter(|(l, _)| scale.positive.contains(l)).map(|(_, c)| c).sum();
                (percent(k, n), wilson95(k, n))
            }
            Formula::Mean100 => {
                let lo = scale.levels.iter().map(|c| c.code).min();
                let hi = scale.levels.iter().map(|c| c.code).max();
                let (Some(lo), Some(hi)) = (lo, hi) else { return (None, None) };
                if n == 0 || hi <= lo {
                    return (None, None);
                }
                let width = f64::from(hi - lo);
                let k: f64 =
                    counts.iter().map(|(l, c)| f64::from(l - lo).clamp(0.0, width) / width * *c as f64).sum();
                let ci = super::inference::wilson_f(k, n, super::inference::C95)
                    .map(|(a, b)| (100.0 * a, 100.0 * b));
                (Some(100.0 * k / n as f64), ci)
            }
        }
    }
}

/// Element index: the plain mean of its statements' rates that have data (each statement weighs
/// the same whatever its number of answers); `None` when none has.
pub fn element_index(statement_rates: &[Option<f64>]) -> Option<f64> {
    mean(statement_rates)
}

/// SIPAS index (administrative-service part): the plain mean of the element indices that have
/// data; `None` when none has.
pub fn sipas_index(element_indices: &[Option<f64>]) -> Option<f64> {
    mean(element_indices)
}

// ------------------------------------------------------------------------------------------------

fn mean(values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() { None } else { Some(present.iter().sum::<f64>() / present.len() as f64) }
}

/// 100 × k ÷ n, `None` when n is 0.
pub fn percent(k: u64, n: u64) -> Option<f64> {
    if n == 0 { None } else { Some(100.0 * k as f64 / n as f64) }
}

/// The 95% Wilson score interval of k successes in n trials, in percent; `None` when n is 0.
pub fn wilson95(k: u64, n: u64) -> Option<(f64, f64)> {
    super::inference::wilson(k, n, super::inference::C95).map(|(lo, hi)| (100.0 * lo, 100.0 * hi))
}

/// Rounds half away from zero to `decimals` places (the edge, where figures are written out).
pub fn round_to(x: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    // The tiny nudge keeps a value like 84.445 (stored as 84.44499…) rounding the way it reads.
    let y = x * f;
    (y + y.signum() * 1e-9).round() / f
}

/// TT01 indicator score: total points ÷ cases that answered it, rounded to the instrument's
/// decimals (the law adds the rounded scores); `None` without cases.
pub fn tt01_score(scored: u64, points: u64, decimals: u32) -> Option<f64> {
    if scored == 0 { None } else { Some(round_to(points as f64 / scored as f64, decimals)) }
}

/// The sum of the rounded indicator scores that have data, and which indicators those are.
pub fn tt01_total(scores: &[(String, Option<f64>)], decimals: u32) -> (Option<f64>, Vec<String>) {
    let scored: Vec<String> = scores.iter().filter(|(_, s)| s.is_some()).map(|(c, _)| c.clone()).collect();
    if scored.is_empty() {
        return (None, scored);
    }
    let total: f64 = scores.iter().filter_map(|(_, s)| *s).sum();
    (Some(round_to(total, decimals)), scored)
}

/// Which band list judges a group's TT01 total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    Officer,
    Agency,
}

/// The first band (from the highest) whose `min` the total reaches.
pub fn band(total: f64, bands: &[Band]) -> Option<&Band> {
    bands.iter().find(|b| total >= b.min - 1e-9)
}

/// A rate with what it rests on. `rate` and `ci95` are `None` when `n` is 0, or when the item has
/// no positive levels (a choice item: only its counts mean something).
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub rate: Option<f64>,
    pub n: u64,
    pub ci95: Option<(f64, f64)>,
    pub counts: BTreeMap<i16, u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ElementStat {
    pub index: Option<f64>,
    pub n: u64,
}

/// Where an indicator's score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The one-stop system's case facts.
    Facts,
    /// The residents' answers.
    Resident,
    /// Some cases from facts, the others from the residents.
    Mixed,
    /// The service's own follow-ups (indicator 8).
    Followups,
    /// Recorded per unit and period by a leader or sent by the one-stop system (5, 6, 9).
    Unit,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Facts => "facts",
            Source::Resident => "resident",
            Source::Mixed => "mixed",
            Source::Followups => "followups",
            Source::Unit => "unit",
        }
    }
}

/// One indicator's score in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorScore {
    pub code: String,
    /// Rounded to the instrument's decimals; `None` without data.
    pub score: Option<f64>,
    pub source: Option<Source>,
    /// Cases scored from facts and from the residents' answers (per-case indicators).
    pub from_facts: u64,
    pub from_resident: u64,
    /// The residents' own answers to the indicator, all of them, when facts replaced some.
    pub resident_view: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tt01Stat {
    /// The indicators of the group's set (nine for a unit, five for an officer), in order.
    pub indicators: Vec<IndicatorScore>,
    /// The sum of the rounded scores that have data.
    pub total: Option<f64>,
    /// The codes of the indicators that have data.
    pub scored: Vec<String>,
    /// How many indicators the set has (9 or 5).
    pub of: usize,
    /// (vi, en) of the band the total falls in — only when every indicator of the set is scored.
    pub band: Option<(String, String)>,
    /// Which band list judged it, when the group is judged at all.
    pub kind: Option<BandKind>,
}

impl Tt01Stat {
    /// Each indicator with its score (the `{"TT01.I1": score, …}` of the API).
    pub fn scores(&self) -> Vec<(String, Option<f64>)> {
        self.indicators.iter().map(|i| (i.code.clone(), i.score)).collect()
    }

    /// Sets a unit-level indicator's score (5, 6, 8, 9) and works the total and band out again.
    pub fn set_unit_indicator(
        &mut self,
        instrument: &Instrument,
        code: &str,
        score: Option<f64>,
        source: Source,
    ) {
        if let Some(i) = self.indicators.iter_mut().find(|i| i.code == code) {
            i.score = score.map(|s| round_to(s, instrument.computation.tt01_decimals));
            i.source = score.map(|_| source);
        }
        self.finish(instrument);
    }

    /// Total, scored list and band from the indicators (DESIGN.md §4: a band only when every
    /// indicator of the set is scored).
    fn finish(&mut self, instrument: &Instrument) {
        let c = &instrument.computation;
        let (total, scored) = tt01_total(&self.scores(), c.tt01_decimals);
        self.band = match (total, self.kind) {
            (Some(t), Some(kind)) if scored.len() == self.of => {
                let list = match kind {
                    BandKind::Officer => &c.tt01_officer_bands,
                    BandKind::Agency => &c.tt01_agency_bands,
                };
                band(t, list).map(|b| (b.vi.clone(), b.en.clone()))
            }
            _ => None,
        };
        self.total = total;
        self.scored = scored;
    }

    /// "6,5 điểm trên 4/9 chỉ tiêu (tối đa 8)": what the page, the export and the report say of
    /// a total without a band. `None` when nothing is scored.
    pub fn summary_vi(&self) -> Option<String> {
        let total = self.total?;
        let n = self.scored.len();
        let text = format!("{:.1}", total).replace('.', ",");
        Some(format!("{text} điểm trên {n}/{} chỉ tiêu (tối đa {})", self.of, 2 * n))
    }

    /// The same in English: "6.5 points over 4 of 9 indicators (out of 8)".
    pub fn summary_en(&self) -> Option<String> {
        let total = self.total?;
        let n = self.scored.len();
        Some(format!("{total:.1} points over {n} of {} indicators (out of {})", self.of, 2 * n))
    }
}

/// Indicator 8 (tiếp thu, giải trình phản ánh kiến nghị) from a unit's follow-ups of a period, as
/// TT 01/2018 gives its points: 2 when there is none, or all were answered on time and none is
/// prolonged; 1 when at least 90% were answered on time and none is prolonged; 0 otherwise.
pub fn i8_points(on_time: u64, late: u64, prolonged: u64) -> f64 {
    let total = on_time + late + prolonged;
    if prolonged > 0 {
        0.0
    } else if on_time == total {
        2.0
    } else if on_time * 10 >= total * 9 {
        1.0
    } else {
        0.0
    }
}

/// The per-case indicators of a group: residents' answers, with case facts in their place where
/// the one-stop system gave them. Unit-level indicators (5, 6, 8, 9) start without data.
pub fn tt01_stat(instrument: &Instrument, counts: &GroupCounts, kind: Option<BandKind>) -> Tt01Stat {
    let c = &instrument.computation;
    let set: &[&str] = match kind {
        Some(BandKind::Officer) => &TT01_OFFICER,
        _ => &TT01_AGENCY,
    };
    let indicators = set
        .iter()
        .map(|code| {
            let (r_cases, r_points) = counts.tt01.get(*code).copied().unwrap_or((0, 0));
            let [(f_cases, f_points), (x_cases, x_points)] =
                counts.facts.get(*code).copied().unwrap_or_default();
            let from_resident = r_cases.saturating_sub(x_cases);
            let cases = from_resident + f_cases;
            let points = r_points.saturating_sub(x_points) + f_points;
            let source = match (f_cases > 0, from_resident > 0) {
                (true, true) => Some(Source::Mixed),
                (true, false) => Some(Source::Facts),
                (false, true) => Some(Source::Resident),
                (false, false) => None,
            };
            IndicatorScore {
                code: code.to_string(),
                score: tt01_score(cases, points, c.tt01_decimals),
                source,
                from_facts: f_cases,
                from_resident,
                resident_view: if x_cases > 0 {
                    tt01_score(r_cases, r_points, c.tt01_decimals)
                } else {
                    None
                },
            }
        })
        .collect();
    let mut stat = Tt01Stat { indicators, total: None, scored: Vec::new(), of: set.len(), band: None, kind };
    stat.finish(instrument);
    stat
}

/// The rates of a group that has at least `min_n` responses.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub overall: Rate,
    pub sipas_index: Option<f64>,
    pub elements: Vec<(String, ElementStat)>,
    pub criteria: Vec<(String, Rate)>,
    pub items: Vec<(String, Rate)>,
    pub tt01: Tt01Stat,
}

/// One group's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub responses: u64,
    pub flagged: u64,
    pub invitations: u64,
    pub response_rate: Option<f64>,
    /// `None` when the group has fewer than `min_n` responses: its count shows, its rates do not.
    pub figures: Option<Figures>,
}

impl GroupStats {
    pub fn suppressed(&self) -> bool {
        self.figures.is_none()
    }
}

fn rate_of(instrument: &Instrument, code: &str, counts: &GroupCounts, formula: Formula) -> Rate {
    let levels = counts.levels.get(code).cloned().unwrap_or_default();
    let item = instrument.item(code);
    let scale = item.and_then(|i| instrument.scale_of(i));
    let n = match item.map(|i| i.kind) {
        Some(ItemKind::Multi) => counts.answered.get(code).copied().unwrap_or(0),
        _ => levels.values().sum(),
    };
    let (rate, ci95) = match (scale, formula) {
        (Some(scale), Formula::Share45) => {
            let k: u64 = levels.iter().filter(|(l, _)| scale.positive.contains(l)).map(|(_, c)| c).sum();
            (satisfaction_rate(&levels, &scale.positive), wilson95(k, n))
        }
        (Some(scale), Formula::Mean100) => formula.score(&levels, scale),
        (None, _) => (None, None),
    };
    Rate { rate, n, ci95, counts: levels }
}

/// Computes a group's statistics from its counts (DESIGN.md §4).
pub fn compute(
    instrument: &Instrument,
    counts: &GroupCounts,
    min_n: u64,
    bands: Option<BandKind>,
    formula: Formula,
) -> GroupStats {
    let c = &instrument.computation;
    let response_rate = percent(counts.responses, counts.invitations);
    let base = GroupStats {
        responses: counts.responses,
        flagged: counts.flagged,
        invitations: counts.invitations,
        response_rate,
        figures: None,
    };
    if counts.responses < min_n.max(1) {
        return base;
    }
    let mut criteria = Vec::new();
    let mut elements = Vec::new();
    for element in &c.elements {
        let rates: Vec<(String, Rate)> = statements(instrument, element)
            .map(|s| (s.to_string(), rate_of(instrument, s, counts, formula)))
            .collect();
        let index = element_index(&rates.iter().map(|(_, r)| r.rate).collect::<Vec<_>>());
        let n = counts.elements.get(element).copied().unwrap_or(0);
        elements.push((element.clone(), ElementStat { index, n }));
        criteria.extend(rates);
    }
    let sipas = sipas_index(&elements.iter().map(|(_, e)| e.index).collect::<Vec<_>>());
    let items = instrument
        .items()
        .filter(|i| matches!(i.kind, ItemKind::Scale | ItemKind::Choice | ItemKind::Multi))
        .filter(|i| i.code != OVERALL && !criteria.iter().any(|(c, _)| c == &i.code))
        .map(|i| (i.code.clone(), rate_of(instrument, &i.code, counts, formula)))
        .collect();
    let tt01 = tt01_stat(instrument, counts, bands);
    GroupStats {
        figures: Some(Figures {
            overall: rate_of(instrument, OVERALL, counts, formula),
            sipas_index: sipas,
            elements,
            criteria,
            items,
            tt01,
        }),
        ..base
    }
}

/// How a statistics query splits its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    None,
    Procedure,
    Field,
    Officer,
    Unit,
    Channel,
    Month,
    Quarter,
    Half,
    Year,
}

impl GroupBy {
    pub const ALL: [GroupBy; 10] = [
        GroupBy::None,
        GroupBy::Procedure,
        GroupBy::Field,
        GroupBy::Officer,
        GroupBy::Unit,
        GroupBy::Channel,
        GroupBy::Month,
        GroupBy::Quarter,
        GroupBy::Half,
        GroupBy::Year,
    ];

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::None => "none",
            GroupBy::Procedure => "procedure",
            GroupBy::Field => "field",
            GroupBy::Officer => "officer",
            GroupBy::Unit => "unit",
            GroupBy::Channel => "channel",
            GroupBy::Month => "month",
            GroupBy::Quarter => "quarter",
            GroupBy::Half => "half",
            GroupBy::Year => "year",
        }
    }

    pub fn is_period(self) -> bool {
        matches!(self, GroupBy::Month | GroupBy::Quarter | GroupBy::Half | GroupBy::Year)
    }

    /// The key of the period a local date falls in (`2026-01`, `2026-Q1`, `2026-H1`, `2026`);
    /// `None` for a grouping that is not by period.
    pub fn period_key(self, date: NaiveDate) -> Option<String> {
        let (y, m) = (date.year(), date.month());
        match self {
            GroupBy::Month => Some(format!("{y:04}-{m:02}")),
            GroupBy::Quarter => Some(format!("{y:04}-Q{}", (m - 1) / 3 + 1)),
            GroupBy::Half => Some(format!("{y:04}-H{}", if m <= 6 { 1 } else { 2 })),
            GroupBy::Year => Some(format!("{y:04}")),
            _ => None,
        }
    }

    /// Every period key from `from` to `to` (both included), in order.
    pub fn periods(self, from: NaiveDate, to: NaiveDate) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1);
        while let Some(m) = month.filter(|m| *m <= to) {
            if let Some(k) = self.period_key(m)
                && keys.last() != Some(&k)
            {
                keys.push(k);
            }
            month = m.checked_add_months(Months::new(1));
        }
        keys
    }
}

/// The Vietnamese label of a period key ("Tháng 1/2026", "Quý 1/2026", "6 tháng đầu năm 2026",
/// "Năm 2026").
pub fn period_label(key: &str) -> Option<String> {
    let (year, rest) = match key.split_once('-') {
        Some((y, r)) => (y, Some(r)),
        None => (key, None),
    };
    let year: i32 = year.parse().ok()?;
    match rest {
        None => Some(format!("Năm {year}")),
        Some("H1") => Some(format!("6 tháng đầu năm {year}")),
        Some("H2") => Some(format!("6 tháng cuối năm {year}")),
        Some(q) if q.starts_with('Q') => q[1..].parse::<u8>().ok().map(|q| format!("Quý {q}/{year}")),
        Some(m) => m.parse::<u8>().ok().map(|m| format!("Tháng {m}/{year}")),
    }
}

/// The first and last local days of a reporting period key: a quarter (`2026-Q1`), a half-year
/// (`2026-H1`) or a year (`2026`), years 2000 to 2100; `None` for anything else (a month too: the
/// unit's indicators 5, 6 and 9 are recorded per quarter, half-year or year).
pub fn report_period_range(key: &str) -> Option<(NaiveDate, NaiveDate)> {
    period_days(key).filter(|(from, _)| (2000..=2100).contains(&from.year()))
}

/// As [`report_period_range`], any four-digit year: the one parser of period keys
/// (`reporting::content::Period` uses it too).
pub fn period_days(key: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (year, part) = match key.split_once('-') {
        Some((y, p)) => (y, Some(p)),
        None => (key, None),
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = year.parse().ok()?;
    let (m1, m2) = match part {
        None => (1, 12),
        Some("Q1") => (1, 3),
        Some("Q2") => (4, 6),
        Some("Q3") => (7, 9),
        Some("Q4") => (10, 12),
        Some("H1") => (1, 6),
        Some("H2") => (7, 12),
        Some(_) => return None,
    };
    let from = NaiveDate::from_ymd_opt(y, m1, 1)?;
    let to = NaiveDate::from_ymd_opt(y, m2, 1)?.checked_add_months(Months::new(1))?.pred_opt()?;
    Some((from, to))
}

/// The reporting period (quarter, half-year or year) whose days are exactly `from` to `to`, if
/// any: the period a unit's recorded indicators 5, 6 and 9 are read for.
pub fn report_period_of(from: NaiveDate, to: NaiveDate) -> Option<String> {
    let y = from.year();
    let mut keys = vec![format!("{y:04}"), format!("{y:04}-H1"), format!("{y:04}-H2")];
    keys.extend((1..=4).map(|q| format!("{y:04}-Q{q}")));
    keys.into_iter().find(|k| report_period_range(k) == Some((from, to)))
}

/// Which band list a group is judged by: officer bands for an officer (a group by officer, or any
/// group filtered to one officer), agency bands for a unit, the whole commune or a period of it;
/// none for a procedure, field or channel (the law bands people and agencies, not procedures).
pub fn band_kind(group_by: GroupBy, officer_filter: bool) -> Option<BandKind> {
    match group_by {
        GroupBy::Officer => Some(BandKind::Officer),
        _ if officer_filter => match group_by {
            GroupBy::Procedure | GroupBy::Field | GroupBy::Channel => None,
            _ => Some(BandKind::Officer),
        },
        GroupBy::None | GroupBy::Unit | GroupBy::Month | GroupBy::Quarter | GroupBy::Half | GroupBy::Year => {
            Some(BandKind::Agency)
        }
        GroupBy::Procedure | GroupBy::Field | GroupBy::Channel => None,
    }
}

/// The channels an invitation can come through, with their labels.
pub const CHANNELS: [(&str, &str); 3] =
    [("desk", "Tại Bộ phận Một cửa"), ("online", "Trực tuyến"), ("postal", "Qua bưu chính")];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::Instruments;

    fn instrument() -> std::sync::Arc<Instrument> {
        Instruments::load_published().unwrap().current().clone()
    }

    fn answers(pairs: &[(&str, i16)]) -> AnswerSet {
        pairs.iter().map(|(c, l)| (c.to_string(), AnswerValue::Level(*l))).collect()
    }

    fn counts_of(responses: &[AnswerSet]) -> GroupCounts {
        let i = instrument();
        let mut g = GroupCounts::default();
        for r in responses {
            for ((code, level), a) in contributions(&i, r, false, CaseScores::default()) {
                g.add(&code, level, false, false, a);
            }
        }
        g
    }

    #[test]
    fn a_satisfaction_rate_counts_levels_four_and_five_over_all_answers() {
        // levels 1,2,3,4,4,5,5,5: positive = 2 fours + 3 fives = 5 of 8 → 100 × 5 / 8 = 62.5
        let counts = BTreeMap::from([(1, 1), (2, 1), (3, 1), (4, 2), (5, 3)]);
        assert_eq!(satisfaction_rate(&counts, &[4, 5]), Some(62.5));
        assert_eq!(satisfaction_rate(&BTreeMap::new(), &[4, 5]), None, "no answers: n/a, not 0");
    }

    #[test]
    fn an_element_index_is_the_plain_mean_of_statements_with_answers() {
        // E1.1 = 100 (1 answer), E1.2 = 50 (100 answers), E1.3 no answers, E1.4 = 0:
        // (100 + 50 + 0) / 3 = 50 — E1.3 counts nowhere, and E1.1's single answer weighs as much as E1.2's 100.
        assert_eq!(element_index(&[Some(100.0), Some(50.0), None, Some(0.0)]), Some(50.0));
        assert_eq!(element_index(&[None, None]), None);
    }

    #[test]
    fn the_sipas_index_is_the_mean_of_elements_with_data() {
        // (80 + 90 + 70) / 3 = 80; E4 and E5 have no data and are left out, not taken as 0.
        assert_eq!(sipas_index(&[Some(80.0), Some(90.0), None, Some(70.0), None]), Some(80.0));
        assert_eq!(sipas_index(&[None; 5]), None);
    }

    #[test]
    fn the_wilson_interval_matches_a_hand_computation() {
        // k = 8, n = 10, z = 1.96: p = 0.8, z² = 3.8415, denom = 1 + 0.38415 = 1.38415,
        // centre = (0.8 + 0.19207) / 1.38415 = 0.71674,
        // half = 1.96 / 1.38415 × √(0.016 + 0.0096037) = 1.41600 × 0.16001 = 0.22658,
        // so [49.02, 94.33] in percent.
        let (lo, hi) = wilson95(8, 10).unwrap();
        assert_eq!((round_to(lo, 2), round_to(hi, 2)), (49.02, 94.33));
        // all positive: upper bound 100, lower = n / (n + z²) = 5 / 8.8415 = 56.55%
        let (lo, hi) = wilson95(5, 5).unwrap();
        assert_eq!((round_to(lo, 2), round_to(hi, 2)), (56.55, 100.0));
        assert_eq!(wilson95(0, 0), None);
    }

    #[test]
    fn rounding_happens_half_away_from_zero() {
        assert_eq!(round_to(84.445, 2), 84.45);
        assert_eq!(round_to(2.25, 1), 2.3);
        assert_eq!(round_to(1.0 / 3.0 * 100.0, 2), 33.33);
    }

    #[test]
    fn i7_no_complaint_earns_two_points_only_when_the_result_came_early() {
        let i = instrument();
        // I1 = 1 (early) → I7 "Không" earns 2; I1 = 2 (on time) → 1; I1 = 3 (late) → 1; no I1 → 1.
        assert_eq!(tt01_points(&i, "TT01.I7", 1, &answers(&[("TT01.I1", 1), ("TT01.I7", 1)])), 2);
        assert_eq!(tt01_points(&i, "TT01.I7", 1, &answers(&[("TT01.I1", 2), ("TT01.I7", 1)])), 1);
        assert_eq!(tt01_points(&i, "TT01.I7", 1, &answers(&[("TT01.I1", 3), ("TT01.I7", 1)])), 1);
        assert_eq!(tt01_points(&i, "TT01.I7", 1, &answers(&[("TT01.I7", 1)])), 1);
        // "Có" earns 0 whatever I1 says
        assert_eq!(tt01_points(&i, "TT01.I7", 2, &answers(&[("TT01.I1", 1), ("TT01.I7", 2)])), 0);
    }

    #[test]
    fn indicator_scores_are_rounded_and_the_total_adds_the_rounded_scores() {
        let i = instrument();
        let r = |pairs: &[(&str, i16)]| {
            let mut a = answers(pairs);
            a.insert(OVERALL.into(), AnswerValue::Level(5));
            a
        };
        let g = counts_of(&[
            r(&[("TT01.I1", 1), ("TT01.I3", 1), ("TT01.I7", 1)]), // I1 2, I3 2, I7 2 (early)
            r(&[("TT01.I1", 2), ("TT01.I3", 2), ("TT01.I7", 1)]), // I1 1, I3 1, I7 1
            r(&[("TT01.I1", 3), ("TT01.I7", 2)]),                 // I1 0, I7 0
            r(&[]),
            r(&[]),
        ]);
        let s = compute(&i, &g, 5, Some(BandKind::Officer), Formula::Share45);
        let tt = s.figures.unwrap().tt01;
        // I1: (2 + 1 + 0) / 3 = 1.0; I2: no facts → n/a; I3: (2 + 1) / 2 = 1.5; I4: no case → n/a;
        // I7: (2 + 1 + 0) / 3 = 1.0 — an officer's five, all from the residents
        assert_eq!(
            tt.scores(),
            vec![
                ("TT01.I1".to_string(), Some(1.0)),
                ("TT01.I2".to_string(), None),
                ("TT01.I3".to_string(), Some(1.5)),
                ("TT01.I4".to_string(), None),
                ("TT01.I7".to_string(), Some(1.0)),
            ]
        );
        assert_eq!(tt.indicators[0].source, Some(Source::Resident));
        // total = 1.0 + 1.5 + 1.0 = 3.5 over three of the five: no band, the "n of 5" wording instead
        assert_eq!(tt.total, Some(3.5));
        assert_eq!(tt.scored, vec!["TT01.I1", "TT01.I3", "TT01.I7"]);
        assert_eq!(tt.band, None);
        assert_eq!(tt.summary_vi().unwrap(), "3,5 điểm trên 3/5 chỉ tiêu (tối đa 6)");
        assert_eq!(tt.summary_en().unwrap(), "3.5 points over 3 of 5 indicators (out of 6)");
    }

    fn counts_with_facts(responses: &[(AnswerSet, CaseScores)]) -> GroupCounts {
        let i = instrument();
        let mut g = GroupCounts::default();
        for (r, case) in responses {
            for ((code, level), a) in contributions(&i, r, false, *case) {
                g.add(&code, level, false, false, a);
            }
        }
        g
    }

    fn facts(timing: Option<i16>, i2_points: Option<i16>) -> CaseScores {
        CaseScores { timing, i2_points }
    }

    #[test]
    fn indicator_one_comes_from_the_facts_and_keeps_the_residents_view_beside() {
        let i = instrument();
        let r = |i1: i16| answers(&[(OVERALL, 4), ("TT01.I1", i1)]);
        // Three cases with facts, each resident saying "early" (2 points): the facts say late (0),
        // on time (1), early (2). A fourth case has no facts and its resident says on time (1).
        let g = counts_with_facts(&[
            (r(1), facts(Some(3), None)),
            (r(1), facts(Some(2), None)),
            (r(1), facts(Some(1), None)),
            (r(2), facts(None, None)),
            (answers(&[(OVERALL, 4)]), facts(Some(1), None)),
        ]);
        let tt = compute(&i, &g, 5, Some(BandKind::Agency), Formula::Share45).figures.unwrap().tt01;
        let i1 = &tt.indicators[0];
        // official: facts 0 + 1 + 2 + 2 (the fifth case has facts and no resident answer) and the
        // resident's 1 where there are no facts: 6 points over 5 cases = 1.2
        assert_eq!(i1.score, Some(1.2));
        assert_eq!((i1.from_facts, i1.from_resident, i1.source), (4, 1, Some(Source::Mixed)));
        // the residents' own view: 2 + 2 + 2 + 1 over 4 answers = 1.75 → 1.8
        assert_eq!(i1.resident_view, Some(1.8));
    }

    #[test]
    fn indicator_two_comes_only_from_the_steps() {
        let i = instrument();
        let a = answers(&[(OVERALL, 5)]);
        // steps: 2, 1, 0 points and a case without steps → (2 + 1 + 0) / 3 = 1.0
        let g = counts_with_facts(&[
            (a.clone(), facts(None, Some(2))),
            (a.clone(), facts(None, Some(1))),
            (a.clone(), facts(None, Some(0))),
            (a.clone(), facts(None, None)),
            (a, facts(None, None)),
        ]);
        let tt = compute(&i, &g, 5, Some(BandKind::Officer), Formula::Share45).figures.unwrap().tt01;
        assert_eq!(tt.indicators[1].code, "TT01.I2");
        assert_eq!(tt.indicators[1].score, Some(1.0));
        assert_eq!(tt.indicators[1].source, Some(Source::Facts));
        assert_eq!(tt.indicators[1].from_facts, 3);
    }

    #[test]
    fn the_timing_part_of_indicator_seven_follows_the_facts() {
        let i = instrument();
        // The resident says "early" and "no harassment": 2 points from the resident alone. The
        // facts say on time, so indicator 7 earns 1. Another case: the resident says on time, the
        // facts say early → 2. A complaint earns 0 whatever the facts.
        let g = counts_with_facts(&[
            (answers(&[(OVERALL, 5), ("TT01.I1", 1), ("TT01.I7", 1)]), facts(Some(2), None)),
            (answers(&[(OVERALL, 5), ("TT01.I1", 2), ("TT01.I7", 1)]), facts(Some(1), None)),
            (answers(&[(OVERALL, 2), ("TT01.I7", 2)]), facts(Some(1), None)),
            (answers(&[(OVERALL, 5)]), facts(None, None)),
            (answers(&[(OVERALL, 5)]), facts(None, None)),
        ]);
        let tt = compute(&i, &g, 5, Some(BandKind::Officer), Formula::Share45).figures.unwrap().tt01;
        let i7 = tt.indicators.iter().find(|x| x.code == "TT01.I7").unwrap();
        // (1 + 2 + 0) / 3 = 1.0 from the facts; the residents' view (2 + 1 + 0) / 3 = 1.0 as well
        assert_eq!(i7.score, Some(1.0));
        assert_eq!(i7.source, Some(Source::Facts));
        assert_eq!(i7.from_facts, 3);
        // with the facts saying late for the first case, its "Không" still earns 1, never 2
        let g = counts_with_facts(&[(
            answers(&[(OVERALL, 5), ("TT01.I1", 1), ("TT01.I7", 1)]),
            facts(Some(3), None),
        )]);
        let tt = compute(&i, &g, 1, Some(BandKind::Officer), Formula::Share45).figures.unwrap().tt01;
        let i7 = tt.indicators.iter().find(|x| x.code == "TT01.I7").unwrap();
        assert_eq!((i7.score, i7.resident_view), (Some(1.0), Some(2.0)));
    }

    #[test]
    fn indicator_eight_follows_the_follow_ups_on_time_late_and_prolonged() {
        // none at all, or all on time: 2
        assert_eq!(i8_points(0, 0, 0), 2.0);
        assert_eq!(i8_points(7, 0, 0), 2.0);
        // 9 of 10 on time (90%), none prolonged: 1; 8 of 10: 0
        assert_eq!(i8_points(9, 1, 0), 1.0);
        assert_eq!(i8_points(8, 2, 0), 0.0);
        // one prolonged: 0, however many were on time
        assert_eq!(i8_points(99, 0, 1), 0.0);
    }

    #[test]
    fn a_band_needs_every_indicator_of_the_set() {
        let i = instrument();
        let full = answers(&[(OVERALL, 5), ("TT01.I1", 1), ("TT01.I3", 1), ("TT01.I4", 1), ("TT01.I7", 1)]);
        let g = counts_with_facts(&[(full, facts(Some(1), Some(2)))]);
        // an officer: 2 + 2 + 2 + 2 + 2 = 10 over all five → the top officer band
        let tt = compute(&i, &g, 1, Some(BandKind::Officer), Formula::Share45).figures.unwrap().tt01;
        assert_eq!((tt.total, tt.of, tt.scored.len()), (Some(10.0), 5, 5));
        assert_eq!(tt.band.as_ref().unwrap().1, "100% of duty");
        // a unit: the same five of nine → no band, "10,0 điểm trên 5/9 chỉ tiêu (tối đa 10)"
        let mut tt = compute(&i, &g, 1, Some(BandKind::Agency), Formula::Share45).figures.unwrap().tt01;
        assert_eq!(tt.band, None);
        assert_eq!(tt.summary_vi().unwrap(), "10,0 điểm trên 5/9 chỉ tiêu (tối đa 10)");
        // with 5, 6, 8 and 9 scored too: 10 + 2 + 1.5 + 2 + 1 = 16.5 over nine → "Xuất sắc"
        for (code, score, source) in [
            ("TT01.I5", 2.0, Source::Unit),
            ("TT01.I6", 1.5, Source::Unit),
            ("TT01.I8", 2.0, Source::Followups),
        ] {
            tt.set_unit_indicator(&i, code, Some(score), source);
            assert_eq!(tt.band, None, "still not all nine after {code}");
        }
        tt.set_unit_indicator(&i, "TT01.I9", Some(1.0), Source::Unit);
        assert_eq!((tt.total, tt.scored.len()), (Some(16.5), 9));
        assert_eq!(tt.band.as_ref().unwrap().0, "Xuất sắc");
    }

    #[test]
    fn the_total_adds_scores_after_rounding_each() {
        // I1 = 2/3 = 0.667 → 0.7 and I3 = 2/3 → 0.7: total 1.4, not round(1.333) = 1.3
        let scores = vec![("A".to_string(), tt01_score(3, 2, 1)), ("B".to_string(), tt01_score(3, 2, 1))];
        assert_eq!(tt01_total(&scores, 1), (Some(1.4), vec!["A".to_string(), "B".to_string()]));
        assert_eq!(tt01_total(&[("A".to_string(), None)], 1), (None, vec![]));
    }

    #[test]
    fn an_unfounded_i7_complaint_is_left_out_of_the_indicator_but_still_counted_as_an_answer() {
        let i = instrument();
        let a = answers(&[(OVERALL, 2), ("TT01.I7", 2)]);
        let with = contributions(&i, &a, false, CaseScores::default());
        let without = contributions(&i, &a, true, CaseScores::default());
        assert_eq!(with[&("TT01.I7".to_string(), 2)], Amount { n: 1, scored: 1, points: 0 });
        assert_eq!(without[&("TT01.I7".to_string(), 2)], Amount { n: 1, scored: 0, points: 0 });
    }

    #[test]
    fn an_early_result_added_later_raises_i7_through_the_difference() {
        let i = instrument();
        let before = answers(&[(OVERALL, 4), ("TT01.I7", 1)]);
        let after = answers(&[(OVERALL, 4), ("TT01.I7", 1), ("TT01.I1", 1)]);
        let d = difference(
            &contributions(&i, &before, false, CaseScores::default()),
            &contributions(&i, &after, false, CaseScores::default()),
        );
        // I7 goes from 1 point to 2 (+1 point, same case); I1 appears with 2 points; nothing else moves.
        assert_eq!(
            d,
            Contributions::from([
                (("TT01.I1".to_string(), 1), Amount { n: 1, scored: 1, points: 2 }),
                (("TT01.I7".to_string(), 1), Amount { n: 0, scored: 0, points: 1 }),
            ])
        );
    }

    #[test]
    fn a_group_under_min_n_shows_its_count_but_no_rates() {
        let i = instrument();
        let g = counts_of(&[answers(&[(OVERALL, 5)]), answers(&[(OVERALL, 1)])]);
        let s = compute(&i, &g, 5, None, Formula::Share45);
        assert_eq!(s.responses, 2);
        assert!(s.suppressed());
        let s = compute(&i, &g, 2, None, Formula::Share45);
        assert!(!s.suppressed());
        // 1 positive of 2 → 50%
        assert_eq!(s.figures.unwrap().overall.rate, Some(50.0));
    }

    #[test]
    fn elements_and_the_index_follow_the_statements_answered() {
        let i = instrument();
        // Response A: E1.1 = 5, E1.2 = 3, E3.1 = 4. Response B: E1.1 = 2. Three more answer only the overall item.
        let g = counts_of(&[
            answers(&[(OVERALL, 5), ("E1.1", 5), ("E1.2", 3), ("E3.1", 4)]),
            answers(&[(OVERALL, 4), ("E1.1", 2)]),
            answers(&[(OVERALL, 4)]),
            answers(&[(OVERALL, 3)]),
            answers(&[(OVERALL, 1)]),
        ]);
        let f = compute(&i, &g, 5, None, Formula::Share45).figures.unwrap();
        // E1.1: 1 of 2 positive = 50; E1.2: 0 of 1 = 0; E1 = (50 + 0) / 2 = 25, answered by 2 responses.
        // E3.1: 1 of 1 = 100 → E3 = 100 by 1 response. E2, E4, E5: n/a.
        // SIPAS = (25 + 100) / 2 = 62.5. Overall: 4, 5, 4 positive of 5 → 60.
        let e: BTreeMap<_, _> = f.elements.iter().cloned().collect();
        assert_eq!(e["E1"], ElementStat { index: Some(25.0), n: 2 });
        assert_eq!(e["E2"], ElementStat { index: None, n: 0 });
        assert_eq!(e["E3"], ElementStat { index: Some(100.0), n: 1 });
        assert_eq!(f.sipas_index, Some(62.5));
        assert_eq!(f.overall.rate, Some(60.0));
        assert_eq!(f.overall.counts, BTreeMap::from([(1, 1), (3, 1), (4, 2), (5, 1)]));
        let c: BTreeMap<_, _> = f.criteria.iter().cloned().collect();
        assert_eq!(c["E2.1"].rate, None, "a statement without answers is null, never 0");
        assert_eq!(c["E2.1"].ci95, None);
        assert_eq!(f.criteria.len(), 19);
    }

    #[test]
    fn a_multi_item_counts_responses_and_choices_separately() {
        let i = instrument();
        let mut a = answers(&[(OVERALL, 5)]);
        a.insert("EXP".into(), AnswerValue::Multi(vec![1, 4]));
        let mut b = answers(&[(OVERALL, 5)]);
        b.insert("EXP".into(), AnswerValue::Multi(vec![4]));
        let g = counts_of(&[a, b]);
        let s = compute(&i, &g, 1, None, Formula::Share45).figures.unwrap();
        let exp = &s.items.iter().find(|(c, _)| c == "EXP").unwrap().1;
        // 2 responses answered; option 4 chosen twice, option 1 once
        assert_eq!(exp.n, 2);
        assert_eq!(exp.counts, BTreeMap::from([(1, 1), (4, 2)]));
        assert_eq!(exp.rate, None);
    }

    #[test]
    fn period_keys_follow_local_months_quarters_and_halves() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(GroupBy::Month.period_key(d(2026, 1, 31)).unwrap(), "2026-01");
        assert_eq!(GroupBy::Quarter.period_key(d(2026, 3, 31)).unwrap(), "2026-Q1");
        assert_eq!(GroupBy::Quarter.period_key(d(2026, 4, 1)).unwrap(), "2026-Q2");
        assert_eq!(GroupBy::Half.period_key(d(2026, 6, 30)).unwrap(), "2026-H1");
        assert_eq!(GroupBy::Half.period_key(d(2026, 7, 1)).unwrap(), "2026-H2");
        assert_eq!(GroupBy::Year.period_key(d(2026, 12, 31)).unwrap(), "2026");
        assert_eq!(
            GroupBy::Quarter.periods(d(2025, 12, 15), d(2026, 4, 2)),
            vec!["2025-Q4", "2026-Q1", "2026-Q2"]
        );
        assert_eq!(GroupBy::Month.periods(d(2026, 1, 31), d(2026, 2, 1)), vec!["2026-01", "2026-02"]);
        assert_eq!(period_label("2026-Q1").unwrap(), "Quý 1/2026");
        assert_eq!(period_label("2026-01").unwrap(), "Tháng 1/2026");
        assert_eq!(period_label("2026-H2").unwrap(), "6 tháng cuối năm 2026");
        assert_eq!(period_label("2026").unwrap(), "Năm 2026");
    }

    #[test]
    fn report_periods_are_quarters_halves_and_years_matched_exactly() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(report_period_range("2026-Q1"), Some((d(2026, 1, 1), d(2026, 3, 31))));
        assert_eq!(report_period_range("2026-H2"), Some((d(2026, 7, 1), d(2026, 12, 31))));
        assert_eq!(report_period_range("2026"), Some((d(2026, 1, 1), d(2026, 12, 31))));
        for bad in ["2026-01", "2026-Q5", "2026-q1", "1999", "26", "", "2026-"] {
            assert_eq!(report_period_range(bad), None, "{bad}");
        }
        assert_eq!(report_period_of(d(2026, 4, 1), d(2026, 6, 30)).as_deref(), Some("2026-Q2"));
        assert_eq!(report_period_of(d(2026, 1, 1), d(2026, 6, 30)).as_deref(), Some("2026-H1"));
        assert_eq!(report_period_of(d(2026, 1, 1), d(2026, 12, 31)).as_deref(), Some("2026"));
        // a month, or a quarter cut short, is no reporting period
        assert_eq!(report_period_of(d(2026, 1, 1), d(2026, 1, 31)), None);
        assert_eq!(report_period_of(d(2026, 1, 2), d(2026, 3, 31)), None);
    }

    #[test]
    fn the_response_rate_is_responses_over_invitations() {
        // 3 of 4 invitations answered → 75%; no invitation → n/a
        assert_eq!(percent(3, 4), Some(75.0));
        let i = instrument();
        let g = GroupCounts { responses: 0, invitations: 0, ..GroupCounts::default() };
        assert_eq!(compute(&i, &g, 5, None, Formula::Share45).response_rate, None);
    }

    #[test]
    fn agency_bands_judge_a_unit_total() {
        let i = instrument();
        let b = &i.computation.tt01_agency_bands;
        assert_eq!(band(15.0, b).unwrap().en, "Excellent");
        assert_eq!(band(14.9, b).unwrap().en, "Good");
        assert_eq!(band(6.0, b).unwrap().en, "Average");
        assert_eq!(band(0.0, b).unwrap().en, "Weak");
    }

    #[test]
    fn held_responses_count_as_flagged_and_stay_out_unless_included() {
        let i = instrument();
        let c = contributions(&i, &answers(&[(OVERALL, 5)]), false, CaseScores::default());
        let mut out = GroupCounts::default();
        let mut with = GroupCounts::default();
        for ((code, level), a) in &c {
            out.add(code, *level, true, false, *a);
            with.add(code, *level, true, true, *a);
        }
        assert_eq!((out.responses, out.flagged, out.levels.len()), (0, 1, 0));
        assert_eq!((with.responses, with.flagged, with.levels[OVERALL][&5]), (1, 1, 1));
    }

    #[test]
    fn the_mean_formula_scores_5_5_4_3_as_81_25_with_a_wilson_interval_of_the_scores() {
        let scale = Scale {
            positive: vec![4, 5],
            levels: (1..=5)
                .map(|code| crate::instrument::model::Choice {
                    code,
                    vi: String::new(),
                    en: String::new(),
                    points: None,
                    points_when: None,
                })
                .collect(),
        };
        let counts: BTreeMap<i16, u64> = [(5, 2), (4, 1), (3, 1)].into_iter().collect();
        let (share, _) = Formula::Share45.score(&counts, &scale);
        assert_eq!(share, Some(75.0));
        let (mean, ci) = Formula::Mean100.score(&counts, &scale);
        assert_eq!(mean, Some(81.25));
        let (lo, hi) = ci.unwrap();
        assert!(lo < 81.25 && 81.25 < hi && lo > 0.0 && hi <= 100.0, "{lo} {hi}");
        // all at the lowest level is 0, all at the highest 100, nothing is none
        let low: BTreeMap<i16, u64> = [(1, 3)].into_iter().collect();
        assert_eq!(Formula::Mean100.score(&low, &scale).0, Some(0.0));
        let high: BTreeMap<i16, u64> = [(5, 3)].into_iter().collect();
        let (top, top_ci) = Formula::Mean100.score(&high, &scale);
        assert_eq!((top, top_ci.map(|c| c.1)), (Some(100.0), Some(100.0)));
        assert_eq!(Formula::Mean100.score(&BTreeMap::new(), &scale), (None, None));
        for f in Formula::ALL {
            assert_eq!(Formula::parse(f.as_str()), Some(f));
        }
        assert_eq!(Formula::parse("mean"), None);
    }
}
