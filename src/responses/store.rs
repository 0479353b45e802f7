//! Plain diesel for responses: invitations by their token's hash, responses and their answers, and the
//! per-client submission counters.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, SmallInt, Text, Timestamptz};

use crate::db::statement;
use crate::kernel::answers::AnswerSet;
use crate::kernel::answers::AnswerValue;
use crate::schema::{answers, invitations, responses, survey_views};

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
    /// The language the resident chose for the survey, remembered on the token.
    pub lang: Option<String>,
    /// What the case facts give the TT01 indicators (docs/TT01.md).
    pub fact_timing: Option<i16>,
    pub fact_i2_points: Option<i16>,
}

/// An invitation locked for a submission, with what the submission reads beside it.
#[derive(Debug, Clone)]
pub struct Locked {
    pub invitation: InvitationRow,
    /// Its response, if it has one.
    pub response: Option<ResponseRow>,
    /// When its survey page was first shown ([`mark_shown`]), if ever.
    pub first_shown: Option<DateTime<Utc>>,
}

/// The invitation whose token has this hash (`kernel::survey_secrets::token_hash`), its row
/// locked until the transaction ends: every submission for one token waits here for the one
/// before it. Its response and its first showing come in the same statement, as scalar
/// subqueries on their keys (`FOR UPDATE` locks only the invitation's row): three round trips
/// were one per answer before, and each is a wait at 64 clients.
///
/// **What the subqueries can miss.** They read the tables as they were when the statement
/// began, and the lock is taken after them: when another submission of the same token held the
/// lock then (a phone resending a post whose answer it never got) and committed a response while
/// this one waited, `response` is `None` although the invitation now has one. A response seen is
/// always there (responses are never deleted); a response not seen is confirmed before anything
/// depends on it: the first response's insert does nothing on a second one for the invitation
/// ([`insert_response_with_answers`] returns `None`), and the submission core then prepares
/// again, and a refusal made on `None` is checked by locking again (a new statement sees every
/// commit before the lock was granted), so one extra statement is paid only by refusals and by
/// such races (`responses::submit::prepare`).
pub fn lock_invitation(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<Locked>> {
    let of_response = || responses::table.filter(responses::invitation_id.eq(invitations::id));
    type Row = (InvitationRow, Option<i64>, Option<DateTime<Utc>>, Option<bool>, Option<DateTime<Utc>>);
    let row: Option<Row> = invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select((
            InvitationRow::as_select(),
            of_response().select(responses::id).single_value(),
            of_response().select(responses::submitted_at).single_value(),
            of_response().select(responses::held).single_value(),
            survey_views::table
                .filter(survey_views::invitation_id.eq(invitations::id))
                .select(survey_views::first_shown_at)
                .single_value(),
        ))
        .for_update()
        .first(conn)
        .optional()?;
    Ok(row.map(|(invitation, id, submitted_at, held, first_shown)| Locked {
        invitation,
        response: match (id, submitted_at, held) {
            (Some(id), Some(submitted_at), Some(held)) => Some(ResponseRow { id, submitted_at, held }),
            _ => None,
        },
        first_shown,
    }))
}

/// The invitation whose token has this hash, for reading.
pub fn find_invitation(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Records that the survey page of an invitation was shown now, unless it was shown before: the
/// `too_fast` rule measures from the first showing. One insert that does nothing once the row
/// exists.
pub fn mark_shown(conn: &mut PgConnection, invitation_id: i64, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(survey_views::table)
        .values((survey_views::invitation_id.eq(invitation_id), survey_views::first_shown_at.eq(at)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
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
#[derive(Debug)]
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
    /// The first answer gives `CASE.OVERALL` the top level of its scale (the burst check's index).
    pub top_score: bool,
    /// Its own check found it completing a burst (flagged `burst` with it): see
    /// `integrity::checks::Recent`.
    pub completed_burst: bool,
    /// Its own integrity flags (reason codes), inserted by the same statement as the response,
    /// with `submitted_at` as their time: a flagged answer costs no statement more than another.
    pub flags: Vec<&'static str>,
}

/// The columns of `responses` a new response sets, in the order of [`NewResponse::bind`].
macro_rules! response_columns {
    () => {
        "invitation_id, instrument_id, instrument_version, unit_code, officer_code, procedure_code, \
         channel, submitted_at, last_added_at, client_hash, device_hash, held, top_score, completed_burst"
    };
}

/// How many values `response_columns!` names (the `?` of its `VALUES`).
const RESPONSE_BINDS: usize = 14;

/// The binds of [`NewResponse`]: its columns, then its own flags.
const NEW_RESPONSE_BINDS: usize = RESPONSE_BINDS + 1;

/// The select list of answers after the response id (binds: the answer time).
macro_rules! answer_select {
    () => {
        "a.item_code, a.level, a.choices::smallint[], a.text, ?"
    };
}

/// The answers' rows (binds: the four arrays of [`AnswerColumns`]).
macro_rules! answer_rows {
    () => {
        "unnest(?::text[], ?::smallint[], ?::text[], ?::text[]) AS a (item_code, level, choices, text)"
    };
}

impl NewResponse<'_> {
    /// Pushes the `i`-th of the [`NEW_RESPONSE_BINDS`] values: the columns in the order of
    /// `response_columns!`, then the flags.
    fn bind<'b>(&'b self, i: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match i {
            0 => out.push_bind_param::<BigInt, _>(&self.invitation_id),
            1 => out.push_bind_param::<Text, _>(self.instrument_id),
            2 => out.push_bind_param::<Text, _>(self.instrument_version),
            3 => out.push_bind_param::<Text, _>(self.unit_code),
            4 => out.push_bind_param::<Text, _>(self.officer_code),
            5 => out.push_bind_param::<Text, _>(self.procedure_code),
            6 => out.push_bind_param::<Text, _>(self.channel),
            7 => out.push_bind_param::<Timestamptz, _>(&self.submitted_at),
            8 => out.push_bind_param::<Timestamptz, _>(&self.last_added_at),
            9 => out.push_bind_param::<Nullable<Text>, _>(&self.client_hash),
            10 => out.push_bind_param::<Nullable<Text>, _>(&self.device_hash),
            11 => out.push_bind_param::<Bool, _>(&self.held),
            12 => out.push_bind_param::<Bool, _>(&self.top_score),
            13 => out.push_bind_param::<Bool, _>(&self.completed_burst),
            14 => out.push_bind_param::<Array<Text>, _>(&self.flags),
            i => Err(statement::no_such_bind(i)),
        }
    }
}

/// A new response and its answers, inserted by one statement.
struct NewResponseWithAnswers<'a> {
    response: NewResponse<'a>,
    answers: AnswerColumns<'a>,
}

impl QueryFragment<Pg> for NewResponseWithAnswers<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        const SQL: &str = concat!(
            "WITH r AS (INSERT INTO responses (",
            response_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (invitation_id) DO NOTHING RETURNING id, submitted_at), \
             f AS (INSERT INTO integrity_flags (response_id, reason, flagged_at) \
                   SELECT r.id, x.reason, r.submitted_at FROM r, unnest(?::text[]) AS x (reason)), \
             a AS (INSERT INTO answers (response_id, item_code, level, choices, text, answered_at) \
                   SELECT r.id, ",
            answer_select!(),
            " FROM r, ",
            answer_rows!(),
            ") SELECT id FROM r"
        );
        statement::walk(SQL, &mut out, |i, out| {
            if i < NEW_RESPONSE_BINDS {
                self.response.bind(i, out)
            } else {
                self.answers.bind(i - NEW_RESPONSE_BINDS, out)
            }
        })
    }
}

