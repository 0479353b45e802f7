//! What the dashboards read besides statistics: residents' comments about an officer's cases.
//! Only the text and the local day are read, never the response, token, case number or time of
//! day, so nothing on the page points back to a resident.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, SmallInt, Text};

/// One comment: the local day it was written and its text.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Comment {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub text: String,
    /// A hash of the response that orders an officer's own comments within a release block
    /// (never their order of arrival).
    #[diesel(sql_type = Text)]
    pub mix: String,
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
        "SELECT (r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, a.text AS text, \
                md5(r.id::text) AS mix \
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

/// One comment of the comments page, with what it is about.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CommentRow {
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub at_local: chrono::NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub officer_code: String,
    #[diesel(sql_type = Text)]
    pub procedure_code: String,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub overall: Option<i16>,
    #[diesel(sql_type = Text)]
    pub text: String,
    /// How many comments match in all (the same on every row).
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// What the comments page filters on; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub unit: Option<String>,
    pub procedure: Option<String>,
    pub field: Option<String>,
    pub officer: Option<String>,
    pub channel: Option<String>,
    /// The `CASE.OVERALL` level (1–5).
    pub rating: Option<i16>,
}

/// The newest residents' comments (item `COMMENT`) submitted between the local days `from` and
/// `to` that match `filter`, at most `limit`, each with the count of all matches.
pub fn comments(
    conn: &mut PgConnection,
    filter: &CommentFilter,
    from: NaiveDate,
    to: NaiveDate,
    limit: i32,
) -> QueryResult<Vec<CommentRow>> {
    diesel::sql_query(
        "SELECT (r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS at_local, r.officer_code, \
                r.procedure_code, o.level AS overall, a.text AS text, count(*) OVER () AS total \
         FROM responses r \
         JOIN answers a ON a.response_id = r.id AND a.item_code = 'COMMENT' \
         LEFT JOIN answers o ON o.response_id = r.id AND o.item_code = 'CASE.OVERALL' \
         LEFT JOIN procedures p ON p.code = r.procedure_code \
         WHERE a.text IS NOT NULL AND btrim(a.text) <> '' \
           AND r.submitted_at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
           AND r.submitted_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh' \
           AND ($3::text IS NULL OR r.unit_code = $3) \
           AND ($4::text IS NULL OR r.procedure_code = $4) \
           AND ($5::text IS NULL OR p.field_code = $5) \
           AND ($6::text IS NULL OR r.officer_code = $6) \
           AND ($7::text IS NULL OR r.channel = $7) \
           AND ($8::int2 IS NULL OR o.level = $8) \
         ORDER BY r.submitted_at DESC, r.id DESC LIMIT $9",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<Text>, _>(filter.unit.as_deref())
    .bind::<Nullable<Text>, _>(filter.procedure.as_deref())
    .bind::<Nullable<Text>, _>(filter.field.as_deref())
    .bind::<Nullable<Text>, _>(filter.officer.as_deref())
    .bind::<Nullable<Text>, _>(filter.channel.as_deref())
    .bind::<Nullable<SmallInt>, _>(filter.rating)
    .bind::<Integer, _>(limit)
    .load(conn)
}
