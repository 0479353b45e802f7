//! The attacks of issue 21, replayed one by one against the real service on PostgreSQL: each test
//! reproduces what the attacker did and checks that it now fails (SECURITY.md, "Findings").

use diesel::prelude::*;
use serde_json::json;

use crate::fixtures::{
    PASSWORD, answer_from, count, csrf_of, invite, login_form, people, post_login, sign_in,
};
use crate::harness::{SEED, TestApp};

const PHONE: &str = "Mozilla/5.0 (Linux; Android 12) Mobile";

fn audit_rows(app: &TestApp, action: &str) -> i64 {
    count(&mut app.conn(), &format!("SELECT count(*) AS n FROM audit_log WHERE action LIKE '{action}'"))
}

// ------------------------------------------------------------------ finding 4: open redirect

#[actix_web::test]
async fn finding_4_next_leads_only_to_a_path_of_this_site() {
    let app = TestApp::new().await;
    people(&app);
    // the attacker's links: a tab or newline a browser drops, leaving `//evil.example`
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%0A%2Fevil.example%2F",
        "%2F%5Cevil.example",
    ] {
        let r = app.get(&format!("/login?next={next}")).await;
        assert_eq!(r.status, 200, "{next}");
        assert!(!r.body.contains("evil.example"), "{next} kept in the form: {}", r.body);
    }
    // posted as the form's `next`: the sign-in lands on the dashboard, not off-site, never a 500
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "https://evil.example/",
        "//evil.example",
    ] {
        let (cookie, token) = login_form(&app).await;
        let form = [("username", "leader"), ("password", PASSWORD), ("csrf", &token), ("next", next)];
        let r = app.post_form("/login", &form).peer("10.1.2.3:5000").cookie(cookie).await;
        assert_eq!(r.status, 303, "{next:?}");
        assert_eq!(r.location().as_deref(), Some("/dashboard"), "{next:?}");
    }
    // a real path of the site still works, query included, without control characters
    let (cookie, token) = login_form(&app).await;
    let form =
        [("username", "leader"), ("password", PASSWORD), ("csrf", &token), ("next", "/followups?status=new")];
    let r = app.post_form("/login", &form).peer("10.1.2.3:5000").cookie(cookie).await;
    assert_eq!(r.location().as_deref(), Some("/followups?status=new"));
    // signed in already: the same parsing
    let session = r.cookie("sipas_session").unwrap();
    let r = app.get("/login?next=%2F%09%2Fevil.example").as_staff(&session).await;
    assert_eq!((r.status, r.location().as_deref()), (303, Some("/dashboard")));
}

// ------------------------------------------------------------------ finding 5: lockout

#[actix_web::test]
async fn finding_5_a_stranger_guessing_wrong_cannot_lock_the_owner_out_admins_included() {
    let app = TestApp::new().await;
    people(&app);
    for victim in ["admin", "leader"] {
        // the attacker's way: 12 wrong passwords, the username in another case, from one client …
        for i in 0..12 {
            let r =
                post_login(&app, &victim.to_uppercase(), "wrong-password-123", "198.51.100.66:4000").await;
            assert_eq!(r.status, 401, "{victim} attempt {i}");
        }
        // … and from twelve more, one each
        for i in 0..12 {
            let r = post_login(&app, victim, "wrong-password-123", &format!("198.51.100.{i}:4000")).await;
            assert_eq!(r.status, 401);
        }
        // the attacker's client is held even with the right password …
        let r = post_login(&app, victim, PASSWORD, "198.51.100.66:4000").await;
        assert_eq!(r.status, 401, "{victim}: the guessing client got in");
        // … while the owner, from their own machine, signs in at once
        let r = post_login(&app, victim, PASSWORD, "10.1.2.3:5000").await;
        assert_eq!(r.status, 303, "{victim} was locked out by a stranger");
    }
    // waiting attempts do not extend the wait: the pair's lock is as the tenth failure set it
    let locks = count(
        &mut app.conn(),
        "SELECT count(DISTINCT locked_until) AS n FROM login_throttle WHERE client_hash LIKE 'u%' AND locked_until > now()",
    );
    assert!(locks >= 1);
    // the admin sees the failures and can let the held client try again
    let admin = sign_in(&app, "admin").await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    for _ in 0..10 {
        post_login(&app, "leader", "wrong-password-123", "198.51.100.77:4000").await;
    }
    let html = app.get(&format!("/admin/users/{id}")).as_staff(&admin).await.body;
    assert!(html.contains("lần nhập sai"), "{html}");
    let csrf = csrf_of(&html);
    let r = app.post_form(&format!("/admin/users/{id}/unlock"), &[("csrf", &csrf)]).as_staff(&admin).await;
    assert_eq!(r.status, 303);
    assert_eq!(post_login(&app, "leader", PASSWORD, "198.51.100.77:4000").await.status, 303);
}

