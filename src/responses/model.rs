//! The domain of a submission: the answers as they arrive (JSON or an HTML form), their checked
//! form, and every way a submission can be refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::instrument::{AnswerError, Instrument, ItemKind, OVERALL};
use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;

/// Answers as sent, before the questionnaire version of the token is known.
#[derive(Debug, Clone)]
pub enum RawAnswers {
    /// `{"<item code>": <value>, …}` of the JSON API.
    Json(serde_json::Map<String, Value>),
    /// Name/value pairs of an HTML form: field name = item code, a multi item repeats its field,
    /// an empty value means "not answered".
    Form(Vec<(String, String)>),
}

impl RawAnswers {
    /// Checks every answer against its item, in the instrument of the token. The error names the
    /// first offending item (in the order sent).
    pub fn parse(&self, instrument: &Instrument) -> Result<AnswerSet, Refusal> {
        let mut set = AnswerSet::new();
        match self {
            RawAnswers::Json(map) => {
                for (code, value) in map {
                    let parsed =
                        instrument.parse_answer(code, value).map_err(|e| Refusal::invalid(code, e))?;
                    set.insert(code.clone(), parsed);
                }
            }
            RawAnswers::Form(pairs) => {
                let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                let mut order = Vec::new();
                for (name, value) in pairs {
                    if value.trim().is_empty() {
                        continue;
                    }
                    let values = grouped.entry(name.as_str()).or_default();
                    if values.is_empty() {
                        order.push(name.as_str());
                    }
                    values.push(value.as_str());
                }
                for code in order {
                    let values = &grouped[code];
                    let json = form_value(instrument, code, values);
                    let parsed =
                        instrument.parse_answer(code, &json).map_err(|e| Refusal::invalid(code, e))?;
                    set.insert(code.to_string(), parsed);
                }
            }
        }
        Ok(set)
    }
}

/// The JSON value an HTML form's field stands for, by the kind of its item: a multi item is a
/// list, a text item a string, anything else one code (several values for a single-answer item
/// become a list, which its check refuses).
fn form_value(instrument: &Instrument, code: &str, values: &[&str]) -> Value {
    let code_of = |v: &str| v.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(v));
    match instrument.item(code).map(|i| i.kind) {
        Some(ItemKind::Multi) => Value::Array(values.iter().map(|v| code_of(v)).collect()),
        Some(ItemKind::Text) if values.len() == 1 => Value::from(values[0]),
        _ if values.len() == 1 => code_of(values[0]),
        _ => Value::Array(values.iter().map(|v| code_of(v)).collect()),
    }
}

/// What to do with an item that is already answered when a post repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeats {
    /// Refuse the whole post (409): the JSON API's contract.
    Refuse,
    /// Drop a repeat with the very same value, refuse one that would change it: a double tap or a
    /// form sent again after "back" then adds only what is new.
    IgnoreIdentical,
}

/// What a successful submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The token's first response (201).
    Created,
    /// Items added within the additions window (200).
    Added,
    /// Nothing new (only identical repeats under [`Repeats::IgnoreIdentical`]).
    Unchanged,
}

/// The result of a successful submission.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub effect: Effect,
    pub instrument: Arc<Instrument>,
    /// Every answer of the response after the submission.
    pub answers: AnswerSet,
    /// The end of the additions window.
    pub additions_until: DateTime<Utc>,
}

/// Why a submission was refused. Nothing is stored when it is.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("too many submissions from this network")]
    RateLimited,
    #[error("unknown token")]
    UnknownToken,
    #[error("the invitation has expired")]
    Expired,
    #[error("the additions window is over")]
    Spent,
    #[error("item {0} is already answered")]
    AlreadyAnswered(String),
    /// A 422: the item and a sentence saying what is wrong.
    #[error("item {item}: {problem}")]
    Invalid { item: String, problem: Problem },
    #[error("no answers")]
    NoAnswers,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("invitation names questionnaire {0}, which this service does not have")]
    UnknownInstrument(String),
}

/// What is wrong with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Answer(AnswerError),
    /// A first response must rate `CASE.OVERALL`.
    MissingOverall,
    /// The item is asked only when another item has a given code.
    NotShown {
        item: String,
        code: i16,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Answer(e) => write!(f, "{e}"),
            Problem::MissingOverall => write!(f, "must be answered in the first response"),
            Problem::NotShown { item, code } => {
                write!(f, "is asked only when {item} is answered with code {code}")
            }
        }
    }
}

