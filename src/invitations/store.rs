//! Plain diesel for issuing: master-data look-ups, invitations and their case links, the audit
//! record, and the windowed rate-limit counters.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::facts::{CaseFacts, Step};
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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
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

#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
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
    /// The desk key whose signed token this invitation was made from (offline issuing).
    pub desk_key_id: Option<i64>,
    /// That token's nonce: unique, so a token makes one invitation however often it arrives.
    pub offline_nonce: Option<&'a [u8]>,
}

/// What a printed slip shows: nothing about the resident, only the case's procedure and unit.
#[derive(Debug, Clone, Queryable)]
pub struct SlipRow {
    pub token: String,
    pub code: String,
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
) -> QueryResult<Option<Invitation>> {
    case_links::table
        .inner_join(invitations::table)
        .filter(case_links::unit_code.eq(unit_code))
        .filter(case_links::case_number.eq(case_number))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

pub fn by_token(conn: &mut PgConnection, token: &str) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::token.eq(token))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The token of a typed code (stored upper-case, without separator).
pub fn token_of_code(conn: &mut PgConnection, code: &str) -> QueryResult<Option<String>> {
    invitations::table.filter(invitations::code.eq(code)).select(invitations::token).first(conn).optional()
}

/// Inserts an invitation; `None` when its token or code happens to exist already (the caller
/// draws new ones). `ON CONFLICT DO NOTHING` keeps the surrounding transaction usable.
pub fn insert(conn: &mut PgConnection, new: &NewInvitation<'_>) -> QueryResult<Option<Invitation>> {
    diesel::insert_into(invitations::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(Invitation::as_returning())
        .get_result(conn)
        .optional()
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

/// Slips for the given tokens, in no particular order (unknown tokens are left out).
pub fn slips(conn: &mut PgConnection, tokens: &[String]) -> QueryResult<Vec<SlipRow>> {
    invitations::table
        .inner_join(procedures::table)
        .inner_join(units::table)
        .filter(invitations::token.eq_any(tokens))
        .select((
            invitations::token,
            invitations::code,
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
pub fn latest_by_issuer(conn: &mut PgConnection, issued_by: &str) -> QueryResult<Option<(Invitation, bool)>> {
    let latest = invitations::table
        .filter(invitations::issued_by.eq(issued_by))
        .filter(invitations::preprinted.eq(false))
        .order((invitations::issued_at.desc(), invitations::id.desc()))
        .select(Invitation::as_select())
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

/// The invitation made from the offline token with this nonce, if any.
pub fn by_nonce(conn: &mut PgConnection, nonce: &[u8]) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::offline_nonce.eq(nonce))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
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