// ------------------------------------------------------------------ finding 6: sign-out

#[actix_web::test]
async fn finding_6_a_copied_cookie_stops_working_at_sign_out() {
    let app = TestApp::new().await;
    people(&app);
    let session = sign_in(&app, "leader").await;
    let copy = session.clone();
    let r = app.get("/dashboard").as_staff(&session).await;
    assert_eq!(r.status, 200);
    let csrf = csrf_of(&r.body);
    let r = app.post_form("/logout", &[("csrf", &csrf)]).as_staff(&session).await;
    assert_eq!(r.status, 303);
    // the copy, replayed after sign-out, is no session: pages send it to sign in, the API refuses
    let r = app.get("/dashboard").as_staff(&copy).await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap_or_default().starts_with("/login"));
    assert_eq!(app.get("/api/v1/me").as_staff(&copy).await.status, 401);
    // signing in again gives a new, working session
    let again = sign_in(&app, "leader").await;
    assert_eq!(app.get("/dashboard").as_staff(&again).await.status, 200);
}

// ------------------------------------------------------------------ finding 8: hostile values

#[actix_web::test]
async fn finding_8_nul_bytes_and_edge_years_get_a_4xx_in_the_documented_shape() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    people(&app);
    let key = app.api_key(SEED.unit);
    let leader = sign_in(&app, "leader").await;
    let admin = sign_in(&app, "admin").await;
    // a follow-up and a flagged answer to act on
    let token = invite(&app, SEED.officers[0], 10).token;
    let r = answer_from(
        &app,
        &token,
        "198.51.100.5",
        PHONE,
        json!({"CASE.OVERALL": 1, "COMMENT": "Chờ lâu", "REPLY.WANTED": 1}),
    )
    .await;
    assert!(r.status == 201, "{}", r.body);
    let followup = count(&mut app.conn(), "SELECT max(id) AS n FROM followups");
    let response = count(&mut app.conn(), "SELECT max(id) AS n FROM responses");
    let before = (
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action NOT LIKE 'login%'"),
        count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"),
        count(&mut app.conn(), "SELECT count(*) AS n FROM integrity_reviews"),
    );

    let nul = "a\u{0}b";
    let api_bodies = [
        (format!("/api/v1/followups/{followup}/reply"), json!({"message": nul})),
        (format!("/api/v1/followups/{followup}/assign"), json!({"owner": nul})),
        (format!("/api/v1/followups/{followup}/close"), json!({"outcome": "resolved", "note": nul})),
        (
            format!("/api/v1/integrity/responses/{response}/review"),
            json!({"verdict": "genuine", "note": nul}),
        ),
        ("/api/v1/invitations".to_string(), json!({"officer_code": SEED.officers[0], "procedure_code": nul})),
    ];
    for (path, body) in &api_bodies {
        let r = app.post_json(path, body).with_key(&key).await;
        assert!((400..500).contains(&r.status), "{path}: {} {}", r.status, r.body);
        let b = r.json();
        assert!(b["error"].is_string() && b["message"].is_string(), "{path}: {b}");
    }
    // the same through the pages' forms
    let csrf = crate::fixtures::session_csrf(&app, &leader).await;
    for (path, form) in [
        (format!("/followups/{followup}/reply"), vec![("message", nul), ("csrf", csrf.as_str())]),
        (
            format!("/integrity/responses/{response}/review"),
            vec![("verdict", "genuine"), ("note", nul), ("csrf", csrf.as_str())],
        ),
    ] {
        let r = app.post_form(&path, &form).as_staff(&leader).await;
        assert!((400..500).contains(&r.status) || r.status == 303, "{path}: {} {}", r.status, r.body);
    }
    // NUL in a query: every filter of the API and the pages
    for (path, as_admin) in [
        ("/api/v1/followups?procedure_code=a%00b", false),
        ("/api/v1/stats?from=2026-01-01&to=2026-01-31&procedure_code=a%00b", false),
        ("/admin/audit?action=a%00b&actor=", true),
        ("/followups?status=a%00b", false),
    ] {
        let call = app.get(path);
        let r = if as_admin { call.as_staff(&admin).await } else { call.with_key(&key).await };
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_text", "{path}");
    }
    // years 0000 and 9990–9999 in ranges and periods
    for year in ["0000", "9990", "9999"] {
        for path in [
            format!("/api/v1/stats?from={year}-01-01&to={year}-12-31"),
            format!("/api/v1/exports/province?period={year}-Q4"),
            format!("/api/v1/exports/province?period={year}"),
            format!("/reports/periodic?period={year}-H2"),
            format!("/api/v1/integrity?from={year}-01-01&to={year}-12-31"),
        ] {
            let r = app.get(&path).with_key(&key).await;
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            assert!(r.json()["error"].is_string(), "{path}");
        }
        let r = app
            .get(&format!("/dashboard?period=custom&from={year}-01-01&to={year}-12-31"))
            .as_staff(&leader)
            .await;
        assert!((400..500).contains(&r.status) || r.status == 200, "{year}: {}", r.status);
        assert!(r.status != 200 || r.body.contains("2000–2100"), "{year}: the range was accepted");
    }
    // nothing was written by any of it
    let after = (
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action NOT LIKE 'login%'"),
        count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"),
        count(&mut app.conn(), "SELECT count(*) AS n FROM integrity_reviews"),
    );
    assert_eq!(before, after);
}

