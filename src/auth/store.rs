//! The staff accounts as sessions read them: the active account behind a session, re-checked
//! on every request. Plain sync diesel.

use diesel::prelude::*;

use super::role::{Role, Scope};
use crate::schema::users;

/// What a session needs to re-check on every request.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub scope: Scope,
    pub session_epoch: i32,
}

/// The active account behind a session, if it still exists and its sessions are still valid.
pub fn session_user(conn: &mut PgConnection, id: i64, epoch: i32) -> QueryResult<Option<SessionUser>> {
    type Row = (String, String, Option<String>, Option<String>, i32);
    let row: Option<Row> = users::table
        .find(id)
        .filter(users::active.eq(true))
        .filter(users::session_epoch.eq(epoch))
        .select((users::username, users::role, users::unit_code, users::officer_code, users::session_epoch))
        .first(conn)
        .optional()?;
    let Some((username, role, unit, officer, session_epoch)) = row else { return Ok(None) };
    let Ok(role) = role.parse::<Role>() else { return Ok(None) };
    let Ok(scope) = Scope::new(role, unit, officer) else { return Ok(None) };
    Ok(Some(SessionUser { id, username, scope, session_epoch }))
}
