//! Staff web: sign-in through the real form, sessions, roles on pages and API, throttling,
//! account and master-data pages, the audit log.

use actix_web::cookie::SameSite;
use diesel::prelude::*;

use crate::fixtures::{
    PASSWORD, count, csrf_of, login_form, people, post_login, post_login_via, session_csrf, sign_in,
};
use crate::harness::{Reply, SEED, TestApp};

#[actix_web::test]
async fn a_login_post_without_the_forms_csrf_token_is_refused() {
    let app = TestApp::new().await;
    people(&app);
    // no token, no cookie
    let res = app.post_form("/login", &[("username", "leader"), ("password", PASSWORD)]).await;
    assert_eq!(res.status, 403);
    assert!(res.cookie("sipas_session").is_none());
    // the cookie without the form's token
    let (cookie, _) = login_form(&app).await;
    let res = app
        .post_form("/login", &[("username", "leader"), ("password", PASSWORD), ("csrf", "forged")])
        .cookie(cookie.clone())
        .await;
    assert_eq!(res.status, 403);
    assert!(res.cookie("sipas_session").is_none());
    // the token without its cookie (another browser's token)
    let (_, token) = login_form(&app).await;
    let form = [("username", "leader"), ("password", PASSWORD), ("csrf", token.as_str())];
    assert_eq!(app.post_form("/login", &form).await.status, 403);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'login.success'"),
        0
    );
}

#[actix_web::test]
async fn the_session_cookie_is_http_only_same_site_encrypted_and_secure_over_https() {
    let app =
        TestApp::with_config(|c| c.public_base_url = Some("https://khaosat.chiemhoa.gov.vn".into())).await;
    people(&app);
    let res = post_login(&app, "leader", PASSWORD, "10.0.0.1:1000").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.headers.get("location").and_then(|v| v.to_str().ok()), Some("/dashboard"));
    let raw: Vec<String> = res
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .filter(|v| v.starts_with("sipas_session="))
        .collect();
    assert_eq!(raw.len(), 1, "{raw:?}");
    assert!(
        raw[0].contains("HttpOnly") && raw[0].contains("SameSite=Lax") && raw[0].contains("Secure"),
        "{}",
        raw[0]
    );
    let cookie = res.cookie("sipas_session").expect("no cookie");
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert!(
        !cookie.value().contains("uid") && !cookie.value().contains("leader"),
        "not encrypted: {}",
        cookie.value()
    );
    // a tampered cookie is no session
    let mut forged = cookie.clone();
    let mut value = forged.value().to_string();
    let last = value.pop().map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    value.push(last);
    forged.set_value(value);
    let r = app.get("/admin/users").as_staff(&forged).await;
    let (status, location) = (r.status, r.location());
    assert_eq!(status, 303);
    assert!(location.unwrap_or_default().starts_with("/login"));
}

#[actix_web::test]
async fn over_http_the_session_cookie_is_not_marked_secure() {
    let app = TestApp::new().await;
    people(&app);
    let res = post_login(&app, "leader", PASSWORD, "10.0.0.1:1000").await;
    let cookie = res.cookie("sipas_session").expect("no cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_ne!(cookie.secure(), Some(true));
}

#[actix_web::test]
async fn twelve_wrong_passwords_in_a_row_lock_the_account_for_that_client_and_admins_see_the_lock() {
    let app = TestApp::new().await;
    people(&app);
    for i in 0..12 {
        let res = post_login(&app, "leader", "wrong-password-123", "10.9.0.1:4000").await;
        assert_eq!(res.status, 401, "attempt {i}");
        assert!(res.cookie("sipas_session").is_none());
    }
    // the right password no longer opens the account from that client
    let res = post_login(&app, "leader", PASSWORD, "10.9.0.1:4000").await;
    assert_eq!(res.status, 401);
    assert!(res.cookie("sipas_session").is_none());
    let locked = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM users WHERE username = 'leader' AND locked_until > now() + interval '10 minutes'",
    );
    assert_eq!(locked, 1);
    // the lock is visible to admins, who can lift it
    let admin = sign_in(&app, "admin").await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let Reply { status, body: html, .. } = app.get("/admin/users").as_staff(&admin).await;
    assert_eq!(status, 200);
    assert!(html.contains("Máy nhập sai bị chặn đến"), "{html}");
    let csrf = csrf_of(&html);
    let status =
        app.post_form(&format!("/admin/users/{id}/unlock"), &[("csrf", &csrf)]).as_staff(&admin).await.status;
    assert_eq!(status, 303);
    assert_eq!(post_login(&app, "leader", PASSWORD, "10.9.0.1:4000").await.status, 303);
    // the log holds the first failure and the lock, not a row per attempt (finding 9)
    let failed = count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'login.failed'");
    assert_eq!(failed, 2);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'user.unlock'"), 1);
}

