//! The survey's own writes: the language a resident chose, remembered on their token.

use diesel::prelude::*;

use crate::schema::invitations;

/// Remembers the language chosen on this invitation (`vi`, `en` or a translation's code).
pub fn remember_language(conn: &mut PgConnection, invitation_id: i64, lang: &str) -> QueryResult<usize> {
    diesel::update(invitations::table.find(invitation_id)).set(invitations::lang.eq(lang)).execute(conn)
}
