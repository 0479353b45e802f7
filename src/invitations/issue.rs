//! Issuing one invitation inside the caller's transaction: master data checked, idempotent by
//! (unit, case number), counted in the roll-ups and written to the audit log. Plain sync code on
//! a connection, shared by the single and the batch endpoints.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};

use super::facts::{CaseFacts, RawFacts};
use super::model::{CaseNumber, Channel, TypedCode, new_token};
use super::store::{self, Invitation, NewInvitation};
use crate::instrument::Instruments;
use crate::kernel::audit::audit;
use crate::stats::rollup::{self, InvitationFacts};

/// One request to issue, as the caller sent it (nothing trusted yet).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub procedure_code: Option<String>,
    pub officer_code: Option<String>,
    pub unit_code: Option<String>,
    pub case_number: Option<String>,
    pub channel: Option<String>,
    /// Case facts from the one-stop system, all optional.
    pub facts: RawFacts,
}

/// Who issues, with what, and when; the same for every item of a batch.
#[derive(Clone)]
pub struct Context<'a> {
    /// Whether the caller may issue for a unit (an API key: its own unit only).
    pub may_issue_for: &'a dyn Fn(&str) -> bool,
    /// Whether the caller may credit an officer code: an officer's session only itself, so
    /// nobody books answers against a colleague; a leader, an admin or an API key anyone.
    pub may_credit: &'a dyn Fn(&str) -> bool,
    /// True for slips printed in advance (a batch): they wait in a drawer, so the customer
    /// screen never shows them as the slip just handed over.
    pub preprinted: bool,
    /// Recorded as `issued_by` and as the audit actor (`api-key:<id>`, `user:<id>`).
    pub actor: &'a str,
    /// The published versions: an invitation answers its unit's chosen version, else the default
    /// ([`Instruments::for_unit`]).
    pub instruments: &'a Instruments,
    pub ttl_days: i64,
    pub now: DateTime<Utc>,
    /// The service secret: the token and code are stored as its keyed hashes and sealed under it.
    pub secret: &'a [u8],
}

/// What issuing did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A new invitation (201).
    Created(Invitation),
    /// The case number already had one; nothing was written (200).
    Existing(Invitation),
}

/// Why a request was refused; nothing was written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: RefusalStatus,
    pub code: &'static str,
    pub message: String,
}

/// Why an issue request is refused, as its HTTP status says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalStatus {
    /// 403: the caller may not issue for the unit named.
    Forbidden,
    /// 422: the body names something that cannot be issued.
    Unprocessable,
    /// 409: the case number's invitation exists but its sealed token does not open (sealed
    /// under another `SECRET_KEY`, so its slip is dead anyway).
    Conflict,
}

impl RefusalStatus {
    /// The HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            RefusalStatus::Forbidden => 403,
            RefusalStatus::Unprocessable => 422,
            RefusalStatus::Conflict => 409,
        }
    }
}

#[derive(Debug)]
pub enum IssueError {
    Refused(Refusal),
    Db(DbError),
}

impl From<DbError> for IssueError {
    fn from(e: DbError) -> Self {
        IssueError::Db(e)
    }
}

fn refuse(status: RefusalStatus, code: &'static str, message: impl Into<String>) -> IssueError {
    IssueError::Refused(Refusal { status, code, message: message.into() })
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, IssueError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(refuse(RefusalStatus::Unprocessable, "missing_field", format!("{field} is required."))),
    }
}

/// Draws a fresh token and code until both are unused (a clash is astronomically rare).
const INSERT_ATTEMPTS: usize = 5;