// ------------------------------------------------------------------ finding 9: audit flooding

#[actix_web::test]
async fn finding_9_refused_sign_ins_are_counted_without_a_row_each() {
    let app = TestApp::new().await;
    people(&app);
    let before = count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log");
    // the attack: 300 anonymous attempts, most of them while blocked
    for i in 0..300 {
        let r = post_login(&app, &format!("nobody{}", i % 7), "wrong-password-123", "203.0.113.99:1").await;
        assert!(r.status == 401 || r.status == 429, "attempt {i}: {}", r.status);
    }
    // and 40 against a real account from another client
    for _ in 0..40 {
        post_login(&app, "leader", "wrong-password-123", "203.0.113.98:1").await;
    }
    let added = count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log") - before;
    assert!(added <= 6, "{added} audit rows for 340 refused attempts");
    // what happened is still on record: the first failure, the block, and the counts
    assert!(audit_rows(&app, "login.blocked_client") >= 1);
    assert!(audit_rows(&app, "login.failed") >= 2);
    let failures = count(&mut app.conn(), "SELECT max(failures)::bigint AS n FROM login_throttle");
    assert!(failures >= 270, "{failures}");
}

// ------------------------------------------------------------------ finding 10: IPv6 networks

#[actix_web::test]
async fn finding_10_an_ipv6_client_is_limited_by_its_64_not_its_address() {
    let app = TestApp::new().await;
    people(&app);
    // thirty failures, each from a fresh address of one /64
    for i in 0..30 {
        let peer = format!("[2001:db8:77:1:{i:x}:{i:x}:{i:x}:1]:4000");
        let r = post_login(&app, &format!("nobody{i}"), "wrong-password-123", &peer).await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    // yet another address of that /64 is blocked …
    let r = post_login(&app, "leader", PASSWORD, "[2001:db8:77:1:ffff::9]:4000").await;
    assert_eq!(r.status, 429);
    // … a neighbouring /64 is not
    let r = post_login(&app, "leader", PASSWORD, "[2001:db8:77:2::9]:4000").await;
    assert_eq!(r.status, 303);
    // typed codes: the wrong-code limit counts the /64 too
    let mut last = 0;
    for i in 0..12 {
        let peer = format!("[2001:db8:77:1:{i:x}::2]:4000");
        last = app.get(&format!("/c/ABCDEFG{}", i % 10)).peer(&peer).await.status;
    }
    assert_eq!(last, 429, "typed-code guesses from one /64 were not limited");
}

// ------------------------------------------------------------------ finding 11: blank passwords

#[actix_web::test]
async fn finding_11_a_password_of_spaces_is_refused() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let html = app.get(&format!("/admin/users/{id}")).as_staff(&admin).await.body;
    let csrf = csrf_of(&html);
    let before: String = {
        use sipas::schema::users;
        users::table.find(id).select(users::password_hash).first(&mut app.conn()).unwrap()
    };
    for password in [
        "          ",
        "   abc   def    ",
        "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}",
    ] {
        let r = app
            .post_form(&format!("/admin/users/{id}/password"), &[("password", password), ("csrf", &csrf)])
            .as_staff(&admin)
            .await;
        assert_eq!(r.status, 422, "{password:?}: {}", r.body);
        assert!(r.body.contains("không kể dấu cách"), "{}", r.body);
    }
    let after: String = {
        use sipas::schema::users;
        users::table.find(id).select(users::password_hash).first(&mut app.conn()).unwrap()
    };
    assert_eq!(before, after);
}

