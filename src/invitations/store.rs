//! Plain diesel for issuing: master-data look-ups, invitations and their case links, the audit
//! record, and the windowed rate-limit counters.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::facts::{CaseFacts, Step};
use crate::kernel::survey_secrets;
use crate::schema::{
    case_facts, case_links, desk_keys, fields, invitations, officers, procedures, responses,
    unit_instruments, units,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = officers)]
pub struct Officer {
    pub code: String,
    pub name: String,
    pub unit_code: String,
    pub active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = procedures)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub field_code: String,
    pub active: bool,
}

/// An active procedure with its field's name, for the desk's picker.
#[derive(Debug, Clone, Queryable)]
pub struct ProcedureListing {
    pub code: String,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
}

/// An invitation as the database keeps it: its token and code only as lookup hashes and sealed
/// together (`kernel::survey_secrets`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct StoredInvitation {
    pub id: i64,
    pub sealed: Option<Vec<u8>>,
    pub unit_code: String,
    pub officer_code: String,
    pub procedure_code: String,
    pub channel: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub instrument_id: String,
    pub instrument_version: String,
}

impl StoredInvitation {
    /// With its token and code opened from the seal; `None` when the seal does not open (made
    /// under another `SECRET_KEY`, or a row a benchmark wrote without one).
    pub fn open(self, secret: &[u8]) -> Option<Invitation> {
        let (token, code) = survey_secrets::open(secret, self.id, self.sealed.as_deref()?)?;
        Some(Invitation {
            id: self.id,
            token,
            code,
            unit_code: self.unit_code,
            officer_code: self.officer_code,
            procedure_code: self.procedure_code,
            channel: self.channel,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            instrument_id: self.instrument_id,
            instrument_version: self.instrument_version,
        })
    }
}

/// An invitation with its token and code in clear: in memory only, just issued or just opened.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: i64,
    pub token: String,
    pub code: String,
    pub unit_code: String,
    pub officer_code: String,
    pub procedure_code: String,
    pub channel: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The questionnaire version the invitation answers.
    pub instrument_id: String,
    pub instrument_version: String,
}

/// A new invitation; [`insert`] stores its token and code as hashes and sealed, never in clear.
#[derive(Debug)]
pub struct NewInvitation<'a> {
    pub token: &'a str,
    pub code: &'a str,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
    pub instrument_id: &'a str,
    pub instrument_version: &'a str,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub issued_by: &'a str,
    pub fact_timing: Option<i16>,
    pub fact_i2_points: Option<i16>,
    pub preprinted: bool,
    /// The desk key whose signed token this invitation was made from (offline issuing); the
    /// token's nonce is its survey token, so the token's hash keeps it to one invitation.
    pub desk_key_id: Option<i64>,
}

/// What a printed slip shows: nothing about the resident, only the case's procedure and unit.
#[derive(Debug, Clone, Queryable)]
pub struct SlipRow {
    pub id: i64,
    pub token_hash: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub procedure_code: String,
    pub procedure_name: String,
    pub unit_name: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub instrument_id: String,
    pub instrument_version: String,
}