#[actix_web::test]
async fn one_client_guessing_many_accounts_is_blocked() {
    let app = TestApp::new().await;
    people(&app);
    for i in 0..30 {
        let res = post_login(&app, &format!("nobody{i}"), "wrong-password-123", "10.7.7.7:999").await;
        assert_eq!(res.status, 401, "attempt {i}");
    }
    // even a right password is refused from that client for a while …
    let res = post_login(&app, "leader", PASSWORD, "10.7.7.7:999").await;
    assert_eq!(res.status, 429);
    // … but not from another one
    let res = post_login(&app, "leader", PASSWORD, "10.7.7.8:999").await;
    assert_eq!(res.status, 303);
    // only a salted hash of the address is kept
    let plain = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM login_throttle WHERE client_hash LIKE '%10.7.7.7%'",
    );
    assert_eq!(plain, 0);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_sign_in_throttling_keys_on_the_forwarded_client() {
    let app = TestApp::with_config(|c| {
        c.trusted_proxies = sipas::kernel::net::parse_list("10.0.0.0/8").unwrap();
    })
    .await;
    people(&app);
    let proxy = "10.0.0.1:4000";
    for i in 0..30 {
        let res =
            post_login_via(&app, &format!("nobody{i}"), "wrong-password-123", proxy, Some("203.0.113.7"))
                .await;
        assert_eq!(res.status, 401, "attempt {i}");
    }
    // the guessing client is blocked, whichever account it tries …
    let res = post_login_via(&app, "leader", PASSWORD, proxy, Some("203.0.113.7")).await;
    assert_eq!(res.status, 429);
    // … while another client behind the same proxy still signs in
    let res = post_login_via(&app, "leader", PASSWORD, proxy, Some("203.0.113.8")).await;
    assert_eq!(res.status, 303);
    // a client that is not a trusted proxy cannot pick its address: 30 failures under ever new
    // forwarded addresses still block its own
    for i in 0..30 {
        let spoofed = format!("198.51.100.{i}");
        let res =
            post_login_via(&app, &format!("nobody{i}"), "wrong-password-123", "192.0.2.9:1", Some(&spoofed))
                .await;
        assert_eq!(res.status, 401, "attempt {i}");
    }
    let res = post_login_via(&app, "leader", PASSWORD, "192.0.2.9:1", Some("198.51.100.200")).await;
    assert_eq!(res.status, 429);
}

#[actix_web::test]
async fn admin_pages_refuse_leaders_and_officers_and_send_anonymous_visitors_to_sign_in() {
    let app = TestApp::new().await;
    people(&app);
    let leader = sign_in(&app, "leader").await;
    let officer = sign_in(&app, "officer1").await;
    for uri in ["/admin/users", "/admin/users/1", "/admin/masterdata", "/admin/audit"] {
        let Reply { status, body: html, .. } = app.get(uri).as_staff(&leader).await;
        assert_eq!(status, 403, "{uri} for a leader");
        assert!(html.contains("Không có quyền truy cập"), "{html}");
        assert_eq!(app.get(uri).as_staff(&officer).await.status, 403, "{uri} for an officer");
        let r = app.get(uri).await;
        let (status, location) = (r.status, r.location());
        assert_eq!(status, 303, "{uri} anonymous");
        assert!(location.unwrap_or_default().starts_with("/login?next=%2Fadmin"), "{uri}");
    }
    // a leader cannot post an admin form either, even with their own valid token
    let csrf = session_csrf(&app, &leader).await;
    let status = app
        .post_form(
            "/admin/users",
            &[("csrf", &csrf), ("username", "mole"), ("password", "another-good-pass-1"), ("role", "admin")],
        )
        .as_staff(&leader)
        .await
        .status;
    assert_eq!(status, 403);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM users WHERE username = 'mole'"), 0);
    // the API answers anonymous callers 401 in JSON
    let res = app.get("/api/v1/me").await;
    assert_eq!(res.status, 401);
    let body = res.json();
    assert_eq!(body["error"], "unauthorized");
}

