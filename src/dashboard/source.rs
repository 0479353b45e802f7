//! THE ADAPTER between the dashboard and the statistics engine: the dashboard asks for a
//! `GET /api/v1/stats`-shaped answer ([`StatsView`]) for a [`StatsQuery`], and this file alone
//! knows how the engine is called. Swapping the engine (or calling it over HTTP) changes only
//! this file.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::PgConnection;

use super::view::StatsView;
use crate::error::AppError;
use crate::instrument::Instruments;

/// One statistics question, as the query string of `GET /api/v1/stats` would ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// none, procedure, field, officer, unit, channel, month, quarter, half or year
    pub group_by: &'static str,
    pub unit: Option<String>,
    pub procedure: Option<String>,
    pub field: Option<String>,
    pub officer: Option<String>,
    pub channel: Option<String>,
}

impl StatsQuery {
    /// The query-string parameters of this question.
    pub fn params(&self) -> HashMap<String, String> {
        let mut p = HashMap::new();
        p.insert("from".to_string(), self.from.format("%Y-%m-%d").to_string());
        p.insert("to".to_string(), self.to.format("%Y-%m-%d").to_string());
        p.insert("group_by".to_string(), self.group_by.to_string());
        for (name, value) in [
            ("unit", &self.unit),
            ("procedure", &self.procedure),
            ("field", &self.field),
            ("officer", &self.officer),
            ("channel", &self.channel),
        ] {
            if let Some(v) = value {
                p.insert(name.to_string(), v.clone());
            }
        }
        p
    }
}

/// Answers one question from the statistics engine, in the shape of DESIGN.md §5: the same
/// checks and the same computation as `GET /api/v1/stats`, called in-process (no HTTP), read
/// from the roll-ups.
pub fn fetch(
    conn: &mut PgConnection,
    instruments: &Instruments,
    min_n: u64,
    query: &StatsQuery,
) -> Result<StatsView, AppError> {
    use crate::stats::handlers::{Source, build_body, parse_request};
    let request = parse_request(&query.params())?;
    let body = build_body(conn, instruments, &request, min_n, Source::Rollup)?;
    let value = serde_json::to_value(&body).map_err(|e| AppError::Internal(format!("stats body: {e}")))?;
    serde_json::from_value(value).map_err(|e| AppError::Internal(format!("stats body shape: {e}")))
}
