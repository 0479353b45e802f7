//! Plain diesel for responses: invitations by token, responses and their answers, and the
//! per-client submission counters.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::instrument::AnswerValue;
use crate::schema::{answers, invitations, responses, submission_limits};
use crate::stats::rollup::AnswerSet;

/// What a submission needs of an invitation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct InvitationRow {
    pub id: i64,
    pub unit_code: String,
    pub officer_code: String,
    pub procedure_code: String,
    pub channel: String,
    pub instrument_id: String,
    pub instrument_version: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The invitation with this token, its row locked until the transaction ends: every submission
/// for one token waits here for the one before it.
pub fn lock_invitation(conn: &mut PgConnection, token: &str) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token.eq(token))
        .select(InvitationRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The invitation with this token, for reading.
pub fn find_invitation(conn: &mut PgConnection, token: &str) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token.eq(token))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = responses)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct ResponseRow {
    pub id: i64,
    pub submitted_at: DateTime<Utc>,
    /// Held out of the statistics (flagged, not reviewed genuine).
    pub held: bool,
}

/// The response of an invitation, if it has one.
pub fn response_of(conn: &mut PgConnection, invitation_id: i64) -> QueryResult<Option<ResponseRow>> {
    responses::table
        .filter(responses::invitation_id.eq(invitation_id))
        .select(ResponseRow::as_select())
        .first(conn)
        .optional()
}

/// Every answer of a response, typed.
pub fn answers_of(conn: &mut PgConnection, response_id: i64) -> QueryResult<AnswerSet> {
    type Row = (String, Option<i16>, Option<Vec<Option<i16>>>, Option<String>);
    let rows: Vec<Row> = answers::table
        .filter(answers::response_id.eq(response_id))
        .select((answers::item_code, answers::level, answers::choices, answers::text))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, level, choices, text)| {
            let value = match (level, choices, text) {
                (Some(l), _, _) => AnswerValue::Level(l),
                (_, Some(c), _) => AnswerValue::Multi(c.into_iter().flatten().collect()),
                (_, _, Some(t)) => AnswerValue::Text(t),
                // the table's CHECK makes exactly one of them set
                _ => return None,
            };
            Some((code, value))
        })
        .collect())
}

/// A response about to be stored.
#[derive(Debug, Insertable)]
#[diesel(table_name = responses)]
pub struct NewResponse<'a> {
    pub invitation_id: i64,
    pub instrument_id: &'a str,
    pub instrument_version: &'a str,
    pub unit_code: &'a str,
    pub officer_code: &'a str,
    pub procedure_code: &'a str,
    pub channel: &'a str,
    pub submitted_at: DateTime<Utc>,
    pub last_added_at: DateTime<Utc>,
    pub client_hash: Option<&'a str>,
    pub device_hash: Option<&'a str>,
    pub held: bool,
}

/// Inserts a response; a second response for the invitation fails with a unique violation.
pub fn insert_response(conn: &mut PgConnection, new: &NewResponse<'_>) -> QueryResult<i64> {
    diesel::insert_into(responses::table).values(new).returning(responses::id).get_result(conn)
}

/// Records that items were added to a response.
pub fn touch_response(conn: &mut PgConnection, response_id: i64, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(responses::table.find(response_id)).set(responses::last_added_at.eq(at)).execute(conn)?;
    Ok(())
}

/// Inserts one row per answer.
pub fn insert_answers(
    conn: &mut PgConnection,
    response_id: i64,
    set: &AnswerSet,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let rows: Vec<_> = set
        .iter()
        .map(|(code, value)| {
            let (level, choices, text) = match value {
                AnswerValue::Level(l) => (Some(*l), None, None),
                AnswerValue::Multi(c) => (None, Some(c.iter().map(|c| Some(*c)).collect::<Vec<_>>()), None),
                AnswerValue::Text(t) => (None, None, Some(t.as_str())),
            };
            (
                answers::response_id.eq(response_id),
                answers::item_code.eq(code.as_str()),
                answers::level.eq(level),
                answers::choices.eq(choices),
                answers::text.eq(text),
                answers::answered_at.eq(at),
            )
        })
        .collect();
    diesel::insert_into(answers::table).values(rows).execute(conn)?;
    Ok(())
}

/// Counts one submission of a client in the window starting at `window_start` and returns the
/// window's count so far. When the call opens a new window, windows that ended before `purge_before`
/// are deleted, so the table holds only recent hours.
pub fn count_submission(
    conn: &mut PgConnection,
    client_hash: &str,
    window_start: DateTime<Utc>,
    purge_before: DateTime<Utc>,
) -> QueryResult<i32> {
    let count: i32 = diesel::insert_into(submission_limits::table)
        .values((
            submission_limits::client_hash.eq(client_hash),
            submission_limits::window_start.eq(window_start),
            submission_limits::count.eq(1),
        ))
        .on_conflict((submission_limits::client_hash, submission_limits::window_start))
        .do_update()
        .set(submission_limits::count.eq(submission_limits::count + 1))
        .returning(submission_limits::count)
        .get_result(conn)?;
    if count == 1 {
        diesel::delete(submission_limits::table.filter(submission_limits::window_start.lt(purge_before)))
            .execute(conn)?;
    }
    Ok(count)
}

/// Counts several submissions at once: `(client_hash, window_start, how many)`, each pair at most
/// once; returns each pair's count after adding, in the order given. One statement, so a batch of
/// answers (see `responses::committer`) costs one round trip here.
pub fn count_submissions(
    conn: &mut PgConnection,
    counts: &[(&str, DateTime<Utc>, i32)],
) -> QueryResult<Vec<i32>> {
    use diesel::upsert::excluded;
    let rows: Vec<_> = counts
        .iter()
        .map(|(client, window, n)| {
            (
                submission_limits::client_hash.eq(*client),
                submission_limits::window_start.eq(*window),
                submission_limits::count.eq(*n),
            )
        })
        .collect();
    let returned: Vec<(String, DateTime<Utc>, i32)> = diesel::insert_into(submission_limits::table)
        .values(rows)
        .on_conflict((submission_limits::client_hash, submission_limits::window_start))
        .do_update()
        .set(submission_limits::count.eq(submission_limits::count + excluded(submission_limits::count)))
        .returning((
            submission_limits::client_hash,
            submission_limits::window_start,
            submission_limits::count,
        ))
        .get_results(conn)?;
    let by_key: std::collections::HashMap<(&str, DateTime<Utc>), i32> =
        returned.iter().map(|(c, w, n)| ((c.as_str(), *w), *n)).collect();
    Ok(counts.iter().map(|(c, w, n)| by_key.get(&(*c, *w)).copied().unwrap_or(*n)).collect())
}

/// Deletes the rate-limit windows that ended before `before`.
pub fn purge_submission_counts(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<()> {
    diesel::delete(submission_limits::table.filter(submission_limits::window_start.lt(before)))
        .execute(conn)?;
    Ok(())
}
