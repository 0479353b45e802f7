//! The submission core, shared by `POST /api/v1/responses/{token}` and the survey's HTML form.
//! Synchronous and free of HTTP: callers run it through `db::run`.

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};

use super::model::{Effect, Outcome, RawAnswers, Refusal, Repeats, check_response};
use super::store::{self, NewResponse};
use crate::followups::store::{Facts as FollowupFacts, open as open_followup};
use crate::http::client::{Client, ClientHashes};
use crate::instrument::{Instruments, OVERALL};
use crate::integrity::checks;
use crate::integrity::model::{Reason, Rules};
use crate::kernel::answers::AnswerSet;
use crate::kernel::ratelimit::Submissions;
use crate::kernel::survey_secrets;
use crate::stats::rollup::{self, PendingDeltas, ResponseFacts};

/// Length of one rate-limit window.
pub const RATE_WINDOW_MINUTES: i64 = 10;

/// The limits a submission is held to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Additions are accepted this long after the first response.
    pub additions_window: Duration,
    /// Submissions one client hash may make per rate-limit window.
    pub per_client: u32,
    /// The counters of the rate limit (the process's own, shared by its answer writers).
    pub submissions: Arc<Submissions>,
    /// The integrity checks' thresholds and the follow-up deadline.
    pub integrity: Rules,
}

impl Limits {
    pub fn new(config: &crate::config::Config, submissions: Arc<Submissions>) -> Self {
        Limits {
            additions_window: Duration::minutes(config.additions_window_minutes),
            per_client: config.submission_limit,
            submissions,
            integrity: Rules::from_config(config),
        }
    }
}

/// One post of answers for a token.
#[derive(Debug, Clone)]
pub struct Submission {
    pub token: String,
    /// The token's keyed hash, the invitations table's lookup key (`kernel::survey_secrets`).
    pub token_hash: String,
    pub answers: RawAnswers,
    pub client: ClientHashes,
    /// Sent from one of the commune's own networks (`DESK_NETWORKS`); the address itself is
    /// never stored.
    pub from_desk_network: bool,
    pub repeats: Repeats,
    pub now: DateTime<Utc>,
}

