//! Staff web: sign-in through the real form, sessions, roles on pages and API, throttling,
//! account and master-data pages, the audit log.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test as awt;
use diesel::prelude::*;
use sipas::staff::model::{Role, Scope};
use sipas::startup::build_app;

use crate::harness::{SEED, TestApp};

pub const PASSWORD: &str = "núi-Đá-xanh-2026";

/// Creates an account directly in the store.
pub fn account(app: &TestApp, username: &str, role: Role, unit: Option<&str>, officer: Option<&str>) -> i64 {
    let scope = Scope::new(role, unit.map(str::to_string), officer.map(str::to_string))
        .unwrap_or_else(|e| panic!("{e}"));
    let hash = sipas::staff::password::hash(PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    sipas::staff::store::create(&mut app.conn(), username, &hash, &scope, "test")
        .unwrap_or_else(|e| panic!("{e}"))
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

pub fn cookie_of<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response().cookies().find(|c| c.name() == name).map(|c| c.into_owned())
}

pub async fn body_text<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8_lossy(&awt::read_body(res).await).into_owned()
}

/// Opens the login form; returns its double-submit cookie and token.
pub async fn login_form<S, B>(svc: &S) -> (Cookie<'static>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = awt::call_service(svc, awt::TestRequest::get().uri("/login").to_request()).await;
    assert_eq!(res.status(), 200);
    let cookie = cookie_of(&res, "sipas_login_csrf").unwrap_or_else(|| panic!("no login csrf cookie"));
    let token = csrf_of(&body_text(res).await);
    (cookie, token)
}

/// Posts the login form from `peer`; returns the response.
pub async fn post_login<S, B>(svc: &S, username: &str, password: &str, peer: &str) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    post_login_via(svc, username, password, peer, None).await
}

/// Posts the login form from `peer`, which may say it forwards for `forwarded_for`.
pub async fn post_login_via<S, B>(
    svc: &S,
    username: &str,
    password: &str,
    peer: &str,
    forwarded_for: Option<&str>,
) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (cookie, token) = login_form(svc).await;
    let mut req = awt::TestRequest::post()
        .uri("/login")
        .peer_addr(peer.parse().unwrap_or_else(|e| panic!("{e}")))
        .cookie(cookie)
        .set_form([("username", username), ("password", password), ("csrf", &token), ("next", "/dashboard")]);
    if let Some(client) = forwarded_for {
        req = req.insert_header(("x-forwarded-for", client));
    }
    awt::call_service(svc, req.to_request()).await
}

/// Signs in through the form; returns the session cookie.
pub async fn sign_in<S, B>(svc: &S, username: &str) -> Cookie<'static>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = post_login(svc, username, PASSWORD, "10.1.2.3:5000").await;
    assert_eq!(res.status(), 303, "sign-in of {username} failed");
    cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("no session cookie"))
}

/// GET `uri` with a session; returns status and body.
pub async fn get_page<S, B>(
    svc: &S,
    uri: &str,
    session: Option<&Cookie<'static>>,
) -> (u16, String, Option<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = awt::TestRequest::get().uri(uri);
    if let Some(c) = session {
        req = req.cookie(c.clone());
    }
    let res = awt::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, body_text(res).await, location)
}

/// POST a form with a session; returns status, body and location.
pub async fn post_page<S, B>(
    svc: &S,
    uri: &str,
    session: &Cookie<'static>,
    form: &[(&str, &str)],
) -> (u16, String, Option<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = awt::TestRequest::post().uri(uri).cookie(session.clone()).set_form(form).to_request();
    let res = awt::call_service(svc, req).await;
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, body_text(res).await, location)
}

/// The CSRF token of a signed-in session (read from a page's form).
pub async fn session_csrf<S, B>(svc: &S, session: &Cookie<'static>) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, html, _) = get_page(svc, "/dashboard", Some(session)).await;
    assert_eq!(status, 200, "{html}");
    csrf_of(&html)
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

#[actix_web::test]
async fn a_login_post_without_the_forms_csrf_token_is_refused() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    // no token, no cookie
    let req = awt::TestRequest::post()
        .uri("/login")
        .set_form([("username", "leader"), ("password", PASSWORD)])
        .to_request();
    let res = awt::call_service(&svc, req).await;
    assert_eq!(res.status(), 403);
    assert!(cookie_of(&res, "sipas_session").is_none());
    // the cookie without the form's token
    let (cookie, _) = login_form(&svc).await;
    let req = awt::TestRequest::post()
        .uri("/login")
        .cookie(cookie.clone())
        .set_form([("username", "leader"), ("password", PASSWORD), ("csrf", "forged")])
        .to_request();
    let res = awt::call_service(&svc, req).await;
    assert_eq!(res.status(), 403);
    assert!(cookie_of(&res, "sipas_session").is_none());
    // the token without its cookie (another browser's token)
    let (_, token) = login_form(&svc).await;
    let req = awt::TestRequest::post()
        .uri("/login")
        .set_form([("username", "leader"), ("password", PASSWORD), ("csrf", token.as_str())])
        .to_request();
    assert_eq!(awt::call_service(&svc, req).await.status(), 403);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'login.success'"),
        0
    );
}

