//! Reading master data for the staff pages (lists, names for labels) and the one change the
//! pages make besides importing: activating or deactivating an officer. Plain sync diesel.

use diesel::prelude::*;
use serde_json::json;

use crate::kernel::audit::audit;
use crate::schema::{api_keys, fields, officers, procedures, units};

#[derive(Queryable, Debug, Clone)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub province_code: String,
}

#[derive(Queryable, Debug, Clone)]
pub struct OfficerRow {
    pub code: String,
    pub name: String,
    pub unit_code: String,
    pub active: bool,
}

#[derive(Queryable, Debug, Clone)]
pub struct ProcedureRow {
    pub code: String,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
    pub active: bool,
}

#[derive(Queryable, Debug, Clone)]
pub struct FieldRow {
    pub code: String,
    pub name: String,
}

#[derive(Queryable, Debug, Clone)]
pub struct ApiKeyRow {
    pub id: i64,
    pub unit_code: String,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn units(conn: &mut PgConnection) -> QueryResult<Vec<UnitRow>> {
    units::table.select((units::code, units::name, units::province_code)).order(units::code).load(conn)
}

/// Officers, of one unit or of all.
pub fn officers(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<OfficerRow>> {
    let mut q = officers::table
        .select((officers::code, officers::name, officers::unit_code, officers::active))
        .order((officers::unit_code, officers::code))
        .into_boxed();
    if let Some(unit) = unit {
        q = q.filter(officers::unit_code.eq(unit.to_string()));
    }
    q.load(conn)
}

pub fn officer(conn: &mut PgConnection, code: &str) -> QueryResult<Option<OfficerRow>> {
    officers::table
        .find(code)
        .select((officers::code, officers::name, officers::unit_code, officers::active))
        .first(conn)
        .optional()
}

pub fn procedures(conn: &mut PgConnection) -> QueryResult<Vec<ProcedureRow>> {
    procedures::table
        .inner_join(fields::table)
        .select((
            procedures::code,
            procedures::name,
            procedures::field_code,
            fields::name,
            procedures::active,
        ))
        .order(procedures::code)
        .load(conn)
}

pub fn fields(conn: &mut PgConnection) -> QueryResult<Vec<FieldRow>> {
    fields::table.select((fields::code, fields::name)).order(fields::code).load(conn)
}

pub fn api_keys(conn: &mut PgConnection) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .select((
            api_keys::id,
            api_keys::unit_code,
            api_keys::name,
            api_keys::created_at,
            api_keys::last_used_at,
            api_keys::revoked_at,
        ))
        .order(api_keys::id.desc())
        .load(conn)
}

/// Activates or deactivates an officer (a deactivated officer keeps their results but can no
/// longer be issued for); returns false when there is no such officer.
pub fn set_officer_active(
    conn: &mut PgConnection,
    code: &str,
    active: bool,
    actor: &str,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let n = diesel::update(officers::table.find(code))
            .set((officers::active.eq(active), officers::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        if n == 0 {
            return Ok(false);
        }
        let action = if active { "officer.activate" } else { "officer.deactivate" };
        audit(conn, actor, action, &format!("officer:{code}"), json!({}))?;
        Ok(true)
    })
}