crate::cached_statement!(NewResponseWithAnswers, BigInt);

/// Inserts a response and its answers (and its own flags) in one statement; `None`, with nothing
/// written, when the invitation has a response already (one [`lock_invitation`] did not see).
pub fn insert_response_with_answers(
    conn: &mut PgConnection,
    response: NewResponse<'_>,
    set: &AnswerSet,
) -> QueryResult<Option<i64>> {
    let answers = AnswerColumns::of(set, response.submitted_at);
    NewResponseWithAnswers { response, answers }.get_result(conn).optional()
}

/// Records that items were added to a response.
pub fn touch_response(conn: &mut PgConnection, response_id: i64, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(responses::table.find(response_id)).set(responses::last_added_at.eq(at)).execute(conn)?;
    Ok(())
}

/// Answers as columns, to insert any number of them with one statement text.
struct AnswerColumns<'a> {
    answered_at: DateTime<Utc>,
    item_codes: Vec<&'a str>,
    levels: Vec<Option<i16>>,
    /// Array literals (`{1,3}`), cast by the statement: `unnest` flattens an array of arrays.
    choices: Vec<Option<String>>,
    texts: Vec<Option<&'a str>>,
}

impl<'a> AnswerColumns<'a> {
    fn of(set: &'a AnswerSet, answered_at: DateTime<Utc>) -> Self {
        let mut columns = AnswerColumns {
            answered_at,
            item_codes: Vec::with_capacity(set.len()),
            levels: Vec::with_capacity(set.len()),
            choices: Vec::with_capacity(set.len()),
            texts: Vec::with_capacity(set.len()),
        };
        for (code, value) in set {
            let (level, choices, text) = match value {
                AnswerValue::Level(l) => (Some(*l), None, None),
                AnswerValue::Multi(c) => {
                    let list: Vec<String> = c.iter().map(|c| c.to_string()).collect();
                    (None, Some(format!("{{{}}}", list.join(","))), None)
                }
                AnswerValue::Text(t) => (None, None, Some(t.as_str())),
            };
            columns.item_codes.push(code.as_str());
            columns.levels.push(level);
            columns.choices.push(choices);
            columns.texts.push(text);
        }
        columns
    }

    /// Pushes the `i`-th of the 5 values of `answer_select!` then `answer_rows!`.
    fn bind<'b>(&'b self, i: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match i {
            0 => out.push_bind_param::<Timestamptz, _>(&self.answered_at),
            1 => out.push_bind_param::<Array<Text>, _>(&self.item_codes),
            2 => out.push_bind_param::<Array<Nullable<SmallInt>>, _>(&self.levels),
            3 => out.push_bind_param::<Array<Nullable<Text>>, _>(&self.choices),
            4 => out.push_bind_param::<Array<Nullable<Text>>, _>(&self.texts),
            i => Err(statement::no_such_bind(i)),
        }
    }
}

/// More answers for an existing response.
struct NewAnswers<'a> {
    response_id: i64,
    columns: AnswerColumns<'a>,
}

impl QueryFragment<Pg> for NewAnswers<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        const SQL: &str = concat!(
            "INSERT INTO answers (response_id, item_code, level, choices, text, answered_at) SELECT ?, ",
            answer_select!(),
            " FROM ",
            answer_rows!()
        );
        statement::walk(SQL, &mut out, |i, out| {
            if i == 0 {
                out.push_bind_param::<BigInt, _>(&self.response_id)
            } else {
                self.columns.bind(i - 1, out)
            }
        })
    }
}

crate::cached_statement!(NewAnswers);

/// Inserts one row per answer.
pub fn insert_answers(
    conn: &mut PgConnection,
    response_id: i64,
    set: &AnswerSet,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    if set.is_empty() {
        return Ok(());
    }
    NewAnswers { response_id, columns: AnswerColumns::of(set, at) }.execute(conn)?;
    Ok(())
}