#[actix_web::test]
async fn the_api_knows_a_signed_in_officer_and_their_scope() {
    let app = TestApp::new().await;
    people(&app);
    let officer = sign_in(&app, "officer1").await;
    let body = app.get("/api/v1/me").as_staff(&officer).await.json();
    assert_eq!(body["role"], "officer");
    assert_eq!(body["unit_scope"], SEED.unit);
    assert_eq!(body["officer_scope"], SEED.officers[0]);
    let admin = sign_in(&app, "admin").await;
    let body = app.get("/api/v1/me").as_staff(&admin).await.json();
    assert_eq!(body["unit_scope"], serde_json::Value::Null);
}

#[actix_web::test]
async fn a_deactivated_account_is_signed_out_at_once() {
    let app = TestApp::new().await;
    people(&app);
    let leader = sign_in(&app, "leader").await;
    assert_eq!(app.get("/api/v1/me").as_staff(&leader).await.status, 200);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let status = app
        .post_form(&format!("/admin/users/{id}/active"), &[("csrf", &csrf), ("active", "false")])
        .as_staff(&admin)
        .await
        .status;
    assert_eq!(status, 303);
    assert_eq!(app.get("/api/v1/me").as_staff(&leader).await.status, 401);
    assert_eq!(post_login(&app, "leader", PASSWORD, "10.0.0.9:1").await.status, 401);
}

#[actix_web::test]
async fn an_admin_creates_a_province_account_that_reaches_the_province_pages_and_nothing_of_a_commune() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    // the form's unit select is ignored for the province role: the account belongs to no unit
    let Reply { status, body: html, .. } = app
        .post_form(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "so.noivu"),
                ("password", PASSWORD),
                ("role", "province"),
                ("unit", SEED.unit),
                ("officer", ""),
            ],
        )
        .as_staff(&admin)
        .await;
    assert_eq!(status, 303, "{html}");
    let (role, unit): (String, Option<String>) = sipas::schema::users::table
        .filter(sipas::schema::users::username.eq("so.noivu"))
        .select((sipas::schema::users::role, sipas::schema::users::unit_code))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!((role.as_str(), unit), ("province", None));
    // the database refuses a province account tied to a unit
    let tied = diesel::sql_query("UPDATE users SET unit_code = 'CHIEMHOA' WHERE username = 'so.noivu'")
        .execute(&mut app.conn());
    assert!(tied.is_err(), "a province account with a unit was stored");
    // signing in lands on the upload page, not on a dashboard it may not see
    let res = post_login(&app, "so.noivu", PASSWORD, "10.1.2.3:5000").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.headers.get("location").and_then(|v| v.to_str().ok()), Some("/province/upload"));
    let province = res.cookie("sipas_session").expect("no session");
    assert_eq!(app.get("/province/upload").as_staff(&province).await.status, 200);
    for uri in [
        "/dashboard",
        "/integrity",
        "/followups",
        "/admin/users",
        "/api/v1/stats?from=2026-01-01&to=2026-01-31",
    ] {
        assert_eq!(app.get(uri).as_staff(&province).await.status, 403, "{uri} for province staff");
    }
    // the leader of a commune does not see the ranking (see src/auth/access.rs)
    let leader = sign_in(&app, "leader").await;
    assert_eq!(app.get("/province/ranking?period=2026-Q1").as_staff(&leader).await.status, 403);
    assert_eq!(app.get("/province/upload").as_staff(&leader).await.status, 403);
}