// ------------------------------------------------------------------ finding 14: smaller ones

#[actix_web::test]
async fn finding_14_json_is_not_cached_https_is_sticky_and_a_forged_forwarded_host_is_no_origin() {
    let app = TestApp::with_config(|c| c.public_base_url = Some("https://sipas.example.vn".into())).await;
    people(&app);
    let key = app.api_key(SEED.unit);
    let r = app.get("/api/v1/officers").with_key(&key).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(r.header("strict-transport-security"), "max-age=31536000");
    // errors too
    let r = app.get("/api/v1/officers").await;
    assert_eq!(r.header("cache-control"), "no-store");
    // the public contract keeps its own caching
    assert!(app.get("/api/openapi.json").await.header("cache-control").contains("max-age"));

    // a cross-site write that names its own origin as the forwarded host is still cross-site
    let admin = sign_in(&app, "admin").await;
    let csrf = crate::fixtures::session_csrf(&app, &admin).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let r = app
        .post_form(&format!("/admin/users/{id}/active"), &[("active", "false"), ("csrf", &csrf)])
        .as_staff(&admin)
        .peer("198.51.100.7:5000")
        .header("origin", "https://evil.example")
        .header("x-forwarded-host", "evil.example")
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let active =
        count(&mut app.conn(), &format!("SELECT count(*) AS n FROM users WHERE id = {id} AND active"));
    assert_eq!(active, 1);
}

// ------------------------------------------------------------------ finding 14: survey tokens at rest

/// The invitation row whose token has this hash, in its text form (every column), and the clear
/// columns.
fn stored_row(app: &TestApp, token: &str) -> (String, Option<String>, Option<String>) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        token: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        code: Option<String>,
    }
    let row: Row =
        diesel::sql_query("SELECT i::text AS t, i.token, i.code FROM invitations i WHERE i.token_hash = $1")
            .bind::<diesel::sql_types::Text, _>(app.token_hash(token))
            .get_result(&mut app.conn())
            .unwrap_or_else(|e| panic!("no invitation under the token's hash: {e}"));
    (row.t, row.token, row.code)
}

fn issue_case(case: &str) -> serde_json::Value {
    json!({
        "procedure_code": SEED.procedures[0],
        "officer_code": SEED.officers[0],
        "unit_code": SEED.unit,
        "case_number": case,
    })
}

