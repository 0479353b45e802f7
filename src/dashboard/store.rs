//! What the dashboards read besides statistics: residents' comments about an officer's cases.
//! Only the text and the local day are read, never the response, token, case number or time of
//! day, so nothing on the page points back to a resident.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};

/// One comment: the local day it was written and its text.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Comment {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub text: String,
}

/// The newest comments (item `COMMENT`) on responses about `officer`'s cases submitted between
/// the local days `from` and `to`, at most `limit`.
pub fn officer_comments(
    conn: &mut PgConnection,
    officer: &str,
    from: NaiveDate,
    to: NaiveDate,
    limit: i32,
) -> QueryResult<Vec<Comment>> {
    diesel::sql_query(
        "SELECT (r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, a.text AS text \
         FROM responses r JOIN answers a ON a.response_id = r.id \
         WHERE r.officer_code = $1 AND a.item_code = 'COMMENT' AND a.text IS NOT NULL \
           AND btrim(a.text) <> '' \
           AND r.submitted_at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
           AND r.submitted_at < ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
         ORDER BY r.submitted_at DESC, a.text LIMIT $4",
    )
    .bind::<Text, _>(officer)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Integer, _>(limit)
    .load(conn)
}