#[actix_web::test]
async fn the_session_cookie_is_http_only_same_site_encrypted_and_secure_over_https() {
    let app = TestApp::with_config(|c| c.public_base_url = "https://khaosat.chiemhoa.gov.vn".into()).await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let res = post_login(&svc, "leader", PASSWORD, "10.0.0.1:1000").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/dashboard"));
    let raw: Vec<String> = res
        .headers()
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
    let cookie = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("no cookie"));
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
    let (status, _, location) = get_page(&svc, "/admin/users", Some(&forged)).await;
    assert_eq!(status, 303);
    assert!(location.unwrap_or_default().starts_with("/login"));
}

#[actix_web::test]
async fn over_http_the_session_cookie_is_not_marked_secure() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let res = post_login(&svc, "leader", PASSWORD, "10.0.0.1:1000").await;
    let cookie = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("no cookie"));
    assert_eq!(cookie.http_only(), Some(true));
    assert_ne!(cookie.secure(), Some(true));
}

#[actix_web::test]
async fn twelve_wrong_passwords_in_a_row_lock_the_account_and_admins_see_the_lock() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    for i in 0..12 {
        let res = post_login(&svc, "leader", "wrong-password-123", &format!("10.9.0.{i}:4000")).await;
        assert_eq!(res.status(), 401, "attempt {i}");
        assert!(cookie_of(&res, "sipas_session").is_none());
    }
    // the right password no longer opens the account
    let res = post_login(&svc, "leader", PASSWORD, "10.9.1.1:4000").await;
    assert_eq!(res.status(), 401);
    assert!(cookie_of(&res, "sipas_session").is_none());
    let locked = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM users WHERE username = 'leader' AND locked_until > now() + interval '10 minutes'",
    );
    assert_eq!(locked, 1);
    // the lock is visible to admins, who can lift it
    let admin = sign_in(&svc, "admin").await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let (status, html, _) = get_page(&svc, "/admin/users", Some(&admin)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Tạm khóa đăng nhập đến"), "{html}");
    let csrf = csrf_of(&html);
    let (status, _, _) =
        post_page(&svc, &format!("/admin/users/{id}/unlock"), &admin, &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    sign_in(&svc, "leader").await;
    let failed = count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'login.failed'");
    assert_eq!(failed, 13);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'user.unlock'"), 1);
}

#[actix_web::test]
async fn one_client_guessing_many_accounts_is_blocked() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    for i in 0..30 {
        let res = post_login(&svc, &format!("nobody{i}"), "wrong-password-123", "10.7.7.7:999").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    // even a right password is refused from that client for a while …
    let res = post_login(&svc, "leader", PASSWORD, "10.7.7.7:999").await;
    assert_eq!(res.status(), 429);
    // … but not from another one
    let res = post_login(&svc, "leader", PASSWORD, "10.7.7.8:999").await;
    assert_eq!(res.status(), 303);
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
        c.trusted_proxies = sipas::integrity::net::parse_list("10.0.0.0/8").unwrap_or_else(|e| panic!("{e}"));
    })
    .await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let proxy = "10.0.0.1:4000";
    for i in 0..30 {
        let res =
            post_login_via(&svc, &format!("nobody{i}"), "wrong-password-123", proxy, Some("203.0.113.7"))
                .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    // the guessing client is blocked, whichever account it tries …
    let res = post_login_via(&svc, "leader", PASSWORD, proxy, Some("203.0.113.7")).await;
    assert_eq!(res.status(), 429);
    // … while another client behind the same proxy still signs in
    let res = post_login_via(&svc, "leader", PASSWORD, proxy, Some("203.0.113.8")).await;
    assert_eq!(res.status(), 303);
    // a client that is not a trusted proxy cannot pick its address: 30 failures under ever new
    // forwarded addresses still block its own
    for i in 0..30 {
        let spoofed = format!("198.51.100.{i}");
        let res =
            post_login_via(&svc, &format!("nobody{i}"), "wrong-password-123", "192.0.2.9:1", Some(&spoofed))
                .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = post_login_via(&svc, "leader", PASSWORD, "192.0.2.9:1", Some("198.51.100.200")).await;
    assert_eq!(res.status(), 429);
}

#[actix_web::test]
async fn admin_pages_refuse_leaders_and_officers_and_send_anonymous_visitors_to_sign_in() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let leader = sign_in(&svc, "leader").await;
    let officer = sign_in(&svc, "officer1").await;
    for uri in ["/admin/users", "/admin/users/1", "/admin/masterdata", "/admin/audit"] {
        let (status, html, _) = get_page(&svc, uri, Some(&leader)).await;
        assert_eq!(status, 403, "{uri} for a leader");
        assert!(html.contains("Không có quyền truy cập"), "{html}");
        assert_eq!(get_page(&svc, uri, Some(&officer)).await.0, 403, "{uri} for an officer");
        let (status, _, location) = get_page(&svc, uri, None).await;
        assert_eq!(status, 303, "{uri} anonymous");
        assert!(location.unwrap_or_default().starts_with("/login?next=%2Fadmin"), "{uri}");
    }
    // a leader cannot post an admin form either, even with their own valid token
    let csrf = session_csrf(&svc, &leader).await;
    let (status, _, _) = post_page(
        &svc,
        "/admin/users",
        &leader,
        &[("csrf", &csrf), ("username", "mole"), ("password", "another-good-pass-1"), ("role", "admin")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM users WHERE username = 'mole'"), 0);
    // the API answers anonymous callers 401 in JSON
    let res = awt::call_service(&svc, awt::TestRequest::get().uri("/api/v1/me").to_request()).await;
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = awt::read_body_json(res).await;
    assert_eq!(body["error"], "unauthorized");
}

#[actix_web::test]
async fn the_api_knows_a_signed_in_officer_and_their_scope() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let officer = sign_in(&svc, "officer1").await;
    let req = awt::TestRequest::get().uri("/api/v1/me").cookie(officer).to_request();
    let body: serde_json::Value = awt::call_and_read_body_json(&svc, req).await;
    assert_eq!(body["role"], "officer");
    assert_eq!(body["unit_scope"], SEED.unit);
    assert_eq!(body["officer_scope"], SEED.officers[0]);
    let admin = sign_in(&svc, "admin").await;
    let req = awt::TestRequest::get().uri("/api/v1/me").cookie(admin).to_request();
    let body: serde_json::Value = awt::call_and_read_body_json(&svc, req).await;
    assert_eq!(body["unit_scope"], serde_json::Value::Null);
}

#[actix_web::test]
async fn a_deactivated_account_is_signed_out_at_once() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let leader = sign_in(&svc, "leader").await;
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&leader)).await.0, 200);
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let (status, _, _) = post_page(
        &svc,
        &format!("/admin/users/{id}/active"),
        &admin,
        &[("csrf", &csrf), ("active", "false")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&leader)).await.0, 401);
    assert_eq!(post_login(&svc, "leader", PASSWORD, "10.0.0.9:1").await.status(), 401);
}

