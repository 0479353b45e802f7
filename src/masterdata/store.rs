//! Master data in the database: writing checked files (one transaction per file, so a file is
//! stored whole or not at all), the reads the pages list and label with, and the one change the
//! pages make besides importing, an officer's status. Plain sync diesel.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::import::{ImportError, Rows};
use crate::kernel::audit::audit;
use crate::schema::{fields, officers, procedures, units};

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Row(ImportError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// How many rows were new and how many updated an existing code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
}

/// Stores the rows of one file in one transaction; `actor` goes to the audit log.
pub fn import(conn: &mut PgConnection, rows: &Rows, actor: &str) -> Result<Summary, StoreError> {
    conn.transaction(|conn| {
        let (table, codes): (&str, Vec<&str>) = match rows {
            Rows::Units(r) => ("units", r.iter().map(|u| u.code.as_str()).collect()),
            Rows::Officers(r) => ("officers", r.iter().map(|o| o.code.as_str()).collect()),
            Rows::Procedures(r) => ("procedures", r.iter().map(|p| p.code.as_str()).collect()),
        };
        let existing: i64 = match rows {
            Rows::Units(_) => units::table.filter(units::code.eq_any(&codes)).count().get_result(conn)?,
            Rows::Officers(_) => {
                officers::table.filter(officers::code.eq_any(&codes)).count().get_result(conn)?
            }
            Rows::Procedures(_) => {
                procedures::table.filter(procedures::code.eq_any(&codes)).count().get_result(conn)?
            }
        };
        match rows {
            Rows::Units(rows) => {
                for chunk in rows.chunks(1000) {
                    let values: Vec<_> = chunk
                        .iter()
                        .map(|u| {
                            (
                                units::code.eq(&u.code),
                                units::name.eq(&u.name),
                                units::province_code.eq(&u.province_code),
                            )
                        })
                        .collect();
                    diesel::insert_into(units::table)
                        .values(values)
                        .on_conflict(units::code)
                        .do_update()
                        .set((
                            units::name.eq(excluded(units::name)),
                            units::province_code.eq(excluded(units::province_code)),
                            units::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(conn)?;
                }
            }
            Rows::Officers(rows) => {
                let wanted: Vec<&str> = rows.iter().map(|o| o.unit_code.as_str()).collect();
                let known: HashSet<String> = units::table
                    .filter(units::code.eq_any(&wanted))
                    .select(units::code)
                    .load(conn)?
                    .into_iter()
                    .collect();
                if let Some(o) = rows.iter().find(|o| !known.contains(&o.unit_code)) {
                    return Err(StoreError::Row(ImportError {
                        line: o.line,
                        column: Some((o.unit_column, "unit_code".into())),
                        problem: format!("unit `{}` does not exist; import units first", o.unit_code),
                    }));
                }
                for chunk in rows.chunks(1000) {
                    let values: Vec<_> = chunk
                        .iter()
                        .map(|o| {
                            (
                                officers::code.eq(&o.code),
                                officers::name.eq(&o.name),
                                officers::unit_code.eq(&o.unit_code),
                            )
                        })
                        .collect();
                    diesel::insert_into(officers::table)
                        .values(values)
                        .on_conflict(officers::code)
                        .do_update()
                        .set((
                            officers::name.eq(excluded(officers::name)),
                            officers::unit_code.eq(excluded(officers::unit_code)),
                            officers::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(conn)?;
                }
            }
            Rows::Procedures(rows) => {
                let mut seen = HashSet::new();
                let field_values: Vec<_> = rows
                    .iter()
                    .filter(|p| seen.insert(p.field_code.as_str()))
                    .map(|p| (fields::code.eq(&p.field_code), fields::name.eq(&p.field_name)))
                    .collect();
                diesel::insert_into(fields::table)
                    .values(field_values)
                    .on_conflict(fields::code)
                    .do_update()
                    .set((fields::name.eq(excluded(fields::name)), fields::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)?;
                for chunk in rows.chunks(1000) {
                    let values: Vec<_> = chunk
                        .iter()
                        .map(|p| {
                            (
                                procedures::code.eq(&p.code),
                                procedures::name.eq(&p.name),
                                procedures::field_code.eq(&p.field_code),
                            )
                        })
                        .collect();
                    diesel::insert_into(procedures::table)
                        .values(values)
                        .on_conflict(procedures::code)
                        .do_update()
                        .set((
                            procedures::name.eq(excluded(procedures::name)),
                            procedures::field_code.eq(excluded(procedures::field_code)),
                            procedures::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(conn)?;
                }
            }
        }
        let updated = usize::try_from(existing).unwrap_or(0);
        let summary = Summary { created: rows.len() - updated, updated };
        audit(
            conn,
            actor,
            "masterdata.import",
            table,
            serde_json::json!({"created": summary.created, "updated": summary.updated}),
        )?;
        Ok(summary)
    })
}

// ------------------------------------------------------------------ reads, and officers' status

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
        audit(conn, actor, action, &format!("officer:{code}"), serde_json::json!({}))?;
        Ok(true)
    })
}
