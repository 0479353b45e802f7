//! The answer types every capability shares: one checked answer, and a response's answers by
//! item. The questionnaire (`instrument`) checks them; responses, integrity, statistics and the
//! survey read them.

use std::collections::BTreeMap;

/// A checked answer to one item. Written out (and documented in the OpenAPI document) as it is
/// sent: a level or option code, a list of option codes, or a text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    /// A level of a scale or the code of a choice option.
    Level(i16),
    /// Option codes of a multi item, sorted and without repeats.
    Multi(Vec<i16>),
    Text(String),
}

/// A response's answers by item code.
pub type AnswerSet = BTreeMap<String, AnswerValue>;