pub fn unit(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Unit>> {
    units::table.find(code).select(Unit::as_select()).first(conn).optional()
}

pub fn officer(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Officer>> {
    officers::table.find(code).select(Officer::as_select()).first(conn).optional()
}

pub fn procedure(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Procedure>> {
    procedures::table.find(code).select(Procedure::as_select()).first(conn).optional()
}

/// The questionnaire version a unit chose for its new invitations, as (id, version); `None`: the
/// default.
pub fn unit_instrument(conn: &mut PgConnection, unit_code: &str) -> QueryResult<Option<(String, String)>> {
    unit_instruments::table
        .find(unit_code)
        .select((unit_instruments::instrument_id, unit_instruments::instrument_version))
        .first(conn)
        .optional()
}

/// A unit's choice of questionnaire version, with who made it and when.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unit_instruments)]
pub struct UnitChoice {
    pub instrument_id: String,
    pub instrument_version: String,
    pub chosen_by: String,
    pub chosen_at: DateTime<Utc>,
}

/// A unit's choice with who made it and when.
pub fn unit_instrument_choice(conn: &mut PgConnection, unit_code: &str) -> QueryResult<Option<UnitChoice>> {
    unit_instruments::table.find(unit_code).select(UnitChoice::as_select()).first(conn).optional()
}

/// Sets a unit's choice (`None`: back to the default) and audits it, with the previous choice.
pub fn set_unit_instrument(
    conn: &mut PgConnection,
    unit_code: &str,
    choice: Option<(&str, &str)>,
    actor: &str,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        let before = unit_instrument(conn, unit_code)?;
        match choice {
            Some((id, version)) => {
                diesel::insert_into(unit_instruments::table)
                    .values((
                        unit_instruments::unit_code.eq(unit_code),
                        unit_instruments::instrument_id.eq(id),
                        unit_instruments::instrument_version.eq(version),
                        unit_instruments::chosen_by.eq(actor),
                    ))
                    .on_conflict(unit_instruments::unit_code)
                    .do_update()
                    .set((
                        unit_instruments::instrument_id.eq(id),
                        unit_instruments::instrument_version.eq(version),
                        unit_instruments::chosen_by.eq(actor),
                        unit_instruments::chosen_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
            }
            None => {
                diesel::delete(unit_instruments::table.find(unit_code)).execute(conn)?;
            }
        }
        let pair = |c: Option<(&str, &str)>| {
            c.map(|(i, v)| serde_json::json!({ "instrument": i, "version": v }))
                .unwrap_or(serde_json::Value::Null)
        };
        crate::kernel::audit::audit(
            conn,
            actor,
            "unit.instrument",
            unit_code,
            serde_json::json!({
                "before": pair(before.as_ref().map(|(i, v)| (i.as_str(), v.as_str()))),
                "after": pair(choice),
            }),
        )
    })
}

/// Every active procedure with its field, by code.
pub fn active_procedures(conn: &mut PgConnection) -> QueryResult<Vec<ProcedureListing>> {
    procedures::table
        .inner_join(fields::table)
        .filter(procedures::active.eq(true))
        .order(procedures::code.asc())
        .select((procedures::code, procedures::name, procedures::field_code, fields::name))
        .load(conn)
}

/// Every unit's code and name, by name: the units an admin may pair a desk computer with.
pub fn units(conn: &mut PgConnection) -> QueryResult<Vec<(String, String)>> {
    units::table.order((units::name.asc(), units::code.asc())).select((units::code, units::name)).load(conn)
}

/// The active officers of a unit, by name.
pub fn active_officers(conn: &mut PgConnection, unit_code: &str) -> QueryResult<Vec<Officer>> {
    officers::table
        .filter(officers::unit_code.eq(unit_code))
        .filter(officers::active.eq(true))
        .order((officers::name.asc(), officers::code.asc()))
        .select(Officer::as_select())
        .load(conn)
}

/// The invitation already bound to a unit's case number, if any.
pub fn by_case(
    conn: &mut PgConnection,
    unit_code: &str,
    case_number: &str,
) -> QueryResult<Option<StoredInvitation>> {
    case_links::table
        .inner_join(invitations::table)
        .filter(case_links::unit_code.eq(unit_code))
        .filter(case_links::case_number.eq(case_number))
        .select(StoredInvitation::as_select())
        .first(conn)
        .optional()
}

/// The invitation whose token has this hash (`survey_secrets::token_hash`).
pub fn by_token_hash(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<StoredInvitation>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(StoredInvitation::as_select())
        .first(conn)
        .optional()
}

/// The invitation whose typed code (upper-case, without separator) has this hash
/// (`survey_secrets::code_hash`).
pub fn by_code_hash(conn: &mut PgConnection, code_hash: &str) -> QueryResult<Option<StoredInvitation>> {
    invitations::table
        .filter(invitations::code_hash.eq(code_hash))
        .select(StoredInvitation::as_select())
        .first(conn)
        .optional()
}

/// Inserts an invitation, its token and code as keyed hashes under `secret` and sealed for its
/// row (the id is drawn first: it is the seal's associated data); `None` when its token or code
/// happens to exist already (the caller draws new ones). `ON CONFLICT DO NOTHING` keeps the
/// surrounding transaction usable.
pub fn insert(
    conn: &mut PgConnection,
    secret: &[u8],
    new: &NewInvitation<'_>,
) -> QueryResult<Option<Invitation>> {
    let id: i64 =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('invitations_id_seq')"))
            .get_result(conn)?;
    let inserted: Option<i64> = diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(id),
            invitations::token_hash.eq(survey_secrets::token_hash(secret, new.token)),
            invitations::code_hash.eq(survey_secrets::code_hash(secret, new.code)),
            invitations::sealed.eq(survey_secrets::seal(secret, id, new.token, new.code)),
            invitations::unit_code.eq(new.unit_code),
            invitations::officer_code.eq(new.officer_code),
            invitations::procedure_code.eq(new.procedure_code),
            invitations::channel.eq(new.channel),
            invitations::instrument_id.eq(new.instrument_id),
            invitations::instrument_version.eq(new.instrument_version),
            invitations::issued_at.eq(new.issued_at),
            invitations::expires_at.eq(new.expires_at),
            invitations::issued_by.eq(new.issued_by),
            invitations::fact_timing.eq(new.fact_timing),
            invitations::fact_i2_points.eq(new.fact_i2_points),
            invitations::preprinted.eq(new.preprinted),
            invitations::desk_key_id.eq(new.desk_key_id),
        ))
        .on_conflict_do_nothing()
        .returning(invitations::id)
        .get_result(conn)
        .optional()?;
    Ok(inserted.map(|id| Invitation {
        id,
        token: new.token.to_string(),
        code: new.code.to_string(),
        unit_code: new.unit_code.to_string(),
        officer_code: new.officer_code.to_string(),
        procedure_code: new.procedure_code.to_string(),
        channel: new.channel.to_string(),
        issued_at: new.issued_at,
        expires_at: new.expires_at,
        instrument_id: new.instrument_id.to_string(),
        instrument_version: new.instrument_version.to_string(),
    }))
}

/// Binds an invitation to a case number. A concurrent binding of the same case fails with a
/// unique violation, which the caller turns into "return the existing one".
pub fn link_case(
    conn: &mut PgConnection,
    invitation_id: i64,
    unit_code: &str,
    case_number: &str,
) -> QueryResult<()> {
    diesel::insert_into(case_links::table)
        .values((
            case_links::invitation_id.eq(invitation_id),
            case_links::unit_code.eq(unit_code),
            case_links::case_number.eq(case_number),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Slips for the given token hashes, in no particular order (unknown ones are left out).
pub fn slips(conn: &mut PgConnection, token_hashes: &[String]) -> QueryResult<Vec<SlipRow>> {
    invitations::table
        .inner_join(procedures::table)
        .inner_join(units::table)
        .filter(invitations::token_hash.eq_any(token_hashes))
        .select((
            invitations::id,
            invitations::token_hash,
            invitations::sealed,
            invitations::procedure_code,
            procedures::name,
            units::name,
            invitations::issued_at,
            invitations::expires_at,
            invitations::instrument_id,
            invitations::instrument_version,
        ))
        .load(conn)
}

/// The latest invitation one issuer handed over (slips printed in advance left out), and whether
/// it has been answered yet.
pub fn latest_by_issuer(
    conn: &mut PgConnection,
    issued_by: &str,
) -> QueryResult<Option<(StoredInvitation, bool)>> {
    let latest = invitations::table
        .filter(invitations::issued_by.eq(issued_by))
        .filter(invitations::preprinted.eq(false))
        .order((invitations::issued_at.desc(), invitations::id.desc()))
        .select(StoredInvitation::as_select())
        .first(conn)
        .optional()?;
    match latest {
        None => Ok(None),
        Some(inv) => {
            let answered = diesel::select(diesel::dsl::exists(
                responses::table.filter(responses::invitation_id.eq(inv.id)),
            ))
            .get_result(conn)?;
            Ok(Some((inv, answered)))
        }
    }
}

/// Stores the case facts an invitation came with.
pub fn insert_facts(conn: &mut PgConnection, invitation_id: i64, facts: &CaseFacts) -> QueryResult<()> {
    let steps = serde_json::to_value(&facts.steps).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()));
    diesel::insert_into(case_facts::table)
        .values((
            case_facts::invitation_id.eq(invitation_id),
            case_facts::received_at.eq(facts.received_at),
            case_facts::due_at.eq(facts.due_at),
            case_facts::extended_due_at.eq(facts.extended_due_at),
            case_facts::apology_letter.eq(facts.apology_letter),
            case_facts::returned_at.eq(facts.returned_at),
            case_facts::steps.eq(steps),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The case facts stored with an invitation, if any.
pub fn facts_of(conn: &mut PgConnection, invitation_id: i64) -> QueryResult<Option<CaseFacts>> {
    type Row = (
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        bool,
        Option<DateTime<Utc>>,
        serde_json::Value,
    );
    let row: Option<Row> = case_facts::table
        .find(invitation_id)
        .select((
            case_facts::received_at,
            case_facts::due_at,
            case_facts::extended_due_at,
            case_facts::apology_letter,
            case_facts::returned_at,
            case_facts::steps,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(received_at, due_at, extended_due_at, apology_letter, returned_at, steps)| CaseFacts {
        received_at,
        due_at,
        extended_due_at,
        apology_letter,
        returned_at,
        steps: serde_json::from_value::<Vec<Step>>(steps).unwrap_or_default(),
    }))
}

/// A desk computer's signing key: the public half of the Ed25519 pair its browser made.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = desk_keys)]
pub struct DeskKey {
    pub id: i64,
    pub unit_code: String,
    pub name: String,
    pub public_key: Vec<u8>,
    pub approved_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Registers a desk's public key, approved by the admin pairing it; `None` when that public key
/// is registered already.
pub fn insert_desk_key(
    conn: &mut PgConnection,
    unit_code: &str,
    name: &str,
    public_key: &[u8],
    approved_by: &str,
) -> QueryResult<Option<DeskKey>> {
    diesel::insert_into(desk_keys::table)
        .values((
            desk_keys::unit_code.eq(unit_code),
            desk_keys::name.eq(name),
            desk_keys::public_key.eq(public_key),
            desk_keys::approved_by.eq(approved_by),
        ))
        .on_conflict_do_nothing()
        .returning(DeskKey::as_returning())
        .get_result(conn)
        .optional()
}

pub fn desk_key(conn: &mut PgConnection, id: i64) -> QueryResult<Option<DeskKey>> {
    desk_keys::table.find(id).select(DeskKey::as_select()).first(conn).optional()
}

/// Every desk key, newest first.
pub fn desk_keys(conn: &mut PgConnection) -> QueryResult<Vec<DeskKey>> {
    desk_keys::table.order(desk_keys::id.desc()).select(DeskKey::as_select()).load(conn)
}

/// Revokes a desk key (a second revocation keeps the first time); `None` for an unknown id.
pub fn revoke_desk_key(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<Option<DeskKey>> {
    diesel::update(desk_keys::table.find(id).filter(desk_keys::revoked_at.is_null()))
        .set(desk_keys::revoked_at.eq(now))
        .execute(conn)?;
    desk_key(conn, id)
}

/// Notes that the desk's queued record of an offline invitation arrived; true the first time.
pub fn mark_offline_record(
    conn: &mut PgConnection,
    invitation_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(invitations::table.find(invitation_id).filter(invitations::offline_record_at.is_null()))
        .set(invitations::offline_record_at.eq(now))
        .execute(conn)
        .map(|n| n == 1)
}
