//! The authorisation matrix (`src/auth/access.rs`) held against the running application on real
//! PostgreSQL: for every row and every kind of caller (anonymous, API key, officer, leader,
//! admin, province staff — real keys and real sessions) one request, whose outcome class must be
//! the row's; for scoped rows, a request for another unit's or officer's data, which must be
//! refused or come back without it; and every route the application registers must have a row,
//! while a method a route's row does not name is refused.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::auth::Scope;
use sipas::auth::access::{self, CallerKind, Outcome, ROUTES, Rule};

use crate::fixtures::csrf_of;
use crate::harness::{SEED, TestApp};

/// One kind of caller with its credentials.
struct Who {
    kind: CallerKind,
    /// `Cookie` header value of a session.
    cookie: Option<String>,
    /// The session's CSRF token (forms repeat it).
    csrf: String,
    /// `Authorization: Bearer …`
    key: Option<String>,
}

/// What the requests need: tokens, ids, another unit's rows.
struct Fixture {
    token: String,
    code: String,
    /// An account the admin routes may change.
    spare_user: i64,
    /// An API key the revoke route may revoke (not the one the API-key caller uses).
    spare_key: i64,
    /// Another unit's follow-up and response, for the scope probes.
    foreign_followup: i64,
    foreign_response: i64,
}

