//! Domain types of the integrity capability: why a response looks staged, what opens a follow-up,
//! and the working-day calendar of follow-up deadlines. No database, no HTTP.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;

/// Why a response looks staged. A response can have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Sent from one of the commune's own networks (`DESK_NETWORKS`).
    DeskNetwork,
    /// Sent less than `MIN_SECONDS_TO_ANSWER` after the invitation was issued.
    TooFast,
    /// One device answered more than `MAX_TOKENS_PER_DEVICE_PER_DAY` invitations in a local day.
    SameDevice,
    /// Part of a burst of top scores for one officer (see [`BURST_SIZE`]).
    Burst,
}

impl Reason {
    pub const ALL: [Reason; 4] = [Reason::DeskNetwork, Reason::TooFast, Reason::SameDevice, Reason::Burst];

    pub fn code(self) -> &'static str {
        match self {
            Reason::DeskNetwork => "desk_network",
            Reason::TooFast => "too_fast",
            Reason::SameDevice => "same_device",
            Reason::Burst => "burst",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What a leader reads on the review page.
    pub fn label_vi(self) -> &'static str {
        match self {
            Reason::DeskNetwork => "Gửi từ mạng của cơ quan",
            Reason::TooFast => "Gửi quá nhanh sau khi phát phiếu",
            Reason::SameDevice => "Một thiết bị trả lời nhiều phiếu trong ngày",
            Reason::Burst => "Dồn dập điểm tối đa cho một cán bộ",
        }
    }
}

/// The burst rule: an officer's responses whose first answer gives `CASE.OVERALL` its top level
/// form a burst when at least `BURST_SIZE` of them arrive within `BURST_WINDOW_SECONDS` (any
/// window: each arrival looks back that far). One officer serves one resident at a time and a
/// case takes minutes, so five delighted residents of the same officer inside two minutes is not
/// what a desk produces; a stack of receipts answered by one hand is. Every response of the burst
/// is flagged, the earlier ones too.
pub const BURST_SIZE: usize = 5;
pub const BURST_WINDOW_SECONDS: i64 = 120;

/// The thresholds the checks apply (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub min_seconds_to_answer: i64,
    pub max_tokens_per_device_per_day: u32,
    pub followup_days: u32,
}

impl Rules {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Rules {
            min_seconds_to_answer: config.min_seconds_to_answer,
            max_tokens_per_device_per_day: config.max_tokens_per_device_per_day,
            followup_days: config.followup_days,
        }
    }
}

/// A review verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is the resident's own: it counts again.
    Genuine,
    /// Staged: it stays out of the statistics (and is kept).
    Invalid,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Genuine => "genuine",
            Verdict::Invalid => "invalid",
        }
    }

    pub fn from_code(code: &str) -> Option<Verdict> {
        [Verdict::Genuine, Verdict::Invalid].into_iter().find(|v| v.code() == code)
    }
}

/// What opens a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    /// `REPLY.WANTED` = 1 ("Có").
    ReplyWanted,
    /// `CASE.OVERALL` 1–2 with a comment.
    LowScoreComment,
    /// `TT01.I7` = 2 ("Có"): harassment or acting against the rules.
    Harassment,
    /// `CASE.EXTRA_COST` = 2 ("Có"): paid beyond the official fees.
    ExtraCost,
}

impl Trigger {
    pub fn code(self) -> &'static str {
        match self {
            Trigger::ReplyWanted => "reply_wanted",
            Trigger::LowScoreComment => "low_score_comment",
            Trigger::Harassment => "harassment",
            Trigger::ExtraCost => "extra_cost",
        }
    }
}

pub const REPLY_WANTED: &str = "REPLY.WANTED";
pub const COMMENT: &str = "COMMENT";
pub const TT01_I7: &str = "TT01.I7";
pub const EXTRA_COST: &str = "CASE.EXTRA_COST";

fn level(answers: &AnswerSet, code: &str) -> Option<i16> {
    match answers.get(code) {
        Some(AnswerValue::Level(l)) => Some(*l),
        _ => None,
    }
}

/// The comment of a response, if it left a non-blank one.
pub fn comment(answers: &AnswerSet) -> Option<&str> {
    match answers.get(COMMENT) {
        Some(AnswerValue::Text(t)) if !t.trim().is_empty() => Some(t.as_str()),
        _ => None,
    }
}

/// What in these answers calls for a follow-up (empty: nothing).
pub fn triggers(answers: &AnswerSet) -> Vec<Trigger> {
    let mut out = Vec::new();
    if level(answers, REPLY_WANTED) == Some(1) {
        out.push(Trigger::ReplyWanted);
    }
    if level(answers, crate::instrument::OVERALL).is_some_and(|l| (1..=2).contains(&l))
        && comment(answers).is_some()
    {
        out.push(Trigger::LowScoreComment);
    }
    if level(answers, TT01_I7) == Some(2) {
        out.push(Trigger::Harassment);
    }
    if level(answers, EXTRA_COST) == Some(2) {
        out.push(Trigger::ExtraCost);
    }
    out
}

/// The date `days` working days after `start` (Saturdays and Sundays skipped; public holidays are
/// not known to the service and count as working days).
pub fn add_working_days(start: NaiveDate, days: u32) -> NaiveDate {
    let mut date = start;
    let mut left = days;
    while left > 0 {
        date = date.checked_add_days(Days::new(1)).unwrap_or(date);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// Follow-up statuses, in order.
pub const STATUSES: [&str; 4] = ["new", "in_progress", "answered", "closed"];
/// How a follow-up ends.
pub const OUTCOMES: [&str; 3] = ["resolved", "unfounded", "no_action"];

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, AnswerValue)]) -> AnswerSet {
        items.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn deadlines_skip_weekends() {
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(add_working_days(friday, 1), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(add_working_days(friday, 10), NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
        let saturday = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(add_working_days(saturday, 1), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(add_working_days(saturday, 0), saturday);
    }

    #[test]
    fn each_trigger_opens_a_follow_up_and_plain_answers_do_not() {
        use AnswerValue::{Level, Text};
        assert!(triggers(&set(&[("CASE.OVERALL", Level(5))])).is_empty());
        assert_eq!(
            triggers(&set(&[("CASE.OVERALL", Level(4)), (REPLY_WANTED, Level(1))])),
            [Trigger::ReplyWanted]
        );
        assert!(triggers(&set(&[("CASE.OVERALL", Level(4)), (REPLY_WANTED, Level(2))])).is_empty());
        assert!(triggers(&set(&[("CASE.OVERALL", Level(1))])).is_empty());
        assert!(triggers(&set(&[("CASE.OVERALL", Level(2)), (COMMENT, Text("  ".into()))])).is_empty());
        assert_eq!(
            triggers(&set(&[("CASE.OVERALL", Level(2)), (COMMENT, Text("Chờ lâu".into()))])),
            [Trigger::LowScoreComment]
        );
        assert!(triggers(&set(&[("CASE.OVERALL", Level(3)), (COMMENT, Text("Chờ lâu".into()))])).is_empty());
        assert_eq!(
            triggers(&set(&[("CASE.OVERALL", Level(4)), (TT01_I7, Level(2)), (EXTRA_COST, Level(2))])),
            [Trigger::Harassment, Trigger::ExtraCost]
        );
    }

    #[test]
    fn codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Verdict::from_code("genuine"), Some(Verdict::Genuine));
        assert_eq!(Verdict::from_code("fine"), None);
    }
}
