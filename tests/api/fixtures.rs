//! Shared fixtures: rows written the way the capabilities write them, answers sent the way a
//! resident's phone sends them, staff accounts signed in through the real form, and the small
//! readers every module needs (a count, a local time).

use actix_web::cookie::Cookie;
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use diesel::prelude::*;
use rand::RngExt;
use serde_json::{Value, json};
use sipas::auth::{Role, Scope};
use sipas::instrument::Instrument;
use sipas::kernel::answers::{AnswerSet, AnswerValue};
use sipas::kernel::survey_secrets;
use sipas::schema::{answers, invitations, responses};
use sipas::stats::rollup::{self, InvitationFacts, ResponseFacts};

use crate::harness::{Reply, SEED, TestApp, TestInvitation};

/// The password of every account [`account`] makes.
pub const PASSWORD: &str = "núi-Đá-xanh-2026";

/// The `n` column of a `SELECT … AS n` query.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// A moment of the commune's local time (UTC+7).
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(7 * 3600)
        .and_then(|o| o.with_ymd_and_hms(y, m, d, h, min, 0).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("bad date {y}-{m}-{d} {h}:{min}"))
}

// ------------------------------------------------------------------ through the writers' interface

/// Issues an invitation the way the issuing capability does: the row and its roll-up, in one
/// transaction. The unit is the officer's ([`SEED`]).
pub fn issue(
    app: &TestApp,
    officer: &str,
    procedure: &str,
    channel: &str,
    at: DateTime<Utc>,
) -> TestInvitation {
    let unit = if officer == SEED.other_officer { SEED.other_unit } else { SEED.unit };
    let current = app.state.instruments.current();
    let mut conn = app.conn();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let code = format!("T{:09}", rand::rng().random_range(0..1_000_000_000u32));
        let secret = &app.state.secret;
        let id: i64 = diesel::insert_into(invitations::table)
            .values((
                invitations::token_hash.eq(survey_secrets::token_hash(secret, &token)),
                invitations::code_hash.eq(survey_secrets::code_hash(secret, &code)),
                invitations::unit_code.eq(unit),
                invitations::officer_code.eq(officer),
                invitations::procedure_code.eq(procedure),
                invitations::channel.eq(channel),
                invitations::instrument_id.eq(&current.meta.id),
                invitations::instrument_version.eq(&current.meta.version),
                invitations::issued_at.eq(at),
                invitations::expires_at.eq(at + Duration::days(7)),
                invitations::issued_by.eq("test"),
            ))
            .returning(invitations::id)
            .get_result(conn)?;
        diesel::update(invitations::table.find(id))
            .set(invitations::sealed.eq(survey_secrets::seal(secret, id, &token, &code)))
            .execute(conn)?;
        rollup::apply_invitation_issued(
            conn,
            &InvitationFacts {
                issued_at: at,
                unit_code: unit,
                officer_code: officer,
                procedure_code: procedure,
                channel,
            },
        )?;
        Ok(TestInvitation { id, token, code })
    })
    .unwrap()
}

/// Answers (or adds to the answers of) an invitation the way the survey capability does: the
/// rows and the roll-up change, in one transaction, at `at`. Returns the response id.
pub fn answer(app: &TestApp, invitation: i64, at: DateTime<Utc>, items: &[(&str, Value)]) -> i64 {
    let instrument: &Instrument = app.state.instruments.current();
    let mut conn = app.conn();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        type Row = (String, String, String, String, Option<i16>, Option<i16>);
        let (unit, officer, procedure, channel, timing, i2_points): Row = invitations::table
            .find(invitation)
            .select((
                invitations::unit_code,
                invitations::officer_code,
                invitations::procedure_code,
                invitations::channel,
                invitations::fact_timing,
                invitations::fact_i2_points,
            ))
            .first(conn)?;
        let existing: Option<(i64, DateTime<Utc>, bool)> = responses::table
            .filter(responses::invitation_id.eq(invitation))
            .select((responses::id, responses::submitted_at, responses::held))
            .first(conn)
            .optional()?;
        let (rid, submitted_at, held) = match existing {
            Some(r) => r,
            None => {
                let id = diesel::insert_into(responses::table)
                    .values((
                        responses::invitation_id.eq(invitation),
                        responses::instrument_id.eq(&instrument.meta.id),
                        responses::instrument_version.eq(&instrument.meta.version),
                        responses::unit_code.eq(&unit),
                        responses::officer_code.eq(&officer),
                        responses::procedure_code.eq(&procedure),
                        responses::channel.eq(&channel),
                        responses::submitted_at.eq(at),
                        responses::last_added_at.eq(at),
                    ))
                    .returning(responses::id)
                    .get_result(conn)?;
                (id, at, false)
            }
        };
        let before = rollup::load_answers(conn, rid)?;
        let mut after: AnswerSet = before.clone();
        for (code, value) in items {
            let parsed = instrument.parse_answer(code, value).unwrap_or_else(|e| panic!("{code}: {e}"));
            let (level, choices, text) = match &parsed {
                AnswerValue::Level(l) => (Some(*l), None, None),
                AnswerValue::Multi(c) => (None, Some(c.clone()), None),
                AnswerValue::Text(t) => (None, None, Some(t.clone())),
            };
            diesel::insert_into(answers::table)
                .values((
                    answers::response_id.eq(rid),
                    answers::item_code.eq(code),
                    answers::level.eq(level),
                    answers::choices.eq(choices),
                    answers::text.eq(text),
                    answers::answered_at.eq(at),
                ))
                .execute(conn)?;
            after.insert(code.to_string(), parsed);
        }
        let facts = ResponseFacts {
            response_id: rid,
            submitted_at,
            unit_code: &unit,
            officer_code: &officer,
            procedure_code: &procedure,
            channel: &channel,
            held,
            case: sipas::stats::model::CaseScores { timing, i2_points },
        };
        let mut deltas = rollup::PendingDeltas::default();
        rollup::apply_response_change(conn, instrument, &facts, &before, &after, &mut deltas)?;
        deltas.flush(conn)?;
        Ok(rid)
    })
    .unwrap()
}