/// One request: method, path with query, optional body (content type, text).
struct Req {
    method: &'static str,
    path: String,
    body: Option<(&'static str, String)>,
}

fn get(path: impl Into<String>) -> Req {
    Req { method: "GET", path: path.into(), body: None }
}

fn post_json(path: impl Into<String>, body: Value) -> Req {
    Req { method: "POST", path: path.into(), body: Some(("application/json", body.to_string())) }
}

fn post_form(path: impl Into<String>, form: &[(&str, &str)]) -> Req {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    Req { method: "POST", path: path.into(), body: Some(("application/x-www-form-urlencoded", body)) }
}

/// Covers the fixture's answers, given today.
const RANGE: &str = "from=2026-01-01&to=2026-12-31";

/// The request each row is exercised with. Bodies are valid, so no caller is turned away for
/// its body before its rights are checked. A row without a sample fails the test.
fn sample(rule: &Rule, f: &Fixture, csrf: &str) -> Option<Req> {
    let (u, o, p) = (SEED.unit, SEED.officers[0], SEED.procedures[0]);
    let issue = json!({"procedure_code": p, "officer_code": o, "unit_code": u});
    let none = 999_999_999;
    Some(match (rule.method, rule.pattern) {
        ("GET", "/static/{file}") => get("/static/survey.css"),
        ("GET", "/api/v1/stats") => get(format!("/api/v1/stats?{RANGE}&group_by=officer")),
        ("GET", "/api/v1/stats/comparison") => {
            get(format!("/api/v1/stats/comparison?{RANGE}&group_by=officer"))
        }
        ("POST", "/api/v1/invitations") => post_json("/api/v1/invitations", issue),
        ("POST", "/api/v1/invitations/batch") => {
            post_json("/api/v1/invitations/batch", json!({ "invitations": [issue] }))
        }
        ("POST", "/api/v1/desk/pairings") => {
            post_json("/api/v1/desk/pairings", json!({"unit_code": u, "name": "Quầy thử"}))
        }
        ("GET", "/api/v1/procedures") => get("/api/v1/procedures?q=khai"),
        // an ordinary survey token is no desk's signed token: 404 for everyone, nothing made
        ("GET", "/o/{token}") => get(format!("/o/{}", f.token)),
        ("POST", "/api/v1/desk/offline-issues") => {
            post_json("/api/v1/desk/offline-issues", json!({"tokens": [f.token]}))
        }
        ("POST", "/api/v1/desk/keys/{id}/revoke") => {
            Req { method: "POST", path: format!("/api/v1/desk/keys/{none}/revoke"), body: None }
        }
        ("GET", "/q/{token}.svg") => get(format!("/q/{}.svg", f.token)),
        ("GET", "/q/{token}.png") => get(format!("/q/{}.png", f.token)),
        ("GET", "/slips") => get(format!("/slips?tokens={}", f.token)),
        ("GET", "/slips/{token}") => get(format!("/slips/{}", f.token)),
        ("GET", "/c/{code}") => get(format!("/c/{}", f.code)),
        ("POST", "/api/v1/responses/{token}") => {
            post_json(format!("/api/v1/responses/{}", f.token), json!({"answers": {"CASE.OVERALL": 5}}))
        }
        ("GET", "/s/{token}") => get(format!("/s/{}", f.token)),
        ("POST", "/s/{token}") => post_form(format!("/s/{}", f.token), &[("CASE.OVERALL", "5")]),
        // an empty password is refused as incomplete (422), after the form's CSRF check
        ("POST", "/login") => {
            post_form("/login", &[("username", "nobody"), ("password", ""), ("csrf", "{login}")])
        }
        ("POST", "/logout") => post_form("/logout", &[("csrf", csrf)]),
        ("POST", "/admin/users") => post_form(
            "/admin/users",
            &[("csrf", csrf), ("username", "x"), ("password", "short"), ("role", "leader"), ("unit", u)],
        ),
        ("GET", "/admin/users/{id}") => get(format!("/admin/users/{}", f.spare_user)),
        ("POST", "/admin/users/{id}/scope") => post_form(
            format!("/admin/users/{}/scope", f.spare_user),
            &[("csrf", csrf), ("role", "leader"), ("unit", u), ("officer", "")],
        ),
        ("POST", "/admin/users/{id}/active") => {
            post_form(format!("/admin/users/{}/active", f.spare_user), &[("csrf", csrf), ("active", "false")])
        }
        ("POST", "/admin/users/{id}/password") => post_form(
            format!("/admin/users/{}/password", f.spare_user),
            &[("csrf", csrf), ("password", "short")],
        ),
        ("POST", "/admin/users/{id}/unlock") => {
            post_form(format!("/admin/users/{}/unlock", f.spare_user), &[("csrf", csrf)])
        }
        ("POST", "/admin/masterdata/import") => {
            post_form("/admin/masterdata/import", &[("csrf", csrf), ("kind", "units"), ("csv", "not,a,file")])
        }
        ("POST", "/admin/officers/{code}/active") => post_form(
            format!("/admin/officers/{}/active", SEED.officers[1]),
            &[("csrf", csrf), ("active", "true")],
        ),
        ("POST", "/admin/api-keys") => {
            post_form("/admin/api-keys", &[("csrf", csrf), ("unit", "NO-SUCH-UNIT"), ("name", "x")])
        }
        ("POST", "/admin/api-keys/{id}/revoke") => {
            post_form(format!("/admin/api-keys/{}/revoke", f.spare_key), &[("csrf", csrf)])
        }
        ("GET", "/dashboard/officers/{code}") => get(format!("/dashboard/officers/{o}")),
        ("GET", "/api/v1/integrity") => get(format!("/api/v1/integrity?{RANGE}")),
        ("GET", "/api/v1/integrity/flagged") => get(format!("/api/v1/integrity/flagged?{RANGE}")),
        ("POST", "/api/v1/integrity/responses/{id}/review") => {
            post_json(format!("/api/v1/integrity/responses/{none}/review"), json!({"verdict": "genuine"}))
        }
        ("POST", "/api/v1/cases/daily") => post_json(
            "/api/v1/cases/daily",
            json!({"days": [{"officer_code": o, "date": "2026-01-05", "cases": 3}]}),
        ),
        ("POST", pattern) if pattern.starts_with("/api/v1/followups/{id}/") => followup_change(pattern, none),
        ("POST", "/integrity/responses/{id}/review") => post_form(
            format!("/integrity/responses/{none}/review"),
            &[("csrf", csrf), ("verdict", "genuine"), ("note", ""), ("unit", u)],
        ),
        ("POST", "/followups/{id}/{action}") => post_form(
            format!("/followups/{none}/reply"),
            &[("csrf", csrf), ("unit", u), ("message", "Đã xử lý.")],
        ),
        ("GET", "/api/v1/exports/province") => get("/api/v1/exports/province?period=2026-Q1&format=json"),
        ("GET", "/reports/periodic") => get("/reports/periodic?period=2026-Q1"),
        ("POST", "/api/v1/province/exports") => {
            post_json("/api/v1/province/exports", json!({"not": "an export"}))
        }
        // a key id that does not match the public key: refused (422) after the role and CSRF checks
        ("POST", "/province/keys") => post_form(
            "/province/keys",
            &[("csrf", csrf), ("unit", u), ("key_id", "0000000000000000"), ("public_key", "bm90IGEga2V5")],
        ),
        ("POST", "/province/keys/{key_id}/revoke") => {
            post_form("/province/keys/0000000000000000/revoke", &[("csrf", csrf)])
        }
        ("GET", "/api/v1/province/ranking") => get("/api/v1/province/ranking?period=2026-Q1"),
        ("GET", "/province/ranking") => get("/province/ranking?period=2026-Q1"),
        ("GET", "/api/v1/units/{code}/instrument") => get(format!("/api/v1/units/{u}/instrument")),
        ("POST", "/api/v1/units/{code}/instrument") => post_json(
            format!("/api/v1/units/{u}/instrument"),
            json!({"instrument": "sipas-desk", "version": "2026.1"}),
        ),
        ("POST", "/questionnaire") => {
            post_form("/questionnaire", &[("csrf", csrf), ("unit", u), ("choice", "")])
        }
        ("POST", "/api/v1/tt01/unit-indicators") => post_json(
            "/api/v1/tt01/unit-indicators",
            json!({"indicator": 5, "period": "2026-Q1", "points": 2, "note": "Biên bản kiểm tra"}),
        ),
        ("POST", "/tt01/unit-indicators") => post_form(
            "/tt01/unit-indicators",
            &[
                ("csrf", csrf),
                ("unit", u),
                ("indicator", "5"),
                ("period", "2026-Q1"),
                ("points", "2"),
                ("note", "Biên bản kiểm tra"),
            ],
        ),
        ("GET", "/public/{unit}") => get(format!("/public/{u}")),
        ("GET", "/api/v1/public/{unit}") => get(format!("/api/v1/public/{u}")),
        ("GET", pattern) if !pattern.contains('{') => get(pattern),
        _ => return None,
    })
}

/// Text only another unit's data carries: its officer's code and name, its follow-up's comment.
const FOREIGN: [&str; 3] = ["KB01", "Ma Thị Hoa", "Chờ lâu ở Kim Bình"];

/// A valid change of follow-up `id` through the API route `pattern` (`…/{id}/reply` and so on).
fn followup_change(pattern: &str, id: i64) -> Req {
    let action = pattern.rsplit('/').next().unwrap_or("");
    let body = match action {
        "reply" => json!({"message": "Đã xử lý."}),
        "assign" => json!({"owner": "Lan"}),
        "status" => json!({"status": "in_progress"}),
        _ => json!({"outcome": "resolved"}),
    };
    post_json(format!("/api/v1/followups/{id}/{action}"), body)
}

/// How a scoped caller is kept to its own data on a row.
enum Probe {
    /// This request asks for another unit's (or officer's) data: refused (403, or 404 for a row
    /// that is not theirs to know about), or answered with the caller's own data only (no
    /// [`FOREIGN`] text; pages that ignore a unit they may not choose).
    Refused(Req),
    /// As `Refused`, and an answered request must also contain this text (a batch answers 200
    /// with a refusal per item).
    RefusedItems(Req, &'static str),
    /// The row's own sample answers without this text (another unit's or officer's code).
    Lacks(&'static str),
}

/// The scope probes of the scoped rows; every scoped row needs at least one.
fn probes(rule: &Rule, who: CallerKind, f: &Fixture, csrf: &str) -> Vec<Probe> {
    let (other, other_officer) = (SEED.other_unit, SEED.other_officer);
    let officer_only = |p: Probe| if who == CallerKind::Officer { vec![p] } else { vec![] };
    let foreign_issue =
        json!({"procedure_code": SEED.procedures[0], "officer_code": other_officer, "unit_code": other});
    match rule.pattern {
        "/api/v1/stats" => {
            let mut v =
                vec![Probe::Refused(get(format!("/api/v1/stats?{RANGE}&group_by=officer&unit={other}")))];
            v.extend(officer_only(Probe::Refused(get(format!(
                "/api/v1/stats?{RANGE}&officer={}",
                SEED.officers[1]
            )))));
            v
        }
        "/api/v1/invitations" => {
            let mut v = vec![Probe::Refused(post_json("/api/v1/invitations", foreign_issue))];
            // an officer's session issues for that officer only, never in a colleague's name
            let colleague = json!({"procedure_code": SEED.procedures[0], "officer_code": SEED.officers[1], "unit_code": SEED.unit});
            // (a 201 lacks the refusal's code, so it fails the probe)
            v.extend(officer_only(Probe::RefusedItems(
                post_json("/api/v1/invitations", colleague),
                "forbidden_officer",
            )));
            v
        }
        "/api/v1/invitations/batch" => vec![Probe::RefusedItems(
            post_json("/api/v1/invitations/batch", json!({ "invitations": [foreign_issue] })),
            "\"created\":0",
        )],
        "/api/v1/invitations/latest" | "/api/v1/officers" => vec![Probe::Lacks(other_officer)],
        // what the desk keeps offline: its own unit's officers, an officer's session only itself
        "/api/v1/desk/unit-data" => {
            let mut v = vec![Probe::Lacks(other_officer)];
            v.extend(officer_only(Probe::Lacks(SEED.officers[1])));
            v
        }
        "/dashboard" => {
            let mut v = vec![Probe::Refused(get(format!("/dashboard?unit={other}")))];
            v.extend(officer_only(Probe::Lacks(SEED.officers[1])));
            v
        }
        "/comments" => vec![
            Probe::Refused(get(format!("/comments?unit={other}&{RANGE}"))),
            Probe::Lacks("Chờ lâu ở Kim Bình"),
        ],
        "/dashboard/officers/{code}" => {
            let mut v = vec![Probe::Refused(get(format!("/dashboard/officers/{other_officer}")))];
            v.extend(officer_only(Probe::Refused(get(format!("/dashboard/officers/{}", SEED.officers[1])))));
            v
        }
        "/api/v1/stats/comparison" => {
            vec![Probe::Refused(get(format!(
                "/api/v1/stats/comparison?{RANGE}&group_by=officer&unit={other}"
            )))]
        }
        "/api/v1/integrity" => vec![Probe::Refused(get(format!("/api/v1/integrity?{RANGE}&unit={other}")))],
        "/api/v1/integrity/flagged" => {
            vec![Probe::Refused(get(format!("/api/v1/integrity/flagged?{RANGE}&unit={other}")))]
        }
        "/api/v1/integrity/responses/{id}/review" => vec![Probe::Refused(post_json(
            format!("/api/v1/integrity/responses/{}/review", f.foreign_response),
            json!({"verdict": "genuine"}),
        ))],
        "/api/v1/cases/daily" => vec![Probe::Refused(post_json(
            "/api/v1/cases/daily",
            json!({"unit": other, "days": [{"officer_code": other_officer, "date": "2026-01-05", "cases": 3}]}),
        ))],
        "/api/v1/followups" => {
            vec![
                Probe::Refused(get(format!("/api/v1/followups?unit={other}"))),
                Probe::Lacks("Chờ lâu ở Kim Bình"),
            ]
        }
        pattern if pattern.starts_with("/api/v1/followups/{id}/") => {
            vec![Probe::Refused(followup_change(pattern, f.foreign_followup))]
        }
        "/integrity" => vec![Probe::Refused(get(format!("/integrity?unit={other}")))],
        "/integrity/responses/{id}/review" => vec![Probe::Refused(post_form(
            format!("/integrity/responses/{}/review", f.foreign_response),
            &[("csrf", csrf), ("verdict", "genuine"), ("note", ""), ("unit", other)],
        ))],
        "/followups" => {
            vec![Probe::Refused(get(format!("/followups?unit={other}"))), Probe::Lacks("Chờ lâu ở Kim Bình")]
        }
        "/followups/{id}/{action}" => vec![Probe::Refused(post_form(
            format!("/followups/{}/reply", f.foreign_followup),
            &[("csrf", csrf), ("unit", other), ("message", "x")],
        ))],
        "/api/v1/tt01/unit-indicators" if rule.method == "GET" => {
            vec![Probe::Refused(get(format!("/api/v1/tt01/unit-indicators?unit={other}")))]
        }
        "/api/v1/tt01/unit-indicators" => vec![Probe::Refused(post_json(
            "/api/v1/tt01/unit-indicators",
            json!({"unit": other, "indicator": 5, "period": "2026-Q1", "points": 2, "note": "x"}),
        ))],
        "/tt01/unit-indicators" if rule.method == "GET" => {
            vec![Probe::Refused(get(format!("/tt01/unit-indicators?unit={other}")))]
        }
        "/tt01/unit-indicators" => vec![Probe::Refused(post_form(
            "/tt01/unit-indicators",
            &[
                ("csrf", csrf),
                ("unit", other),
                ("indicator", "5"),
                ("period", "2026-Q1"),
                ("points", "2"),
                ("note", "x"),
            ],
        ))],
        "/api/v1/units/{code}/instrument" if rule.method == "GET" => {
            vec![Probe::Refused(get(format!("/api/v1/units/{other}/instrument")))]
        }
        "/api/v1/units/{code}/instrument" => vec![Probe::Refused(post_json(
            format!("/api/v1/units/{other}/instrument"),
            json!({"instrument": "sipas-desk", "version": "2026.1"}),
        ))],
        // a leader's page acts for the leader's own unit whatever `unit` says
        "/questionnaire" if rule.method == "GET" => {
            vec![Probe::Refused(get(format!("/questionnaire?unit={other}")))]
        }
        "/questionnaire" => vec![Probe::Refused(post_form(
            "/questionnaire",
            &[("csrf", csrf), ("unit", other), ("choice", "")],
        ))],
        "/api/v1/exports/province" => {
            let mut v =
                vec![Probe::Refused(get(format!("/api/v1/exports/province?period=2026&unit={other}")))];
            // an officer's export holds their own figures only (finding 3)
            v.extend(officer_only(Probe::Lacks(SEED.officers[1])));
            v
        }
        "/reports/periodic" => {
            let mut v = vec![Probe::Refused(get(format!("/reports/periodic?period=2026&unit={other}")))];
            v.extend(officer_only(Probe::Lacks(SEED.officers[1])));
            v
        }
        _ => vec![],
    }
}

/// Sends `req` as `who`; returns status, `Location` and body.
async fn send(app: &TestApp, who: &Who, req: &Req) -> (u16, Option<String>, String) {
    let mut body = req.body.clone();
    let mut login = None;
    if req.path == "/login" && req.method == "POST" {
        // the sign-in form's double-submit cookie and token
        let r = app.get("/login").await;
        let cookie = r.cookie("sipas_login_csrf").expect("no login cookie");
        let token = csrf_of(&r.body);
        login = Some(cookie);
        body = body.map(|(t, b)| (t, b.replace("%7Blogin%7D", &token)));
    }
    let mut call = app.request(req.method, &req.path).peer("198.51.100.77:5000");
    if let Some(cookie) = &who.cookie {
        call = call.as_staff(cookie);
    }
    if let Some(cookie) = login {
        call = call.cookie(cookie);
    }
    if let Some(key) = &who.key {
        call = call.with_key(key);
    }
    if let Some((ctype, text)) = body {
        call = call.payload(ctype, text);
    }
    let r = call.await;
    if req.path == "/logout" {
        // signing out ends every session of the account on the server (finding 6); the
        // matrix's sessions were minted at epoch 0, so they live on for the rows after this one
        use diesel::RunQueryDsl as _;
        diesel::sql_query("UPDATE users SET session_epoch = 0").execute(&mut app.conn()).unwrap();
    }
    let location = r.location();
    (r.status, location, r.body)
}

/// The outcome class of a response to `path`.
fn class(path: &str, status: u16, location: Option<&str>) -> Outcome {
    match status {
        401 => Outcome::SignIn,
        // signing out ends at the sign-in page
        303 if path == "/logout" && location == Some("/login") => Outcome::Allow,
        303 | 302 if location.is_some_and(|l| l.starts_with("/login")) => Outcome::SignIn,
        403 => Outcome::Deny,
        _ => Outcome::Allow,
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    use sipas::schema::{followups, invitations, responses, users};
    let inv = app.insert_invitation(SEED.unit, SEED.officers[0], SEED.procedures[0]);
    app.session("spare", &Scope::Leader { unit: SEED.unit.to_string() });
    let spare_user: i64 =
        users::table.filter(users::username.eq("spare")).select(users::id).first(&mut app.conn()).unwrap();
    let (spare_key, _) = sipas::auth::apikeys::create(&mut app.conn(), SEED.unit, "spare", "test").unwrap();
    // another unit's response with a comment that asks for a reply: a follow-up of Kim Bình
    let foreign = app.insert_invitation(SEED.other_unit, SEED.other_officer, SEED.procedures[0]);
    let answers = json!({"answers": {"CASE.OVERALL": 2, "COMMENT": "Chờ lâu ở Kim Bình", "REPLY.WANTED": 1}});
    let res = app
        .post_json(&format!("/api/v1/responses/{}", foreign.token), &answers)
        .peer("203.0.113.50:4000")
        .await;
    assert_eq!(res.status, 201, "the other unit's response was not stored");
    let foreign_response: i64 = responses::table
        .filter(
            responses::invitation_id.eq_any(
                invitations::table
                    .filter(invitations::token_hash.eq(app.token_hash(&foreign.token)))
                    .select(invitations::id),
            ),
        )
        .select(responses::id)
        .first(&mut app.conn())
        .unwrap();
    let foreign_followup: i64 = followups::table
        .select(followups::id)
        .first(&mut app.conn())
        .unwrap_or_else(|e| panic!("no follow-up of the other unit: {e}"));
    Fixture { token: inv.token, code: inv.code, spare_user, spare_key, foreign_followup, foreign_response }
}

#[actix_web::test]
async fn every_route_answers_every_kind_of_caller_as_the_access_table_says() {
    let app = TestApp::new().await;
    app.seed();
    let f = fixture(&app).await;
    let session = |name: &str, scope: Scope| {
        let (cookie, csrf) = app.session(name, &scope);
        (Some(cookie), csrf)
    };
    let mut people = vec![
        Who { kind: CallerKind::Anonymous, cookie: None, csrf: String::new(), key: None },
        Who {
            kind: CallerKind::ApiKey,
            cookie: None,
            csrf: String::new(),
            key: Some(app.api_key(SEED.unit)),
        },
    ];
    for (kind, name, scope) in [
        (
            CallerKind::Officer,
            "officer1",
            Scope::Officer { unit: SEED.unit.to_string(), officer: SEED.officers[0].to_string() },
        ),
        (CallerKind::Leader, "leader", Scope::Leader { unit: SEED.unit.to_string() }),
        (CallerKind::Admin, "admin", Scope::Admin { unit: None }),
        (CallerKind::Province, "province", Scope::Province),
    ] {
        let (cookie, csrf) = session(name, scope);
        people.push(Who { kind, cookie, csrf, key: None });
    }

    let mut wrong = Vec::new();
    let mut checked = 0;
    for rule in ROUTES {
        for who in &people {
            let req = sample(rule, &f, &who.csrf)
                .unwrap_or_else(|| panic!("no sample request for {} {}: add one", rule.method, rule.pattern));
            let (status, location, body) = send(&app, who, &req).await;
            assert!(status < 500, "{} {} as {:?}: {status} {body}", rule.method, req.path, who.kind);
            let expected = rule.outcome(who.kind);
            let got = class(&req.path, status, location.as_deref());
            let fits = match expected {
                Outcome::Scoped => got == Outcome::Allow,
                e => got == e,
            };
            if !fits {
                wrong.push(format!(
                    "{} {} as {:?}: expected {expected:?}, got {status} ({got:?}) {}",
                    rule.method,
                    req.path,
                    who.kind,
                    body.chars().take(160).collect::<String>()
                ));
            }
            checked += 1;
            if expected != Outcome::Scoped {
                continue;
            }
            let list = probes(rule, who.kind, &f, &who.csrf);
            assert!(
                !list.is_empty(),
                "{} {} is scoped but has no scope probe: add one",
                rule.method,
                rule.pattern
            );
            for probe in list {
                let (foreign, must) = match probe {
                    Probe::Refused(r) => (Some(r), None),
                    Probe::RefusedItems(r, m) => (Some(r), Some(m)),
                    Probe::Lacks(text) => {
                        if body.contains(text) {
                            wrong.push(format!(
                                "{} {} as {:?} shows `{text}`",
                                rule.method, req.path, who.kind
                            ));
                        }
                        (None, None)
                    }
                };
                if let Some(foreign) = foreign {
                    let (status, _, body) = send(&app, who, &foreign).await;
                    let answered_own = status < 400
                        && !FOREIGN.iter().any(|t| body.contains(t))
                        && must.is_none_or(|m| body.contains(m));
                    if !(matches!(status, 403 | 404) || answered_own) {
                        wrong.push(format!(
                            "{} {} as {:?}: another unit's data gave {status} {}",
                            foreign.method,
                            foreign.path,
                            who.kind,
                            body.chars().take(160).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} checks disagree with the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(checked, ROUTES.len() * CallerKind::ALL.len());
}

#[actix_web::test]
async fn every_registered_route_has_a_row_and_unlisted_methods_are_refused() {
    let app = TestApp::new().await;
    app.seed();
    let res = app.get("/healthz").await;
    let registered = access::registered_patterns(res.request.resource_map());
    let listed: std::collections::BTreeSet<&str> = ROUTES.iter().map(|r| r.pattern).collect();
    assert!(registered.len() >= listed.len(), "the route listing found only {registered:?}");
    let unlisted: Vec<&String> = registered.iter().filter(|p| !listed.contains(p.as_str())).collect();
    assert!(unlisted.is_empty(), "registered routes without a row in src/auth/access.rs: {unlisted:?}");
    let missing: Vec<&&str> = listed.iter().filter(|p| !registered.iter().any(|r| r == *p)).collect();
    assert!(missing.is_empty(), "rows for routes the application does not register: {missing:?}");
    // every method a row does not name is refused before any handler, for every route
    let methods: HashMap<&str, Vec<&str>> = ROUTES.iter().fold(HashMap::new(), |mut m, r| {
        m.entry(r.pattern).or_default().push(r.method);
        m
    });
    for (pattern, named) in &methods {
        let path = pattern.replace("{id}", "1").replace('{', "x").replace('}', "");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if named.contains(&method) {
                continue;
            }
            let res = app.request(method, &path).await;
            assert_eq!(res.status, 405, "{method} {path}");
        }
    }
}