#[actix_web::test]
async fn an_admin_creates_a_province_account_that_reaches_the_province_pages_and_nothing_of_a_commune() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
    // the form's unit select is ignored for the province role: the account belongs to no unit
    let (status, html, _) = post_page(
        &svc,
        "/admin/users",
        &admin,
        &[
            ("csrf", &csrf),
            ("username", "so.noivu"),
            ("password", PASSWORD),
            ("role", "province"),
            ("unit", SEED.unit),
            ("officer", ""),
        ],
    )
    .await;
    assert_eq!(status, 303, "{html}");
    let (role, unit): (String, Option<String>) = sipas::schema::users::table
        .filter(sipas::schema::users::username.eq("so.noivu"))
        .select((sipas::schema::users::role, sipas::schema::users::unit_code))
        .first(&mut app.conn())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((role.as_str(), unit), ("province", None));
    // the database refuses a province account tied to a unit
    let tied = diesel::sql_query("UPDATE users SET unit_code = 'CHIEMHOA' WHERE username = 'so.noivu'")
        .execute(&mut app.conn());
    assert!(tied.is_err(), "a province account with a unit was stored");
    // signing in lands on the upload page, not on a dashboard it may not see
    let res = post_login(&svc, "so.noivu", PASSWORD, "10.1.2.3:5000").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/province/upload"));
    let province = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("no session"));
    assert_eq!(get_page(&svc, "/province/upload", Some(&province)).await.0, 200);
    for uri in [
        "/dashboard",
        "/integrity",
        "/followups",
        "/admin/users",
        "/api/v1/stats?from=2026-01-01&to=2026-01-31",
    ] {
        assert_eq!(get_page(&svc, uri, Some(&province)).await.0, 403, "{uri} for province staff");
    }
    // the leader of a commune does not see the ranking (see src/auth/access.rs)
    let leader = sign_in(&svc, "leader").await;
    assert_eq!(get_page(&svc, "/province/ranking?period=2026-Q1", Some(&leader)).await.0, 403);
    assert_eq!(get_page(&svc, "/province/upload", Some(&leader)).await.0, 403);
}