impl Submission {
    /// A post of answers for `token` from `client`, now: what both faces (the JSON API and the
    /// survey's form) submit. `secret` is the service's: the token is looked up by its hash.
    pub fn new(secret: &[u8], token: String, answers: RawAnswers, client: &Client, repeats: Repeats) -> Self {
        Submission {
            token_hash: survey_secrets::token_hash(secret, &token),
            token,
            answers,
            client: client.hashes.clone(),
            from_desk_network: client.from_desk_network,
            repeats,
            now: Utc::now(),
        }
    }
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
    let count = limits.submissions.count(
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

/// Stores several submissions in one transaction (group commit, see `committer`), without
/// savepoints: each is first checked with reads only ([`prepare`]; a refusal writes nothing and
/// leaves the transaction usable), then written ([`write`]). Submissions run in token order (two
/// batches lock shared invitations in the same order); a later one sees the earlier ones, as if
/// they had come one after the other. The results are in the order of `subs` and final only once
/// this returns `Ok` (the commit). Any database error — in a read, a write or the commit — rolls
/// the whole batch back and is returned: the caller then stores each submission alone.
///
/// Why no savepoint per submission: a transaction with more than 64 subtransactions overflows
/// PostgreSQL's per-backend cache of them, and every other session's visibility checks then read
/// `pg_subtrans`; measured, that made each FK check and index probe several times slower.
pub fn submit_batch(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    subs: &[Submission],
    spans: &[tracing::Span],
) -> Result<Vec<Result<Outcome, Refusal>>, DbError> {
    let mut order: Vec<usize> = (0..subs.len()).collect();
    order.sort_by(|&a, &b| subs[a].token.cmp(&subs[b].token).then(a.cmp(&b)));
    conn.transaction(|conn| {
        let mut deltas = PendingDeltas::default();
        let mut counts = count_submissions(conn, &limits.submissions, subs, &order)?;
        let mut results: Vec<Option<Result<Outcome, Refusal>>> = subs.iter().map(|_| None).collect();
        for &i in &order {
            let sub = &subs[i];
            let _entered = spans.get(i).map(|s| s.enter());
            let result = match std::mem::replace(&mut counts[i], Err(Refusal::NoAnswers)) {
                Err(refusal) => Err(refusal),
                Ok(count) if count > i32::try_from(limits.per_client).unwrap_or(i32::MAX) => {
                    Err(Refusal::RateLimited)
                }
                Ok(_) => match settle(conn, instruments, limits, sub, &mut deltas) {
                    Ok(Err(Refusal::Db(e))) => return Err(e),
                    Ok(result) => result,
                    // the transaction is aborted: nothing of the batch stays
                    Err(Refusal::Db(e)) => return Err(e),
                    Err(other) => {
                        return Err(DbError::QueryBuilderError(format!("write refused: {other}").into()));
                    }
                },
            };
            results[i] = Some(result);
        }
        deltas.flush(conn)?;
        Ok(results.into_iter().map(|r| r.unwrap_or(Err(Refusal::NoAnswers))).collect())
    })
}

/// Counts every plausible submission of a batch against its client's rate-limit window in one
/// statement, and returns for each what [`Submissions::count`] would have returned had they
/// come one after the other in `order`. Implausible tokens are refused without counting.
fn count_submissions(
    conn: &mut PgConnection,
    counters: &Submissions,
    subs: &[Submission],
    order: &[usize],
) -> QueryResult<Vec<Result<i32, Refusal>>> {
    let mut out: Vec<Result<i32, Refusal>> = subs.iter().map(|_| Err(Refusal::UnknownToken)).collect();
    // (client, window) -> submissions of the batch in it, in order
    let mut groups: std::collections::BTreeMap<(&str, DateTime<Utc>), Vec<usize>> = Default::default();
    for &i in order {
        let sub = &subs[i];
        if !plausible_token(&sub.token) {
            continue;
        }
        match sub.now.duration_trunc(Duration::minutes(RATE_WINDOW_MINUTES)) {
            Ok(window) => groups.entry((sub.client.client_hash.as_str(), window)).or_default().push(i),
            Err(_) => out[i] = Err(Refusal::RateLimited),
        }
    }
    if groups.is_empty() {
        return Ok(out);
    }
    let wanted: Vec<(&str, DateTime<Utc>, i32)> = groups
        .iter()
        .map(|((client, window), members)| {
            (*client, *window, i32::try_from(members.len()).unwrap_or(i32::MAX))
        })
        .collect();
    let totals = counters.count_batch(conn, &wanted)?;
    let mut opened = None;
    for ((key, members), total) in groups.iter().zip(totals) {
        let k = i32::try_from(members.len()).unwrap_or(i32::MAX);
        if total == k {
            opened = Some(opened.map_or(key.1, |w: DateTime<Utc>| w.min(key.1)));
        }
        for (j, &i) in members.iter().enumerate() {
            out[i] = Ok(total - k + 1 + i32::try_from(j).unwrap_or(i32::MAX));
        }
    }
    if let Some(window) = opened {
        counters.purge(conn, window - Duration::hours(1))?;
    }
    Ok(out)
}

/// Stores one submission in the caller's transaction, or refuses it; every write of a refused
/// submission must be rolled back by the caller.
pub fn store_submission(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: &Submission,
) -> Result<Outcome, Refusal> {
    let mut deltas = PendingDeltas::default();
    let outcome = settle(conn, instruments, limits, sub, &mut deltas)??;
    deltas.flush(conn)?;
    Ok(outcome)
}

/// [`prepare`], then [`write`]; prepares once more when the write finds that the invitation got
/// its response from another submission of the token meanwhile (see
/// `store::lock_invitation`), which the second preparation then sees. `Ok(Err(refusal))`: refused
/// with nothing written, the transaction still usable; `Err`: the write failed, the transaction
/// must be rolled back.
fn settle(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: &Submission,
    deltas: &mut PendingDeltas,
) -> Result<Result<Outcome, Refusal>, Refusal> {
    for _ in 0..2 {
        match prepare(conn, instruments, limits, sub) {
            Err(refusal) => return Ok(Err(refusal)),
            Ok(Step::Done(outcome)) => return Ok(Ok(outcome)),
            Ok(Step::Write(plan)) => {
                if let Some(outcome) = write(conn, limits, sub, *plan, deltas)? {
                    return Ok(Ok(outcome));
                }
            }
        }
    }
    // the second preparation locked the invitation with its response committed before the lock
    // was granted, so it saw it: unreachable, and the unique key is the guarantee
    Ok(Err(Refusal::AlreadyAnswered(OVERALL.to_string())))
}

/// What [`prepare`] decided.
pub enum Step {
    /// Nothing to write (every item repeated with the same value).
    Done(Outcome),
    /// Accepted: these writes make it so.
    Write(Box<Plan>),
}

/// An accepted submission, checked, before any write.
pub struct Plan {
    invitation: store::InvitationRow,
    instrument: std::sync::Arc<crate::instrument::Instrument>,
    existing: Option<store::ResponseRow>,
    new: AnswerSet,
    before: AnswerSet,
    after: AnswerSet,
    assessment: Option<checks::Assessment>,
}

/// Every check of a submission, with reads and a lock only (the invitation's row): a refusal has
/// written nothing.
///
/// A refusal made when the lock's statement saw no response is confirmed by locking again: that
/// statement may have missed a response another submission of the token committed while this one
/// waited for the lock (`store::lock_invitation`), and an addition, a repeat or a late post
/// judged as a first response would be refused wrongly.
pub fn prepare(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: &Submission,
) -> Result<Step, Refusal> {
    let locked = store::lock_invitation(conn, &sub.token_hash)?.ok_or(Refusal::UnknownToken)?;
    let saw_none = locked.response.is_none();
    match plan(conn, instruments, limits, sub, locked) {
        Err(refusal) if saw_none && !matches!(refusal, Refusal::Db(_)) => {
            match store::lock_invitation(conn, &sub.token_hash)? {
                Some(again) if again.response.is_some() => plan(conn, instruments, limits, sub, again),
                _ => Err(refusal),
            }
        }
        other => other,
    }
}

/// The checks of [`prepare`] on what the lock read.
fn plan(
    conn: &mut PgConnection,
    instruments: &Instruments,
    limits: &Limits,
    sub: &Submission,
    locked: store::Locked,
) -> Result<Step, Refusal> {
    let store::Locked { invitation, response: existing, first_shown: shown_at } = locked;
    let instrument = instruments
        .get(&invitation.instrument_id, &invitation.instrument_version)
        .cloned()
        .ok_or_else(|| {
            Refusal::UnknownInstrument(format!(
                "{} {}",
                invitation.instrument_id, invitation.instrument_version
            ))
        })?;
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
    let assessment = match &existing {
        None => Some(checks::assess(
            conn,
            &limits.integrity,
            &checks::Arrival {
                officer_code: &invitation.officer_code,
                device_hash: sub.client.device_hash.as_deref(),
                issued_at: invitation.issued_at,
                shown_at,
                submitted_at: sub.now,
                from_desk_network: sub.from_desk_network,
                top_score: checks::top_score(&instrument, &after),
            },
        )?),
        Some(r) if new.is_empty() => {
            if repeats.is_empty() {
                return Err(Refusal::NoAnswers);
            }
            return Ok(Step::Done(Outcome {
                effect: Effect::Unchanged,
                additions_until: r.submitted_at + limits.additions_window,
                instrument,
                answers: after,
            }));
        }
        Some(_) => None,
    };
    Ok(Step::Write(Box::new(Plan { invitation, instrument, existing, new, before, after, assessment })))
}

/// The writes of an accepted submission; its roll-up deltas go to `deltas`, which the caller
/// flushes before committing. `None`, with nothing written, when the plan took the submission for
/// the invitation's first response and the invitation has one (committed by another submission
/// of the token while this one waited for the lock): the caller prepares again. Fails only with
/// the database (a unique violation on the response is reported as `already_answered`).
pub fn write(
    conn: &mut PgConnection,
    limits: &Limits,
    sub: &Submission,
    plan: Plan,
    deltas: &mut PendingDeltas,
) -> Result<Option<Outcome>, Refusal> {
    let Plan { invitation, instrument, existing, new, before, after, assessment } = plan;
    let (response_id, submitted_at, effect, held) = match &existing {
        None => {
            let held = assessment.as_ref().is_some_and(|a| !a.own.is_empty());
            let top_score = checks::top_score(&instrument, &after).is_some();
            let id = store::insert_response_with_answers(
                conn,
                NewResponse {
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
                    device_hash: sub.client.device_hash.as_deref(),
                    held,
                    top_score,
                    completed_burst: assessment.as_ref().is_some_and(|a| a.own.contains(&Reason::Burst)),
                    flags: assessment
                        .as_ref()
                        .map_or_else(Vec::new, |a| a.own.iter().map(|r| r.code()).collect()),
                },
                &new,
            )
            .map_err(|e| match e {
                DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    Refusal::AlreadyAnswered(OVERALL.to_string())
                }
                other => Refusal::Db(other),
            })?;
            let Some(id) = id else { return Ok(None) };
            (id, sub.now, Effect::Created, held)
        }
        Some(r) => {
            store::touch_response(conn, r.id, sub.now)?;
            store::insert_answers(conn, r.id, &new, sub.now)?;
            (r.id, r.submitted_at, Effect::Added, r.held)
        }
    };
    let facts = ResponseFacts {
        response_id,
        submitted_at,
        unit_code: &invitation.unit_code,
        officer_code: &invitation.officer_code,
        procedure_code: &invitation.procedure_code,
        channel: &invitation.channel,
        // flagged answers are held out of the statistics until a leader reviews them genuine
        held,
        case: crate::stats::model::CaseScores {
            timing: invitation.fact_timing,
            i2_points: invitation.fact_i2_points,
        },
    };
    rollup::apply_response_change(conn, &instrument, &facts, &before, &after, deltas)?;
    if let Some(assessment) = &assessment {
        checks::queue_others(conn, response_id, assessment, sub.now)?;
    }
    open_followup(
        conn,
        limits.integrity.followup_days,
        &FollowupFacts {
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
    Ok(Some(Outcome {
        effect,
        instrument,
        answers: after,
        additions_until: submitted_at + limits.additions_window,
    }))
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
