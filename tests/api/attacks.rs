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

// ------------------------------------------------------------------ finding 3: officers' scope

#[actix_web::test]
async fn finding_3_officers_export_and_report_only_their_own_figures() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    people(&app);
    // two answers for officer 1, three for officer 2, in the current quarter
    for (officer, n, score) in [(SEED.officers[0], 2, 5), (SEED.officers[1], 3, 1)] {
        for i in 0..n {
            let token = invite(&app, officer, 10).token;
            let r = answer_from(
                &app,
                &token,
                &format!("198.51.100.{}", 10 + i),
                PHONE,
                json!({"CASE.OVERALL": score}),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    }
    let today = sipas::kernel::time::today();
    use chrono::Datelike as _;
    let period = format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1);
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
