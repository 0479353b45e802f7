//! Case facts from the one-stop system (hệ thống thông tin một cửa điện tử): when the file was
//! received, the due date the law allows (and its extension with the apology letter, Mẫu 04),
//! when the result was returned, and the steps the file went through. Valid once built; pure
//! functions, no database, no actix.
//!
//! What TT 01/2018/TT-VPCP Điều 13 makes of them (docs/TT01.md):
//! - indicator 1 from returned against due: earlier than the due day 2 points, on the due day 1,
//!   later 0 — the options of `TT01.I1` (codes 1, 2, 3) read from the facts instead of the
//!   resident ([`CaseFacts::timing`]);
//! - indicator 2 from the steps: every step done before its due day 2, every step done by its due
//!   day 1, any step late 0 ([`CaseFacts::i2_points`]);
//! - the timing part of indicator 7 follows indicator 1's timing.
//!
//! Days are the commune's local days (UTC+7): one-stop systems set due dates as days, and a result
//! handed back at 16:00 on the due day is on time.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::kernel::time::{LOCAL, local_day, midnight};

/// Most steps one case may list.
pub const STEPS_MAX: usize = 50;
/// Longest unit name of a step.
pub const STEP_UNIT_MAX: usize = 200;
/// How far ahead of the server's clock a return may be dated (clocks of two systems differ).
const CLOCK_SKEW_MINUTES: i64 = 10;

/// The TT01.I1 option codes the facts stand for (the instrument's order, the law's too).
pub const TIMING_EARLY: i16 = 1;
pub const TIMING_ON_TIME: i16 = 2;
pub const TIMING_LATE: i16 = 3;

/// One step of the file as the caller sent it (`steps` of the invitation API).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CaseStep)]
pub struct RawStep {
    /// The unit or officer that handled the step (up to 200 characters).
    #[schema(value_type = String, required = true, max_length = 200)]
    pub unit: Option<String>,
    /// The step's due date.
    #[schema(value_type = String, required = true)]
    pub due_at: Option<String>,
    /// When the step was done; not before `received_at`, not in the future.
    #[schema(value_type = String, required = true)]
    pub done_at: Option<String>,
}

/// The facts as the caller sent them (nothing trusted yet); every field is optional.
#[derive(Debug, Clone, Default)]
pub struct RawFacts {
    pub received_at: Option<String>,
    pub due_at: Option<String>,
    pub extended_due_at: Option<String>,
    pub apology_letter: Option<bool>,
    pub returned_at: Option<String>,
    pub steps: Option<Vec<RawStep>>,
}

impl RawFacts {
    /// True when the caller sent no fact at all.
    pub fn is_empty(&self) -> bool {
        self.received_at.is_none()
            && self.due_at.is_none()
            && self.extended_due_at.is_none()
            && self.apology_letter.is_none()
            && self.returned_at.is_none()
            && self.steps.as_ref().is_none_or(Vec::is_empty)
    }
}

/// One step of the file: which unit handled it, by when, and when it finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub unit: String,
    pub due_at: DateTime<Utc>,
    pub done_at: DateTime<Utc>,
}

/// Checked case facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFacts {
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// The new date promised with the apology letter (Mẫu 04); it never makes a late case on
    /// time: indicator 1 compares with the time the law allows.
    pub extended_due_at: Option<DateTime<Utc>>,
    pub apology_letter: bool,
    pub returned_at: Option<DateTime<Utc>>,
    pub steps: Vec<Step>,
}

/// Why facts were refused: the field (as the API names it) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> FactError {
    FactError { field: field.into(), message: message.into() }
}

/// Reads a moment: RFC 3339 (`2026-12-03T09:30:00+07:00`), a local date-time without offset
/// (`2026-12-03T09:30[:00]`, the commune's time) or a local date (`2026-12-03`, its midnight).
pub fn parse_moment(field: &str, s: &str) -> Result<DateTime<Utc>, FactError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format)
            && let Some(local) = t.and_local_timezone(LOCAL).single()
        {
            return Ok(local.with_timezone(&Utc));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(midnight(d));
    }
    Err(error(
        field,
        format!(
            "{field} `{s}` is not a date (YYYY-MM-DD) or a date-time (RFC 3339, e.g. 2026-12-03T09:30:00+07:00)."
        ),
    ))
}

fn moment(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, FactError> {
    match value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_moment(field, s).map(Some),
    }
}

/// The timing of `done` against `due` by local day: a TT01.I1 option code.
pub fn timing_of(due: DateTime<Utc>, done: DateTime<Utc>) -> i16 {
    let (due, done) = (local_day(due), local_day(done));
    if done < due {
        TIMING_EARLY
    } else if done == due {
        TIMING_ON_TIME
    } else {
        TIMING_LATE
    }
}