#[actix_web::test]
async fn an_admin_creates_accounts_through_the_page_and_weak_passwords_are_refused() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let form = |pw: &'static str, officer: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("username", "Hoa.MT".to_string()),
            ("password", pw.to_string()),
            ("role", "officer".to_string()),
            ("unit", SEED.unit.to_string()),
            ("officer", officer.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.post_form("/admin/users", &pairs).as_staff(&admin).await;
            (r.status, r.body.clone(), r.location())
        }
    };
    let (status, html, _) = post(form("Password1234", SEED.officers[1])).await;
    assert_eq!(status, 422);
    assert!(html.contains("quá phổ biến"), "{html}");
    let (status, html, _) = post(form("short", SEED.officers[1])).await;
    assert_eq!(status, 422, "{html}");
    let (status, html, _) = post(form(PASSWORD, SEED.other_officer)).await;
    assert_eq!(status, 422);
    assert!(html.contains("KIMBINH"), "an officer of another unit is refused: {html}");
    let (status, _, location) = post(form(PASSWORD, SEED.officers[1])).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/admin/users?done=created"));
    // usernames are case-insensitive
    let (status, html, _) = post(vec![
        ("csrf", csrf.clone()),
        ("username", "hoa.mt".into()),
        ("password", PASSWORD.into()),
        ("role", "leader".into()),
        ("unit", SEED.unit.into()),
    ])
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("đã có"), "{html}");
    sign_in(&app, "HOA.mt").await;
    assert_eq!(
        count(
            &mut app.conn(),
            "SELECT count(*) AS n FROM audit_log WHERE action = 'user.create' AND actor LIKE 'user:%'"
        ),
        1
    );
    // a stored hash is Argon2id, never the password
    let stored =
        count(&mut app.conn(), "SELECT count(*) AS n FROM users WHERE password_hash LIKE '$argon2id$%'");
    assert_eq!(stored, 4);
}

#[actix_web::test]
async fn a_master_data_import_from_the_page_is_all_or_nothing_with_the_line_named() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let bad = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,,CHIEMHOA\n";
    let Reply { status, body: html, .. } = app
        .post_form("/admin/masterdata/import", &[("csrf", &csrf), ("kind", "officers"), ("csv", bad)])
        .as_staff(&admin)
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("line 3, column 2 (name): is empty"), "{html}");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03'"), 0);
    let unknown_unit = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,Đỗ Thị Hà,NOWHERE\n";
    let Reply { status, body: html, .. } = app
        .post_form(
            "/admin/masterdata/import",
            &[("csrf", &csrf), ("kind", "officers"), ("csv", unknown_unit)],
        )
        .as_staff(&admin)
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("line 3"), "{html}");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03'"), 0);
    let good = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,Đỗ Thị Hà,CHIEMHOA\n";
    let Reply { status, body: html, .. } = app
        .post_form("/admin/masterdata/import", &[("csrf", &csrf), ("kind", "officers"), ("csv", good)])
        .as_staff(&admin)
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Đã nhập 2 dòng: 2 mới, 0 cập nhật."), "{html}");
    assert!(html.contains("Đỗ Thị Hà"));
    let audited = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM audit_log WHERE action = 'masterdata.import' AND actor LIKE 'user:%'",
    );
    assert_eq!(audited, 1);
    // deactivating an officer is audited too
    let status = app
        .post_form("/admin/officers/CB03/active", &[("csrf", &csrf), ("active", "false")])
        .as_staff(&admin)
        .await
        .status;
    assert_eq!(status, 303);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03' AND NOT active"),
        1
    );
    // and a form without the session's token changes nothing
    let status = app
        .post_form("/admin/officers/CB04/active", &[("csrf", "nope"), ("active", "false")])
        .as_staff(&admin)
        .await
        .status;
    assert_eq!(status, 403);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB04' AND active"),
        1
    );
}