/// Issues one invitation, or returns the one its case number already has. Runs the writes in a
/// savepoint, so a refused or raced item leaves the caller's transaction (a batch) usable.
pub fn issue(conn: &mut PgConnection, ctx: &Context<'_>, req: &Request) -> Result<Outcome, IssueError> {
    let unit_code = required(&req.unit_code, "unit_code")?;
    let officer_code = required(&req.officer_code, "officer_code")?;
    let procedure_code = required(&req.procedure_code, "procedure_code")?;
    let channel = match req.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Channel::default(),
        Some(c) => Channel::parse(c).ok_or_else(|| {
            refuse(
                RefusalStatus::Unprocessable,
                "invalid_channel",
                format!("channel `{c}` is not one of desk, online, postal."),
            )
        })?,
    };
    let case_number = CaseNumber::parse(req.case_number.as_deref())
        .map_err(|m| refuse(RefusalStatus::Unprocessable, "invalid_case_number", m))?;
    let facts = CaseFacts::parse(&req.facts, ctx.now)
        .map_err(|e| refuse(RefusalStatus::Unprocessable, "invalid_case_facts", e.message))?;

    let unit = store::unit(conn, unit_code)?.ok_or_else(|| {
        refuse(
            RefusalStatus::Unprocessable,
            "unknown_unit",
            format!("unit_code `{unit_code}` is not a known unit."),
        )
    })?;
    if !(ctx.may_issue_for)(&unit.code) {
        return Err(refuse(
            RefusalStatus::Forbidden,
            "forbidden",
            format!("The caller may not issue for unit_code `{}`.", unit.code),
        ));
    }
    if !(ctx.may_credit)(officer_code) {
        return Err(refuse(
            RefusalStatus::Forbidden,
            "forbidden_officer",
            format!(
                "An officer's session issues for that officer only; officer_code `{officer_code}` is someone else."
            ),
        ));
    }
    let officer = store::officer(conn, officer_code)?.ok_or_else(|| {
        refuse(
            RefusalStatus::Unprocessable,
            "unknown_officer",
            format!("officer_code `{officer_code}` is not a known officer."),
        )
    })?;
    if officer.unit_code != unit.code {
        return Err(refuse(
            RefusalStatus::Unprocessable,
            "officer_not_in_unit",
            format!("officer_code `{}` does not belong to unit {}.", officer.code, unit.code),
        ));
    }
    let procedure = store::procedure(conn, procedure_code)?.ok_or_else(|| {
        refuse(
            RefusalStatus::Unprocessable,
            "unknown_procedure",
            format!("procedure_code `{procedure_code}` is not a known procedure."),
        )
    })?;

    // Idempotency comes before the "still active" checks: a retry of a request that succeeded
    // must get the same answer even if the officer has left since.
    if let Some(case) = &case_number
        && let Some(existing) = store::by_case(conn, &unit.code, case.as_str())?
    {
        return reissue(existing, ctx.secret).map(Outcome::Existing);
    }
    if !officer.active {
        return Err(refuse(
            RefusalStatus::Unprocessable,
            "inactive_officer",
            format!("officer_code `{}` belongs to an officer who is no longer active.", officer.code),
        ));
    }
    if !procedure.active {
        return Err(refuse(
            RefusalStatus::Unprocessable,
            "inactive_procedure",
            format!("procedure_code `{}` is a procedure that is no longer active.", procedure.code),
        ));
    }

    let choice = store::unit_instrument(conn, &unit.code)?;
    let instrument = ctx.instruments.for_unit(choice.as_ref().map(|(i, v)| (i.as_str(), v.as_str())));
    let issued_at = ctx.now;
    let expires_at = issued_at + Duration::days(ctx.ttl_days);
    let written = conn.transaction::<_, DbError, _>(|conn| {
        let mut inserted = None;
        for _ in 0..INSERT_ATTEMPTS {
            let token = new_token();
            let code = TypedCode::generate();
            let new = NewInvitation {
                token: &token,
                code: code.as_str(),
                unit_code: &unit.code,
                officer_code: &officer.code,
                procedure_code: &procedure.code,
                channel: channel.as_str(),
                instrument_id: &instrument.meta.id,
                instrument_version: &instrument.meta.version,
                issued_at,
                expires_at,
                issued_by: ctx.actor,
                fact_timing: facts.timing(),
                fact_i2_points: facts.i2_points(),
                preprinted: ctx.preprinted,
                desk_key_id: None,
            };
            if let Some(inv) = store::insert(conn, ctx.secret, &new)? {
                inserted = Some(inv);
                break;
            }
        }
        let inv = inserted.ok_or(DbError::RollbackTransaction)?;
        if let Some(case) = &case_number {
            store::link_case(conn, inv.id, &unit.code, case.as_str())?;
        }
        if !facts.is_empty() {
            store::insert_facts(conn, inv.id, &facts)?;
        }
        rollup::apply_invitation_issued(
            conn,
            &InvitationFacts {
                issued_at,
                unit_code: &unit.code,
                officer_code: &officer.code,
                procedure_code: &procedure.code,
                channel: channel.as_str(),
            },
        )?;
        // The case number stays out of the append-only log: case links must remain purgeable.
        audit(
            conn,
            ctx.actor,
            "invitation.issue",
            &format!("invitation:{}", inv.id),
            serde_json::json!({
                "unit_code": unit.code,
                "officer_code": officer.code,
                "procedure_code": procedure.code,
                "channel": channel.as_str(),
                "with_case_number": case_number.is_some(),
                "with_case_facts": !facts.is_empty(),
                "preprinted": ctx.preprinted,
            }),
        )?;
        Ok(inv)
    });
    match written {
        Ok(inv) => Ok(Outcome::Created(inv)),
        // Another request bound the same case number between our look-up and our insert.
        Err(DbError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) if case_number.is_some() => {
            let case = case_number.as_ref().map(CaseNumber::as_str).unwrap_or_default();
            let existing =
                store::by_case(conn, &unit.code, case)?.ok_or(IssueError::Db(DbError::NotFound))?;
            reissue(existing, ctx.secret).map(Outcome::Existing)
        }
        Err(e) => Err(IssueError::Db(e)),
    }
}

/// The invitation a case number already has, its token and code opened from the seal.
fn reissue(existing: store::StoredInvitation, secret: &[u8]) -> Result<Invitation, IssueError> {
    existing.open(secret).ok_or_else(|| {
        refuse(
            RefusalStatus::Conflict,
            "invitation_unreadable",
            "This case number already has an invitation, sealed under another secret key: its slip \
             can no longer be shown or answered (SECRET_KEY was changed since it was issued).",
        )
    })
}