// ------------------------------------------------------------------ through the API

/// A fresh invitation of the seeded commune (no roll-up), issued `minutes_ago`.
pub fn invite(app: &TestApp, officer: &str, minutes_ago: i64) -> TestInvitation {
    let inv = app.insert_invitation(SEED.unit, officer, SEED.procedures[0]);
    diesel::update(invitations::table.find(inv.id))
        .set(invitations::issued_at.eq(Utc::now() - Duration::minutes(minutes_ago)))
        .execute(&mut app.conn())
        .unwrap();
    inv
}

/// Posts `answers` to a token's survey from a phone at `ip` with user agent `ua`.
pub async fn answer_from(app: &TestApp, token: &str, ip: &str, ua: &str, answers: Value) -> Reply {
    app.post_json(&format!("/api/v1/responses/{token}"), &json!({ "answers": answers }))
        .peer(&format!("{ip}:40000"))
        .header("user-agent", ua)
        .await
}

/// `GET /api/v1/stats?{query}` with an API key; anything but 200 fails the test.
pub async fn stats(app: &TestApp, key: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/stats?{query}")).with_key(key).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()
}

type AnswerRow = (String, Option<i16>, Option<Vec<Option<i16>>>, Option<String>);

/// The stored answers of every response, as sorted `code=value` strings.
pub fn stored(app: &TestApp) -> Vec<String> {
    let rows: Vec<AnswerRow> = answers::table
        .select((answers::item_code, answers::level, answers::choices, answers::text))
        .order(answers::item_code)
        .load(&mut app.conn())
        .unwrap();
    show(rows)
}

/// The stored answers of one invitation's response, as sorted `code=value` strings.
pub fn stored_for(app: &TestApp, invitation_id: i64) -> Vec<String> {
    let rows: Vec<AnswerRow> = answers::table
        .inner_join(responses::table)
        .filter(responses::invitation_id.eq(invitation_id))
        .select((answers::item_code, answers::level, answers::choices, answers::text))
        .order(answers::item_code)
        .load(&mut app.conn())
        .unwrap();
    show(rows)
}

fn show(rows: Vec<AnswerRow>) -> Vec<String> {
    rows.into_iter()
        .map(|(code, level, choices, text)| match (level, choices, text) {
            (Some(l), _, _) => format!("{code}={l}"),
            (_, Some(c), _) => {
                let codes: Vec<String> = c.into_iter().flatten().map(|c| c.to_string()).collect();
                format!("{code}={}", codes.join(","))
            }
            (_, _, Some(t)) => format!("{code}={t}"),
            _ => panic!("answer without a value"),
        })
        .collect()
}

// ------------------------------------------------------------------ staff

/// Creates an account with [`PASSWORD`] directly in the store.
pub fn account(app: &TestApp, username: &str, role: Role, unit: Option<&str>, officer: Option<&str>) -> i64 {
    let scope = Scope::new(role, unit.map(str::to_string), officer.map(str::to_string)).unwrap();
    let hash = sipas::staff::password::hash(PASSWORD).unwrap();
    sipas::staff::store::create(&mut app.conn(), username, &hash, &scope, "test").unwrap()
}

/// The seed, an admin, a leader of the seed unit and an officer (CB01).
pub fn people(app: &TestApp) {
    app.seed();
    account(app, "admin", Role::Admin, None, None);
    account(app, "leader", Role::Leader, Some(SEED.unit), None);
    account(app, "officer1", Role::Officer, Some(SEED.unit), Some(SEED.officers[0]));
}

/// The value of the first `name="csrf"` hidden input of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf input in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

/// Opens the login form; returns its double-submit cookie and token.
pub async fn login_form(app: &TestApp) -> (Cookie<'static>, String) {
    let r = app.get("/login").await;
    assert_eq!(r.status, 200);
    let cookie = r.cookie("sipas_login_csrf").expect("no login csrf cookie");
    (cookie, csrf_of(&r.body))
}

/// Posts the login form from `peer`.
pub async fn post_login(app: &TestApp, username: &str, password: &str, peer: &str) -> Reply {
    post_login_via(app, username, password, peer, None).await
}

/// Posts the login form from `peer`, which may say it forwards for `forwarded_for`.
pub async fn post_login_via(
    app: &TestApp,
    username: &str,
    password: &str,
    peer: &str,
    forwarded_for: Option<&str>,
) -> Reply {
    let (cookie, token) = login_form(app).await;
    let form = [("username", username), ("password", password), ("csrf", &token), ("next", "/dashboard")];
    let mut call = app.post_form("/login", &form).peer(peer).cookie(cookie);
    if let Some(client) = forwarded_for {
        call = call.header("x-forwarded-for", client);
    }
    call.await
}

/// Signs in through the form; returns the session cookie.
pub async fn sign_in(app: &TestApp, username: &str) -> Cookie<'static> {
    let r = post_login(app, username, PASSWORD, "10.1.2.3:5000").await;
    assert_eq!(r.status, 303, "sign-in of {username} failed");
    r.cookie("sipas_session").expect("no session cookie")
}

/// The CSRF token of a signed-in session (read from a page's form).
pub async fn session_csrf(app: &TestApp, session: &Cookie<'static>) -> String {
    let r = app.get("/dashboard").as_staff(session).await;
    assert_eq!(r.status, 200, "{}", r.body);
    csrf_of(&r.body)
}