#[actix_web::test]
async fn audit_rows_cannot_be_changed_or_deleted_even_by_the_services_own_database_user() {
    let app = TestApp::new().await;
    people(&app);
    sign_in(&app, "leader").await;
    let mut conn = app.state.pool.get().unwrap();
    let before = count(&mut conn, "SELECT count(*) AS n FROM audit_log");
    assert!(before >= 1);
    for sql in [
        "UPDATE audit_log SET actor = 'nobody'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_log SET details = '{}'::jsonb WHERE action = 'login.success'",
    ] {
        let refused = diesel::sql_query(sql).execute(&mut conn);
        assert!(refused.is_err(), "{sql} was allowed");
    }
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log"), before);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log WHERE actor = 'nobody'"), 0);
}

#[actix_web::test]
async fn the_audit_page_lists_sign_ins_and_filters_by_action_and_actor() {
    let app = TestApp::new().await;
    people(&app);
    let _ = post_login(&app, "leader", "wrong-password-123", "10.0.0.5:1").await;
    sign_in(&app, "leader").await;
    let admin = sign_in(&app, "admin").await;
    let Reply { status, body: html, .. } = app.get("/admin/audit").as_staff(&admin).await;
    assert_eq!(status, 200);
    assert!(html.contains("Đăng nhập thất bại") && html.contains("login.success"), "{html}");
    let html = app.get("/admin/audit?action=login.failed&actor=").as_staff(&admin).await.body;
    assert!(html.contains("login.failed") && !html.contains("<code>login.success</code>"), "{html}");
    let html = app.get("/admin/audit?action=&actor=cli").as_staff(&admin).await.body;
    assert!(html.contains("Không có dòng nào."), "{html}");
}

#[actix_web::test]
async fn a_signed_in_change_from_another_site_is_refused() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let form = [("csrf", csrf.as_str()), ("active", "false")];
    let res = app.post_form("/admin/officers/CB02/active", &form).header("origin", "https://evil.example");
    assert_eq!(res.as_staff(&admin).await.status, 403);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB02' AND active"),
        1
    );
}

#[actix_web::test]
async fn signing_out_ends_the_session_in_the_browser() {
    let app = TestApp::new().await;
    people(&app);
    let leader = sign_in(&app, "leader").await;
    let r = app.get("/login").as_staff(&leader).await;
    let (status, location) = (r.status, r.location());
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")), "signed in already");
    let csrf = session_csrf(&app, &leader).await;
    let res = app.post_form("/logout", &[("csrf", csrf.as_str())]).as_staff(&leader).await;
    assert_eq!(res.status, 303);
    let removal = res.cookie("sipas_session").expect("no removal cookie");
    assert_eq!(removal.value(), "");
}