#[actix_web::test]
async fn an_admin_creates_accounts_through_the_page_and_weak_passwords_are_refused() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
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
        let svc = &svc;
        let admin = admin.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_page(svc, "/admin/users", &admin, &pairs).await
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
    sign_in(&svc, "HOA.mt").await;
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
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
    let bad = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,,CHIEMHOA\n";
    let (status, html, _) = post_page(
        &svc,
        "/admin/masterdata/import",
        &admin,
        &[("csrf", &csrf), ("kind", "officers"), ("csv", bad)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("line 3, column 2 (name): is empty"), "{html}");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03'"), 0);
    let unknown_unit = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,Đỗ Thị Hà,NOWHERE\n";
    let (status, html, _) = post_page(
        &svc,
        "/admin/masterdata/import",
        &admin,
        &[("csrf", &csrf), ("kind", "officers"), ("csv", unknown_unit)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("line 3"), "{html}");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03'"), 0);
    let good = "code,name,unit_code\nCB03,Lý Văn Tú,CHIEMHOA\nCB04,Đỗ Thị Hà,CHIEMHOA\n";
    let (status, html, _) = post_page(
        &svc,
        "/admin/masterdata/import",
        &admin,
        &[("csrf", &csrf), ("kind", "officers"), ("csv", good)],
    )
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
    let (status, _, _) =
        post_page(&svc, "/admin/officers/CB03/active", &admin, &[("csrf", &csrf), ("active", "false")]).await;
    assert_eq!(status, 303);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB03' AND NOT active"),
        1
    );
    // and a form without the session's token changes nothing
    let (status, _, _) =
        post_page(&svc, "/admin/officers/CB04/active", &admin, &[("csrf", "nope"), ("active", "false")])
            .await;
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
    let svc = awt::init_service(build_app(app.state.clone())).await;
    sign_in(&svc, "leader").await;
    let mut conn = app.state.pool.get().unwrap_or_else(|e| panic!("{e}"));
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
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let _ = post_login(&svc, "leader", "wrong-password-123", "10.0.0.5:1").await;
    sign_in(&svc, "leader").await;
    let admin = sign_in(&svc, "admin").await;
    let (status, html, _) = get_page(&svc, "/admin/audit", Some(&admin)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Đăng nhập thất bại") && html.contains("login.success"), "{html}");
    let (_, html, _) = get_page(&svc, "/admin/audit?action=login.failed&actor=", Some(&admin)).await;
    assert!(html.contains("login.failed") && !html.contains("<code>login.success</code>"), "{html}");
    let (_, html, _) = get_page(&svc, "/admin/audit?action=&actor=cli", Some(&admin)).await;
    assert!(html.contains("Không có dòng nào."), "{html}");
}

#[actix_web::test]
async fn a_signed_in_change_from_another_site_is_refused() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
    let req = awt::TestRequest::post()
        .uri("/admin/officers/CB02/active")
        .insert_header(("origin", "https://evil.example"))
        .cookie(admin.clone())
        .set_form([("csrf", csrf.as_str()), ("active", "false")])
        .to_request();
    assert_eq!(awt::call_service(&svc, req).await.status(), 403);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM officers WHERE code = 'CB02' AND active"),
        1
    );
}