impl CaseFacts {
    /// Checks what the caller sent: dates readable and in order (received ≤ due < extended;
    /// received ≤ returned ≤ now; each step's unit named, received ≤ done), an extension only with
    /// its apology letter, at most [`STEPS_MAX`] steps.
    pub fn parse(raw: &RawFacts, now: DateTime<Utc>) -> Result<CaseFacts, FactError> {
        let received_at = moment("received_at", &raw.received_at)?;
        let due_at = moment("due_at", &raw.due_at)?;
        let extended_due_at = moment("extended_due_at", &raw.extended_due_at)?;
        let returned_at = moment("returned_at", &raw.returned_at)?;
        let apology_letter = raw.apology_letter.unwrap_or(false);
        if let (Some(r), Some(d)) = (received_at, due_at)
            && d < r
        {
            return Err(error("due_at", "due_at is earlier than received_at."));
        }
        if let Some(e) = extended_due_at {
            let Some(d) = due_at else {
                return Err(error("extended_due_at", "extended_due_at needs due_at, the date it extends."));
            };
            if e <= d {
                return Err(error("extended_due_at", "extended_due_at is not later than due_at."));
            }
            if !apology_letter {
                return Err(error(
                    "apology_letter",
                    "extended_due_at needs apology_letter = true: a due date is extended only with the apology letter (Mẫu 04).",
                ));
            }
        }
        if apology_letter && due_at.is_none() {
            return Err(error("due_at", "apology_letter needs due_at, the date the letter apologises for."));
        }
        if let Some(t) = returned_at {
            if let Some(r) = received_at
                && t < r
            {
                return Err(error("returned_at", "returned_at is earlier than received_at."));
            }
            if t > now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES) {
                return Err(error("returned_at", "returned_at is in the future."));
            }
        }
        let raw_steps = raw.steps.as_deref().unwrap_or_default();
        if raw_steps.len() > STEPS_MAX {
            return Err(error(
                "steps",
                format!("steps holds {} steps; at most {STEPS_MAX}.", raw_steps.len()),
            ));
        }
        let mut steps = Vec::with_capacity(raw_steps.len());
        for (i, s) in raw_steps.iter().enumerate() {
            let name = |f: &str| format!("steps[{i}].{f}");
            let unit = s.unit.as_deref().map(str::trim).filter(|u| !u.is_empty());
            let Some(unit) = unit else {
                return Err(error(name("unit"), format!("{} is required.", name("unit"))));
            };
            if unit.chars().count() > STEP_UNIT_MAX || unit.chars().any(char::is_control) {
                return Err(error(
                    name("unit"),
                    format!(
                        "{} is longer than {STEP_UNIT_MAX} characters or holds a control character.",
                        name("unit")
                    ),
                ));
            }
            let due = moment(&name("due_at"), &s.due_at)?
                .ok_or_else(|| error(name("due_at"), format!("{} is required.", name("due_at"))))?;
            let done = moment(&name("done_at"), &s.done_at)?
                .ok_or_else(|| error(name("done_at"), format!("{} is required.", name("done_at"))))?;
            if let Some(r) = received_at {
                if done < r {
                    return Err(error(
                        name("done_at"),
                        format!("{} is earlier than received_at.", name("done_at")),
                    ));
                }
                if due < r {
                    return Err(error(
                        name("due_at"),
                        format!("{} is earlier than received_at.", name("due_at")),
                    ));
                }
            }
            if done > now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES) {
                return Err(error(name("done_at"), format!("{} is in the future.", name("done_at"))));
            }
            steps.push(Step { unit: unit.to_string(), due_at: due, done_at: done });
        }
        Ok(CaseFacts { received_at, due_at, extended_due_at, apology_letter, returned_at, steps })
    }

    /// The TT01.I1 option the facts give (early, on time, late against the legal due day), when
    /// both the due date and the return are known.
    pub fn timing(&self) -> Option<i16> {
        Some(timing_of(self.due_at?, self.returned_at?))
    }

    /// Indicator 2's points from the steps: 2 when every step was done before its due day, 1 when
    /// every step was done by its due day, 0 when any was late; `None` without steps.
    pub fn i2_points(&self) -> Option<i16> {
        self.steps
            .iter()
            .map(|s| match timing_of(s.due_at, s.done_at) {
                TIMING_EARLY => 2,
                TIMING_ON_TIME => 1,
                _ => 0,
            })
            .min()
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == CaseFacts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_moment("now", "2026-12-03T12:00:00+07:00").unwrap()
    }

    fn raw(received: &str, due: &str, returned: &str) -> RawFacts {
        RawFacts {
            received_at: Some(received.into()),
            due_at: Some(due.into()),
            returned_at: Some(returned.into()),
            ..RawFacts::default()
        }
    }

    fn step(unit: &str, due: &str, done: &str) -> RawStep {
        RawStep { unit: Some(unit.into()), due_at: Some(due.into()), done_at: Some(done.into()) }
    }

    #[test]
    fn moments_are_read_as_rfc3339_local_date_times_or_local_dates() {
        let a = parse_moment("x", "2026-12-03T09:30:00+07:00").unwrap();
        let b = parse_moment("x", "2026-12-03T09:30").unwrap();
        let c = parse_moment("x", "2026-12-03T02:30:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(
            parse_moment("x", "2026-12-03").unwrap(),
            midnight(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap())
        );
        let e = parse_moment("received_at", "03/12/2026").unwrap_err();
        assert_eq!(e.field, "received_at");
    }

    #[test]
    fn indicator_one_compares_the_return_with_the_due_day() {
        let f =
            |returned| CaseFacts::parse(&raw("2026-11-20", "2026-12-01", returned), now()).unwrap().timing();
        assert_eq!(f("2026-11-30T16:00"), Some(TIMING_EARLY));
        // the same local day, even after office hours, is on time
        assert_eq!(f("2026-12-01T17:59"), Some(TIMING_ON_TIME));
        assert_eq!(f("2026-12-02T07:30"), Some(TIMING_LATE));
        // without a due date or a return: no timing
        let only_due = RawFacts { due_at: Some("2026-12-01".into()), ..RawFacts::default() };
        assert_eq!(CaseFacts::parse(&only_due, now()).unwrap().timing(), None);
    }

    #[test]
    fn an_extension_with_the_apology_letter_does_not_make_a_late_case_on_time() {
        let mut r = raw("2026-11-20", "2026-12-01", "2026-12-02");
        r.extended_due_at = Some("2026-12-05".into());
        r.apology_letter = Some(true);
        let f = CaseFacts::parse(&r, now()).unwrap();
        assert!(f.apology_letter);
        assert_eq!(f.timing(), Some(TIMING_LATE));
    }

    #[test]
    fn indicator_two_takes_the_worst_step() {
        let mut r = raw("2026-11-20", "2026-12-01", "2026-11-30");
        r.steps = Some(vec![step("Công chức Tư pháp", "2026-11-25", "2026-11-24")]);
        assert_eq!(CaseFacts::parse(&r, now()).unwrap().i2_points(), Some(2));
        r.steps = Some(vec![
            step("Công chức Tư pháp", "2026-11-25", "2026-11-24"),
            step("Lãnh đạo UBND xã", "2026-11-27", "2026-11-27T15:00"),
        ]);
        assert_eq!(CaseFacts::parse(&r, now()).unwrap().i2_points(), Some(1));
        r.steps = Some(vec![
            step("Công chức Tư pháp", "2026-11-25", "2026-11-24"),
            step("Lãnh đạo UBND xã", "2026-11-27", "2026-11-28"),
        ]);
        assert_eq!(CaseFacts::parse(&r, now()).unwrap().i2_points(), Some(0));
        assert_eq!(CaseFacts::parse(&RawFacts::default(), now()).unwrap().i2_points(), None);
    }

    #[test]
    fn dates_out_of_order_are_refused_naming_the_field() {
        let field = |r: &RawFacts| CaseFacts::parse(r, now()).unwrap_err().field;
        assert_eq!(field(&raw("2026-11-20", "2026-11-19", "2026-11-21")), "due_at");
        assert_eq!(field(&raw("2026-11-20", "2026-11-25", "2026-11-19")), "returned_at");
        assert_eq!(field(&raw("2026-11-20", "2026-11-25", "2026-12-24")), "returned_at");
        let mut r = raw("2026-11-20", "2026-11-25", "2026-11-24");
        r.extended_due_at = Some("2026-11-28".into());
        assert_eq!(field(&r), "apology_letter");
        r.apology_letter = Some(true);
        r.extended_due_at = Some("2026-11-24".into());
        assert_eq!(field(&r), "extended_due_at");
        let mut r = raw("2026-11-20", "2026-11-25", "2026-11-24");
        r.steps = Some(vec![step("A", "2026-11-22", "2026-11-21"), step(" ", "2026-11-22", "2026-11-21")]);
        assert_eq!(field(&r), "steps[1].unit");
        r.steps = Some(vec![step("A", "2026-11-22", "2026-11-19")]);
        assert_eq!(field(&r), "steps[0].done_at");
        r.steps =
            Some(vec![RawStep { unit: Some("A".into()), due_at: Some("2026-11-22".into()), done_at: None }]);
        assert_eq!(field(&r), "steps[0].done_at");
        r.steps = Some((0..=STEPS_MAX).map(|_| step("A", "2026-11-22", "2026-11-21")).collect());
        assert_eq!(field(&r), "steps");
    }
}