#[actix_web::test]
async fn finding_14_survey_tokens_and_codes_are_not_stored_in_clear() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let r = app.post_json("/api/v1/invitations", &issue_case("HS-14-0001")).with_key(&key).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let issued = r.json();
    let token = issued["token"].as_str().unwrap_or_default().to_string();
    let code = issued["code"].as_str().unwrap_or_default().to_string();
    assert!(token.len() >= 22 && code.len() == 8, "{issued}");

    // a copy of the database: neither the token nor the code anywhere in the row
    let (text, clear_token, clear_code) = stored_row(&app, &token);
    assert_eq!((clear_token, clear_code), (None, None));
    assert!(!text.contains(&token), "the token is stored: {text}");
    assert!(!text.contains(&code), "the code is stored: {text}");
    assert!(!text.contains(&sipas::invitations::model::TypedCode::display(&code)), "{text}");
    let stored = count(
        &mut app.conn(),
        &format!(
            "SELECT count(*) AS n FROM invitations i WHERE i::text LIKE '%{token}%' OR i::text LIKE '%{code}%'"
        ),
    );
    assert_eq!(stored, 0);

    // the same case number again: the same invitation, opened from its seal
    let r = app.post_json("/api/v1/invitations", &issue_case("HS-14-0001")).with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["token"].as_str(), r.json()["code"].as_str()),
        (Some(token.as_str()), Some(code.as_str()))
    );

    // the customer screen still draws the slip's QR code
    let r = app.get("/api/v1/invitations/latest").with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["invitation"]["token"], token.as_str(), "{}", r.body);
    assert_eq!(r.json()["invitation"]["code"], code.as_str());

    // the printed slip still shows the typed code, its QR code still exists
    let r = app.get(&format!("/slips/{token}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&sipas::invitations::model::TypedCode::display(&code)), "{}", r.body);
    assert_eq!(app.get(&format!("/q/{token}.svg")).await.status, 200);

    // the typed code still leads to the survey, which still opens and takes the answer
    let r = app.get(&format!("/c/{code}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location().as_deref(), Some(format!("/s/{token}").as_str()));
    assert_eq!(app.get(&format!("/s/{token}")).await.status, 200);
    let r = answer_from(&app, &token, "198.51.100.14", PHONE, json!({"CASE.OVERALL": 5})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // what the database holds opens nothing: the hash is no token
    let hash = app.token_hash(&token);
    assert_eq!(app.get(&format!("/s/{hash}")).await.status, 404);
}

#[actix_web::test]
async fn finding_14_a_row_stored_in_clear_is_converted_at_start_up_and_still_answerable() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    // a row as the release before wrote it: token and code in clear, bound to a case number
    let token = "OldRelease_token-0123456789".to_string();
    let code = sipas::invitations::model::TypedCode::generate().as_str().to_string();
    let current = app.state.instruments.current();
    let id = count(
        &mut app.conn(),
        &format!(
            "INSERT INTO invitations (token, code, unit_code, officer_code, procedure_code, channel, \
             instrument_id, instrument_version, issued_at, expires_at, issued_by) VALUES \
             ('{token}', '{code}', '{}', '{}', '{}', 'desk', '{}', '{}', now() - interval '1 hour', \
             now() + interval '6 days', 'api-key:0') RETURNING id AS n",
            SEED.unit, SEED.officers[0], SEED.procedures[0], current.meta.id, current.meta.version
        ),
    );
    diesel::sql_query(format!(
        "INSERT INTO case_links (invitation_id, unit_code, case_number) VALUES ({id}, '{}', 'HS-OLD-1')",
        SEED.unit
    ))
    .execute(&mut app.conn())
    .unwrap();
    assert_eq!(app.get(&format!("/s/{token}")).await.status, 404, "a clear row is not looked up in clear");

    // the next start of the service converts it before serving
    let restarted = TestApp::on_url(&app.url).await;
    let (text, clear_token, clear_code) = stored_row(&restarted, &token);
    assert_eq!((clear_token, clear_code), (None, None), "{text}");
    assert!(!text.contains(&token) && !text.contains(&code), "{text}");
    let sealed: Vec<u8> = {
        use sipas::schema::invitations;
        invitations::table
            .find(id)
            .select(invitations::sealed)
            .first::<Option<Vec<u8>>>(&mut restarted.conn())
            .unwrap()
            .unwrap_or_default()
    };
    assert_eq!(
        sipas::kernel::survey_secrets::open(&restarted.state.secret, id, &sealed),
        Some((token.clone(), code.clone()))
    );
    // a second start finds nothing left to convert
    let left =
        sipas::kernel::survey_secrets::convert_clear_rows(&mut restarted.conn(), &restarted.state.secret);
    assert_eq!(left.unwrap(), 0);

    // and it works as before: the typed code, the survey, the answer, the re-issue
    let r = restarted.get(&format!("/c/{code}")).await;
    assert_eq!(r.location().as_deref(), Some(format!("/s/{token}").as_str()), "{}", r.status);
    assert_eq!(restarted.get(&format!("/s/{token}")).await.status, 200);
    let r = answer_from(&restarted, &token, "198.51.100.15", PHONE, json!({"CASE.OVERALL": 4})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = restarted.post_json("/api/v1/invitations", &issue_case("HS-OLD-1")).with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["token"], token.as_str());
    assert_eq!(r.json()["code"], code.as_str());
}

// ------------------------------------------------------------------ finding 3: officers' scope

#[actix_web::test]
async fn finding_3_officers_export_and_report_only_their_own_figures() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    people(&app);
    // two answers for officer 1, three for officer 2, yesterday (an officer's own figures are of
    // closed days, finding 2)
    for (officer, n, score) in [(SEED.officers[0], 2, 5), (SEED.officers[1], 3, 1)] {
        for i in 0..n {
            past_case(&app, officer, days_ago(1, 8 + i), score);
        }
    }
    let yesterday = sipas::kernel::time::today() - chrono::Duration::days(1);
    use chrono::Datelike as _;
    let period = format!("{}-Q{}", yesterday.year(), (yesterday.month() - 1) / 3 + 1);
    let officer = sign_in(&app, "officer1").await;
    let leader = sign_in(&app, "leader").await;
    let path = format!("/api/v1/exports/province?period={period}&format=json");
    let mine = app.get(&path).as_staff(&officer).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let doc = mine.json();
    let c = &doc["content"];
    assert_eq!(c["totals"]["responses"], 2, "{c}");
    let officers: Vec<&str> =
        c["officers"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    assert_eq!(officers, vec![SEED.officers[0]]);
    assert!(!mine.body.contains(SEED.officers[1]), "the colleague's figures are in the officer's export");
    // the leader's export is the whole unit's
    let all = app.get(&path).as_staff(&leader).await.json();
    assert_eq!(all["content"]["totals"]["responses"], 5);
    assert!(all["content"]["officers"].as_array().unwrap().len() >= 2);
    // the periodic report: the officer's own, and it says so
    let report = app.get(&format!("/reports/periodic?period={period}")).as_staff(&officer).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains("số liệu riêng của cán bộ"), "{}", report.body);
    assert!(!report.body.contains(SEED.officers[1]), "the colleague is in the officer's report");
    let whole = app.get(&format!("/reports/periodic?period={period}")).as_staff(&leader).await;
    assert!(whole.body.contains(SEED.officers[1]) && !whole.body.contains("số liệu riêng"));
}

// ------------------------------------------------------------------ findings 2 and 7: differencing

/// The local day `days` before today, at `hour` local time.
fn days_ago(days: i64, hour: u32) -> chrono::DateTime<chrono::Utc> {
    let day = sipas::kernel::time::today() - chrono::Duration::days(days);
    sipas::kernel::time::midnight(day) + chrono::Duration::hours(i64::from(hour))
}

/// One answered case of `officer` at `at`, through the writers' interface.
fn past_case(app: &TestApp, officer: &str, at: chrono::DateTime<chrono::Utc>, overall: i64) {
    let inv = crate::fixtures::issue(app, officer, SEED.procedures[0], "desk", at);
    crate::fixtures::answer(app, inv.id, at, &[("CASE.OVERALL", json!(overall)), ("E3.1", json!(4))]);
}

/// Everything an officer (and anyone, for the public page) reads that holds figures, as text, with
/// what differs from one reading to the next for reasons of its own (an export's id and time) cut.
async fn officer_readings(
    app: &TestApp,
    officer: &actix_web::cookie::Cookie<'static>,
) -> Vec<(String, String)> {
    use chrono::Datelike as _;
    let today = sipas::kernel::time::today();
    let from = today - chrono::Duration::days(60);
    let quarter = format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1);
    let range = format!("from={from}&to={today}");
    let mut out = Vec::new();
    for uri in [
        "/dashboard".to_string(),
        format!("/dashboard?period=custom&{range}"),
        format!("/dashboard/officers/{}?period=custom&{range}", SEED.officers[0]),
        format!("/api/v1/stats?{range}"),
        format!("/api/v1/stats?{range}&group_by=month"),
        "/api/v1/followups".to_string(),
        "/followups".to_string(),
        format!("/reports/periodic?period={quarter}"),
    ] {
        let r = app.get(&uri).as_staff(officer).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.body);
        out.push((uri, r.body));
    }
    let export =
        app.get(&format!("/api/v1/exports/province?period={quarter}&format=json")).as_staff(officer).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let c = &export.json()["content"];
    out.push(("export".into(), format!("{} {} {}", c["totals"], c["unit_figures"], c["officers"])));
    for uri in [format!("/public/{}", SEED.unit), format!("/api/v1/public/{}", SEED.unit)] {
        let r = app.get(&uri).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.body);
        out.push((uri, r.body));
    }
    // the periodic report prints when it was made and its export's id: leave that line out
    for (uri, body) in &mut out {
        if uri.starts_with("/reports/") {
            *body = body.lines().filter(|l| !l.contains("Số liệu lập lúc")).collect();
        }
    }
    out
}