#[actix_web::test]
async fn signing_out_ends_the_session_in_the_browser() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let leader = sign_in(&svc, "leader").await;
    let (status, _, location) = get_page(&svc, "/login", Some(&leader)).await;
    assert_eq!((status, location.as_deref()), (303, Some("/dashboard")), "signed in already");
    let csrf = session_csrf(&svc, &leader).await;
    let req = awt::TestRequest::post()
        .uri("/logout")
        .cookie(leader)
        .set_form([("csrf", csrf.as_str())])
        .to_request();
    let res = awt::call_service(&svc, req).await;
    assert_eq!(res.status(), 303);
    let removal = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("no removal cookie"));
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
        .unwrap_or_else(|e| panic!("{e}"));
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
        .unwrap_or_else(|e| panic!("{e}"));
    child.stdin.take().map(|mut s| s.write_all(b"qwertyuiop\n"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
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
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    let svc = awt::init_service(build_app(app.state.clone())).await;
    sign_in(&svc, "root.admin").await;
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM users"), 1);
}

#[actix_web::test]
async fn sessions_slide_while_used_and_end_after_30_idle_minutes_or_12_hours() {
    use sipas::staff::session::{self, SessionData};
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'leader'");
    let key = session::cookie_key(&app.state.secret);
    let now = chrono::Utc::now().timestamp();
    let cookie = |iat: i64, seen: i64| {
        let data = SessionData { uid: id, epoch: 0, iat, seen, csrf: "t".into() };
        session::session_cookie(&key, &data, false)
    };
    // used 5 minutes ago: valid, and the cookie is re-issued with the idle clock reset
    let req = awt::TestRequest::get().uri("/api/v1/me").cookie(cookie(now - 600, now - 300)).to_request();
    let res = awt::call_service(&svc, req).await;
    assert_eq!(res.status(), 200);
    let fresh = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("the session did not slide"));
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.add_original(fresh);
    let seen = jar
        .private(&key)
        .get("sipas_session")
        .and_then(|c| serde_json::from_str::<SessionData>(c.value()).ok())
        .map_or(0, |d| d.seen);
    assert!(seen >= now, "the idle clock was not reset");
    // idle for 31 minutes, or signed in 13 hours ago: out
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&cookie(now - 3600, now - 31 * 60))).await.0, 401);
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&cookie(now - 13 * 3600, now - 60))).await.0, 401);
    // a session of an older epoch (password reset since) is out as well
    diesel::sql_query("UPDATE users SET session_epoch = session_epoch + 1").execute(&mut app.conn()).ok();
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&cookie(now - 60, now - 30))).await.0, 401);
}

#[actix_web::test]
async fn a_password_reset_or_a_role_change_by_an_admin_ends_the_accounts_sessions() {
    let app = TestApp::new().await;
    people(&app);
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let admin = sign_in(&svc, "admin").await;
    let csrf = session_csrf(&svc, &admin).await;
    let id = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'officer1'");
    let officer = sign_in(&svc, "officer1").await;
    // a common password is refused and changes nothing
    let uri = format!("/admin/users/{id}/password");
    let (status, html, _) =
        post_page(&svc, &uri, &admin, &[("csrf", &csrf), ("password", "iloveyou123")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("quá phổ biến"), "{html}");
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&officer)).await.0, 200);
    let (status, _, location) =
        post_page(&svc, &uri, &admin, &[("csrf", &csrf), ("password", "một-mật-khẩu-mới-2026")]).await;
    assert_eq!(status, 303);
    assert_eq!(location, Some(format!("/admin/users/{id}?done=password")));
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&officer)).await.0, 401, "the old session still works");
    // the new password opens the account; a promotion to leader ends that session too
    let res = post_login(&svc, "officer1", "một-mật-khẩu-mới-2026", "10.0.0.3:1").await;
    let officer = cookie_of(&res, "sipas_session").unwrap_or_else(|| panic!("new password refused"));
    let (status, _, _) = post_page(
        &svc,
        &format!("/admin/users/{id}/scope"),
        &admin,
        &[("csrf", &csrf), ("role", "leader"), ("unit", SEED.unit), ("officer", "")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(get_page(&svc, "/api/v1/me", Some(&officer)).await.0, 401);
    let role = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM users WHERE username = 'officer1' AND role = 'leader' AND officer_code IS NULL",
    );
    assert_eq!(role, 1);
    // an admin cannot demote themself
    let me = count(&mut app.conn(), "SELECT id AS n FROM users WHERE username = 'admin'");
    let (status, _, _) = post_page(
        &svc,
        &format!("/admin/users/{me}/scope"),
        &admin,
        &[("csrf", &csrf), ("role", "leader"), ("unit", SEED.unit)],
    )
    .await;
    assert_eq!(status, 422);
    let audited = count(
        &mut app.conn(),
        "SELECT count(*) AS n FROM audit_log WHERE action IN ('user.reset_password', 'user.change_role')",
    );
    assert_eq!(audited, 2);
}
