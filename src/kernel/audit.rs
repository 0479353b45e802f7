//! The append-only audit log (the database refuses to change or delete its rows): the one writer
//! every capability records its changes with.

use diesel::prelude::*;

use crate::schema::audit_log;

/// Appends one row to the audit log.
pub fn audit(
    conn: &mut PgConnection,
    actor: &str,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::details.eq(details),
        ))
        .execute(conn)
        .map(|_| ())
}