impl Refusal {
    pub fn invalid(item: &str, e: AnswerError) -> Self {
        Refusal::Invalid { item: item.to_string(), problem: Problem::Answer(e) }
    }

    /// The item a refusal is about, if any.
    pub fn item(&self) -> Option<&str> {
        match self {
            Refusal::AlreadyAnswered(item) | Refusal::Invalid { item, .. } => Some(item),
            _ => None,
        }
    }
}

/// Checks the rules that depend on the response as a whole: a first response rates
/// `CASE.OVERALL`, and an item with `shown_if` is answered only when its condition holds in the
/// response's answers (those stored and those being added).
pub fn check_response(
    instrument: &Instrument,
    first: bool,
    merged: &AnswerSet,
    new: &AnswerSet,
) -> Result<(), Refusal> {
    if first && !new.contains_key(OVERALL) {
        return Err(Refusal::Invalid { item: OVERALL.to_string(), problem: Problem::MissingOverall });
    }
    for code in new.keys() {
        let Some(shown_if) = instrument.item(code).and_then(|i| i.shown_if.as_ref()) else { continue };
        if merged.get(&shown_if.item) != Some(&AnswerValue::Level(shown_if.code)) {
            return Err(Refusal::Invalid {
                item: code.clone(),
                problem: Problem::NotShown { item: shown_if.item.clone(), code: shown_if.code },
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn instrument() -> Instrument {
        Instrument::parse(include_str!("../../instruments/sipas-desk-2026.1.toml")).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> RawAnswers {
        RawAnswers::Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn form_fields_become_typed_answers_and_empty_fields_are_unanswered() {
        let set =
            form(&[("CASE.OVERALL", "4"), ("EXP", "3"), ("EXP", "1"), ("COMMENT", " 12 "), ("D.SEX", "")])
                .parse(&instrument())
                .unwrap();
        assert_eq!(set.get("CASE.OVERALL"), Some(&AnswerValue::Level(4)));
        assert_eq!(set.get("EXP"), Some(&AnswerValue::Multi(vec![1, 3])));
        assert_eq!(set.get("COMMENT"), Some(&AnswerValue::Text("12".into())));
        assert!(!set.contains_key("D.SEX"));
    }

    #[test]
    fn a_form_refusal_names_the_item() {
        let e = form(&[("CASE.OVERALL", "4"), ("TT01.I1", "x")]).parse(&instrument()).unwrap_err();
        assert_eq!(e.item(), Some("TT01.I1"));
        let e = form(&[("TT01.I1", "1"), ("TT01.I1", "2")]).parse(&instrument()).unwrap_err();
        assert_eq!(e.item(), Some("TT01.I1"));
        let e =
            form(&[("EXP", "1"), ("EXP", "2"), ("EXP", "3"), ("EXP", "4")]).parse(&instrument()).unwrap_err();
        assert_eq!(e.to_string(), "item EXP: takes at most 3 choices");
    }

    #[test]
    fn a_first_response_without_the_overall_rating_is_refused() {
        let i = instrument();
        let new = RawAnswers::Json(json!({"TT01.I1": 1}).as_object().unwrap().clone()).parse(&i).unwrap();
        let e = check_response(&i, true, &new, &new).unwrap_err();
        assert_eq!(e.item(), Some(OVERALL));
        assert!(check_response(&i, false, &new, &new).is_ok());
    }

    #[test]
    fn a_gated_statement_needs_its_gate_answered_yes() {
        let i = instrument();
        let parse =
            |v: serde_json::Value| RawAnswers::Json(v.as_object().unwrap().clone()).parse(&i).unwrap();
        let new = parse(json!({"E5.1": 4}));
        assert_eq!(check_response(&i, false, &new, &new).unwrap_err().item(), Some("E5.1"));
        let mut merged = parse(json!({"E5.GATE": 2}));
        merged.extend(new.clone());
        assert_eq!(check_response(&i, false, &merged, &new).unwrap_err().item(), Some("E5.1"));
        let mut merged = parse(json!({"E5.GATE": 1}));
        merged.extend(new.clone());
        assert!(check_response(&i, false, &merged, &new).is_ok());
    }
}
