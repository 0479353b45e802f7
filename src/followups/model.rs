//! Domain types of follow-ups: what opens one, its statuses and outcomes, and the working-day
//! calendar of its deadline. No database, no HTTP.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::kernel::answers::{AnswerSet, AnswerValue};

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
}