#[actix_web::test]
async fn sipas_user_create_takes_the_password_from_the_environment_or_standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let app = TestApp::new().await;
    app.seed();
    let bin = env!("CARGO_BIN_EXE_sipas");
    let out = Command::new(bin)
        .args(["user", "create", "--username", "root.admin", "--role", "admin"])
        .env("DATABASE_URL", &app.url)
        .env("SIPAS_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // from standard input, and a common password is refused
    let mut child = Command::new(bin)
        .args([
            "user",
            "create",
            "--username",
            "lan",
            "--role",
            "officer",
            "--unit",
            SEED.unit,
            "--officer",
            "CB01",
        ])
        .env("DATABASE_URL", &app.url)
        .env_remove("SIPAS_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().map(|mut s| s.write_all(b"qwertyuiop\n"));
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("common"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // an officer needs an officer code
    let out = Command::new(bin)
        .args(["user", "create", "--username", "lan", "--role", "officer", "--unit", SEED.unit])
        .env("DATABASE_URL", &app.url)
        .env("SIPAS_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    sign_in(&app, "root.admin").await;
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM users"), 1);
}

#[actix_web::test]
async fn sessions_slide_while_used_and_end_after_30_idle_minutes_or_12_hours() {
    use sipas::auth::session::{self, SessionData};
    let app = TestApp::new().await;
    people(&app);
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let key = session::cookie_key(&app.state.secret);
    let now = chrono::Utc::now().timestamp();
    let cookie = |iat: i64, seen: i64| {
        let data = SessionData { uid: id, epoch: 0, iat, seen, csrf: "t".into() };
        session::session_cookie(&key, &data, false)
    };
    // used 5 minutes ago: valid, and the cookie is re-issued with the idle clock reset
    let res = app.get("/api/v1/me").as_staff(&cookie(now - 600, now - 300)).await;
    assert_eq!(res.status, 200);
    let fresh = res.cookie("sipas_session").expect("the session did not slide");
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.add_original(fresh);
    let seen = jar
        .private(&key)
        .get("sipas_session")
        .and_then(|c| serde_json::from_str::<SessionData>(c.value()).ok())
        .map_or(0, |d| d.seen);
    assert!(seen >= now, "the idle clock was not reset");
    // idle for 31 minutes, or signed in 13 hours ago: out
    assert_eq!(app.get("/api/v1/me").as_staff(&cookie(now - 3600, now - 31 * 60)).await.status, 401);
    assert_eq!(app.get("/api/v1/me").as_staff(&cookie(now - 13 * 3600, now - 60)).await.status, 401);
    // a session of an older epoch (password reset since) is out as well
    diesel::sql_query("UPDATE users SET session_epoch = session_epoch + 1").execute(&mut app.conn()).ok();
    assert_eq!(app.get("/api/v1/me").as_staff(&cookie(now - 60, now - 30)).await.status, 401);
}

#[actix_web::test]
async fn a_password_reset_or_a_role_change_by_an_admin_ends_the_accounts_sessions() {
    let app = TestApp::new().await;
    people(&app);
    let admin = sign_in(&app, "admin").await;
    let csrf = session_csrf(&app, &admin).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'officer1'");
    let officer = sign_in(&app, "officer1").await;
    // a common password is refused and changes nothing
    let uri = format!("/admin/users/{id}/password");
    let Reply { status, body: html, .. } =
        app.post_form(&uri, &[("csrf", &csrf), ("password", "iloveyou123")]).as_staff(&admin).await;
    assert_eq!(status, 422);
    assert!(html.contains("quá phổ biến"), "{html}");
    assert_eq!(app.get("/api/v1/me").as_staff(&officer).await.status, 200);
    let r =
        app.post_form(&uri, &[("csrf", &csrf), ("password", "một-mật-khẩu-mới-2026")]).as_staff(&admin).await;
    let (status, location) = (r.status, r.location());
    assert_eq!(status, 303);
    assert_eq!(location, Some(format!("/admin/users/{id}?done=password")));
    assert_eq!(app.get("/api/v1/me").as_staff(&officer).await.status, 401, "the old session still works");
    // the new password opens the account; a promotion to leader ends that session too
    let res = post_login(&app, "officer1", "một-mật-khẩu-mới-2026", "10.0.0.3:1").await;
    let officer = res.cookie("sipas_session").expect("new password refused");
    let status = app
        .post_form(
            &format!("/admin/users/{id}/scope"),
            &[("csrf", &csrf), ("role", "leader"), ("unit", SEED.unit), ("officer", "")],
        )
        .as_staff(&admin)
        .await
        .status;
    assert_eq!(status, 303);
    assert_eq!(app.get("/api/v1/me").as_staff(&officer).await.status, 401);
    let role = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM users WHERE username = 'officer1' AND role = 'leader' AND officer_code IS NULL",
    );
    assert_eq!(role, 1);
    // an admin cannot demote themself
    let me = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'admin'");
    let status = app
        .post_form(
            &format!("/admin/users/{me}/scope"),
            &[("csrf", &csrf), ("role", "leader"), ("unit", SEED.unit)],
        )
        .as_staff(&admin)
        .await
        .status;
    assert_eq!(status, 422);
    let audited = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM audit_log WHERE action IN ('user.reset_password', 'user.change_role')",
    );
    assert_eq!(audited, 2);
}
