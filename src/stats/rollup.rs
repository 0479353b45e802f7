//! Roll-ups: pre-aggregated counts maintained in the same transaction as every write, so that
//! statistics read counts instead of raw answers. The raw answers stay the source of truth.
//!
//! INTERFACE FOR THE WRITERS (invitations, responses): call these inside the transaction that
//! writes the row. The statistics capability owns their implementation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::instrument::{AnswerValue, Instrument};

/// A response's answers by item code.
pub type AnswerSet = BTreeMap<String, AnswerValue>;

/// What the roll-ups need to know about a response besides its answers.
#[derive(Debug, Clone)]
pub struct ResponseFacts<'a> {
    pub response_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
    /// Held out of the statistics (flagged and not reviewed genuine).
    pub held: bool,
}

/// What the roll-ups need to know about an issued invitation.
#[derive(Debug, Clone)]
pub struct InvitationFacts<'a> {
    pub issued_at: DateTime<Utc>,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
}

/// Applies the change one write made to a response: `before` is its answer set before the write
/// (empty for a new response), `after` the set after it.
pub fn apply_response_change(
    _conn: &mut PgConnection,
    _instrument: &Instrument,
    _facts: &ResponseFacts<'_>,
    _before: &AnswerSet,
    _after: &AnswerSet,
) -> QueryResult<()> {
    // PLACEHOLDER until the statistics capability lands its roll-up tables.
    Ok(())
}

/// Counts one issued invitation.
pub fn apply_invitation_issued(_conn: &mut PgConnection, _facts: &InvitationFacts<'_>) -> QueryResult<()> {
    // PLACEHOLDER until the statistics capability lands its roll-up tables.
    Ok(())
}