#[actix_web::test]
async fn finding_2_serving_one_resident_moves_nothing_the_officer_or_the_public_reads() {
    let app = TestApp::new().await;
    people(&app);
    // the officer's earlier cases: six on past days, so one block of five is released and one
    // answer waits; a closed quarter of the unit for the public page
    for i in 0..6 {
        past_case(&app, SEED.officers[0], days_ago(20 - i, 9), 4);
    }
    let last_quarter = {
        use chrono::Datelike as _;
        let today = sipas::kernel::time::today();
        let start =
            chrono::NaiveDate::from_ymd_opt(today.year(), (today.month() - 1) / 3 * 3 + 1, 1).unwrap();
        sipas::kernel::time::midnight(start - chrono::Duration::days(20)) + chrono::Duration::hours(9)
    };
    for i in 0..6 {
        past_case(&app, SEED.officers[1], last_quarter + chrono::Duration::minutes(i), 5);
    }
    let officer = sign_in(&app, "officer1").await;
    let leader = sign_in(&app, "leader").await;
    let today = sipas::kernel::time::today();
    let leaders_view = format!(
        "/api/v1/stats?from={}&to={today}&officer={}&include_flagged=true",
        today - chrono::Duration::days(60),
        SEED.officers[0]
    );
    let live_before = app.get(&leaders_view).as_staff(&leader).await.json();
    let before = officer_readings(&app, &officer).await;
    let own = app.get(&before[3].0).as_staff(&officer).await.json();
    assert_eq!(own["groups"][0]["responses"], 5, "one released block of five: {own}");
    assert!(own["released"]["through"].is_string(), "{own}");
    let public = &before.iter().find(|(uri, _)| uri.starts_with("/api/v1/public/")).unwrap().1;
    assert!(public.contains("\"latest\":{"), "the public page shows the closed quarter: {public}");

    // serve one resident: issued by the officer's own session, answered with telling answers
    let issued = app
        .post_json(
            "/api/v1/invitations",
            &json!({"procedure_code": SEED.procedures[1], "officer_code": SEED.officers[0], "unit_code": SEED.unit}),
        )
        .as_staff(&officer)
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let token = issued.json()["token"].as_str().unwrap_or_default().to_string();
    let answers = json!({
        "CASE.OVERALL": 1, "TT01.I7": 2, "CASE.EXTRA_COST": 2, "E3.1": 1, "E3.2": 1,
        "COMMENT": "Cán bộ gây khó dễ, đòi thêm tiền", "REPLY.WANTED": 1, "D.AGE": 5, "D.SEX": 2,
    });
    let r = answer_from(&app, &token, "198.51.100.77", PHONE, answers).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // the leader's live view moved (so the answer is there to be seen; answered this fast, it is
    // held for review) …
    let live_after = app.get(&leaders_view).as_staff(&leader).await.json();
    assert_eq!(
        live_after["groups"][0]["responses"],
        live_before["groups"][0]["responses"].as_u64().unwrap() + 1
    );
    let complaints = app.get("/api/v1/followups?trigger=harassment").as_staff(&leader).await.json();
    assert_eq!(complaints["followups"].as_array().map_or(0, Vec::len), 1, "{complaints}");
    // … and nothing the officer or the public reads did
    let after = officer_readings(&app, &officer).await;
    for ((uri, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{uri} moved after serving one resident");
    }
    // nor does any of it carry the complaint or its comment
    for (uri, body) in &after {
        assert!(!body.contains("đòi thêm tiền") && !body.contains("harassment"), "{uri}: {body}");
    }
    // breakdowns that would split a release block are refused to officers
    for q in [
        "group_by=procedure",
        "group_by=channel",
        "channel=desk",
        &format!("procedure={}", SEED.procedures[1]),
    ] {
        let r = app.get(&format!("/api/v1/stats?from=2026-01-01&to={today}&{q}")).as_staff(&officer).await;
        assert_eq!(r.status, 403, "{q}: {}", r.body);
    }
    let r = app.get(&format!("/api/v1/followups?from={today}")).as_staff(&officer).await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[actix_web::test]
async fn finding_2_an_officers_figures_advance_once_a_block_of_answers_has_gathered() {
    let app = TestApp::new().await;
    people(&app);
    let officer = sign_in(&app, "officer1").await;
    let today = sipas::kernel::time::today();
    let uri = format!("/api/v1/stats?from={}&to={today}", today - chrono::Duration::days(30));
    let read = || async { app.get(&uri).as_staff(&officer).await.json() };
    // four answers of closed days: not a block yet
    for i in 0..4 {
        past_case(&app, SEED.officers[0], days_ago(5, 8 + i), 5);
    }
    let r = read().await;
    assert_eq!(r["groups"][0]["responses"], 0, "{r}");
    assert!(r["released"]["through"].is_null(), "{r}");
    assert_eq!(r["released"]["block"], 5);
    // the fifth completes it: all five show at once
    past_case(&app, SEED.officers[0], days_ago(3, 9), 1);
    let r = read().await;
    assert_eq!(r["groups"][0]["responses"], 5, "{r}");
    assert_eq!(r["groups"][0]["overall"]["counts"]["5"], 4, "{r}");
    assert_eq!(r["released"]["through"], (today - chrono::Duration::days(3)).to_string());
    // four more, and answers of today, wait; a fifth of a closed day releases the next block
    for i in 0..4 {
        past_case(&app, SEED.officers[0], days_ago(2, 8 + i), 2);
    }
    for i in 0..6 {
        past_case(
            &app,
            SEED.officers[0],
            sipas::kernel::time::midnight(today) + chrono::Duration::minutes(i),
            3,
        );
    }
    assert_eq!(read().await["groups"][0]["responses"], 5);
    past_case(&app, SEED.officers[0], days_ago(1, 9), 2);
    let r = read().await;
    assert_eq!(r["groups"][0]["responses"], 10, "{r}");
    assert_eq!(r["released"]["through"], (today - chrono::Duration::days(1)).to_string());
    // the officer's page says how its figures are released
    let page = app.get("/dashboard").as_staff(&officer).await;
    assert!(page.body.contains("id=\"released\""), "{}", page.body);
}
