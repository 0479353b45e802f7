//! The submission core, shared by `POST /api/v1/responses/{token}` and the survey's HTML form.
//! Synchronous and free of HTTP: callers run it through `db::run`.

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};

use super::client::ClientHashes;
use super::model::{Effect, Outcome, RawAnswers, Refusal, Repeats, check_response};
use super::store::{self, NewResponse};
use crate::instrument::{Instruments, OVERALL};
use crate::integrity::{self, checks};
use crate::stats::rollup::{self, AnswerSet, ResponseFacts};

/// Length of one rate-limit window.
pub const RATE_WINDOW_MINUTES: i64 = 10;

/// The limits a submission is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Additions are accepted this long after the first response.
    pub additions_window: Duration,
    /// Submissions one client hash may make per rate-limit window.
    pub per_client: u32,
    /// The integrity checks' thresholds and the follow-up deadline.
    pub integrity: integrity::model::Rules,
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Limits {
            additions_window: Duration::minutes(config.additions_window_minutes),
            per_client: config.submission_limit,
            integrity: integrity::model::Rules::from_config(config),
        }
    }
}

/// One post of answers for a token.
#[derive(Debug, Clone)]
pub struct Submission {
    pub token: String,
    pub answers: RawAnswers,
    pub client: ClientHashes,
    /// Sent from one of the commune's own networks (`DESK_NETWORKS`); the address itself is
    /// never stored.
    pub from_desk_network: bool,
    pub repeats: Repeats,
    pub now: DateTime<Utc>,
}

/// True when `token` could be a token at all (the invitations table's own check); anything else is
/// unknown without asking the database.
pub fn plausible_token(token: &str) -> bool {
    (22..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Stores a submission, or refuses it and stores nothing of it. The rate-limit counter is the one
/// thing a refused post leaves behind: it counts attempts, not successes.
pub fn submit(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: Submission,
) -> Result<Outcome, Refusal> {
    if !plausible_token(&sub.token) {
        return Err(Refusal::UnknownToken);
    }
    let window_start =
        sub.now.duration_trunc(Duration::minutes(RATE_WINDOW_MINUTES)).map_err(|_| Refusal::RateLimited)?;
    let count = store::count_submission(
        conn,
        &sub.client.client_hash,
        window_start,
        window_start - Duration::hours(1),
    )?;
    if count > i32::try_from(limits.per_client).unwrap_or(i32::MAX) {
        return Err(Refusal::RateLimited);
    }
    conn.transaction(|conn| store_submission(conn, instruments, limits, &sub))
}

fn store_submission(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: &Submission,
) -> Result<Outcome, Refusal> {
    let invitation = store::lock_invitation(conn, &sub.token)?.ok_or(Refusal::UnknownToken)?;
    let instrument = instruments
        .get(&invitation.instrument_id, &invitation.instrument_version)
        .cloned()
        .ok_or_else(|| {
            Refusal::UnknownInstrument(format!(
                "{} {}",
                invitation.instrument_id, invitation.instrument_version
            ))
        })?;
    let existing = store::response_of(conn, invitation.id)?;
    match &existing {
        None if sub.now > invitation.expires_at => return Err(Refusal::Expired),
        Some(r) if sub.now > r.submitted_at + limits.additions_window => return Err(Refusal::Spent),
        _ => {}
    }
    let mut new = sub.answers.parse(&instrument)?;
    let before = match &existing {
        Some(r) => store::answers_of(conn, r.id)?,
        None => AnswerSet::new(),
    };
    let mut repeats = Vec::new();
    for (code, value) in &new {
        match before.get(code) {
            Some(old) if sub.repeats == Repeats::IgnoreIdentical && old == value => {
                repeats.push(code.clone())
            }
            Some(_) => return Err(Refusal::AlreadyAnswered(code.clone())),
            None => {}
        }
    }
    for code in &repeats {
        new.remove(code);
    }
    let mut after = before.clone();
    after.extend(new.clone());
    check_response(&instrument, existing.is_none(), &after, &new)?;

    let (response_id, submitted_at, effect, held, assessment) = match &existing {
        None => {
            let assessment = checks::assess(
                conn,
                &limits.integrity,
                &checks::Arrival {
                    officer_code: &invitation.officer_code,
                    device_hash: &sub.client.device_hash,
                    issued_at: invitation.issued_at,
                    submitted_at: sub.now,
                    from_desk_network: sub.from_desk_network,
                    top_score: checks::top_score(&instrument, &after),
                },
            )?;
            let held = !assessment.own.is_empty();
            let id = store::insert_response(
                conn,
                &NewResponse {
                    invitation_id: invitation.id,
                    instrument_id: &invitation.instrument_id,
                    instrument_version: &invitation.instrument_version,
                    unit_code: &invitation.unit_code,
                    officer_code: &invitation.officer_code,
                    procedure_code: &invitation.procedure_code,
                    channel: &invitation.channel,
                    submitted_at: sub.now,
                    last_added_at: sub.now,
                    client_hash: Some(&sub.client.client_hash),
                    device_hash: Some(&sub.client.device_hash),
                    held,
                },
            )
            .map_err(|e| match e {
                // the row lock makes this unreachable in practice; the unique key is the guarantee
                DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    Refusal::AlreadyAnswered(OVERALL.to_string())
                }
                other => Refusal::Db(other),
            })?;
            (id, sub.now, Effect::Created, held, Some(assessment))
        }
        Some(r) if new.is_empty() => {
            if repeats.is_empty() {
                return Err(Refusal::NoAnswers);
            }
            return Ok(Outcome {
                effect: Effect::Unchanged,
                additions_until: r.submitted_at + limits.additions_window,
                instrument,
                answers: after,
            });
        }
        Some(r) => {
            store::touch_response(conn, r.id, sub.now)?;
            (r.id, r.submitted_at, Effect::Added, r.held, None)
        }
    };
    store::insert_answers(conn, response_id, &new, sub.now)?;
    let facts = ResponseFacts {
        response_id,
        submitted_at,
        unit_code: &invitation.unit_code,
        officer_code: &invitation.officer_code,
        procedure_code: &invitation.procedure_code,
        channel: &invitation.channel,
        // flagged answers are held out of the statistics until a leader reviews them genuine
        held,
    };
    rollup::apply_response_change(conn, &instrument, &facts, &before, &after)?;
    if let Some(assessment) = &assessment {
        checks::record(conn, instruments, response_id, assessment, sub.now)?;
    }
    checks::open_followup(
        conn,
        &limits.integrity,
        &checks::FollowupFacts {
            response_id,
            unit_code: &invitation.unit_code,
            officer_code: &invitation.officer_code,
        },
        &after,
        sub.now,
    )?;
    tracing::info!(
        response.id = response_id,
        effect = ?effect,
        items = new.len(),
        "response stored"
    );
    Ok(Outcome {
        effect,
        instrument,
        answers: after,
        additions_until: submitted_at + limits.additions_window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_shaped_strings_reach_the_database() {
        assert!(plausible_token("abcdefghijklmnopqrstuv"));
        assert!(plausible_token(&"A-_9".repeat(16)));
        assert!(!plausible_token("short"));
        assert!(!plausible_token(&"a".repeat(65)));
        assert!(!plausible_token("abcdefghijklmnopqrstu%"));
        assert!(!plausible_token("abcdefghijklmnopqrstuvé"));
    }
}
