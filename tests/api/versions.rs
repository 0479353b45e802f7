//! Two questionnaire versions side by side (issue 16): a unit switched to the 2026 Hà Nội ward
//! form issues invitations on it, answers stay tied to the version they answered, and the figures
//! of a period that spans both combine elements and the SIPAS index across versions while each
//! statement is reported within its own version; the export and the province ranking still
//! verify. And who may choose, and the refusals of a bad choice.

use chrono::{Datelike, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::auth::Scope;
use sipas::schema::{audit_log, invitations, responses};

use crate::fixtures::answer_from;
use crate::harness::{Reply, SEED, TestApp};

const WARD: (&str, &str) = ("sipas-ward-hn", "2026.1");
const DESK: (&str, &str) = ("sipas-desk", "2026.1");
const PHONE: &str = "Mozilla/5.0 (Linux; Android 13) Phone";

fn choice_path(unit: &str) -> String {
    format!("/api/v1/units/{unit}/instrument")
}

/// Issues one invitation of the seed unit through the API and dates it ten minutes back, so its
/// answer is not "too fast"; returns (token, instrument, version) as the API answered them.
async fn issue(app: &TestApp, key: &str, case: &str) -> (String, String, String) {
    let r = app
        .post_json(
            "/api/v1/invitations",
            &json!({"procedure_code": SEED.procedures[0], "officer_code": SEED.officers[0],
                    "unit_code": SEED.unit, "case_number": case}),
        )
        .with_key(key)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let body = r.json();
    let token = body["token"].as_str().unwrap().to_string();
    diesel::update(invitations::table.filter(invitations::token_hash.eq(app.token_hash(&token))))
        .set(invitations::issued_at.eq(Utc::now() - Duration::minutes(10)))
        .execute(&mut app.conn())
        .unwrap();
    let (id, version) = (body["instrument"].as_str().unwrap(), body["instrument_version"].as_str().unwrap());
    (token, id.to_string(), version.to_string())
}

fn stored_version(app: &TestApp, token: &str) -> (String, String) {
    invitations::table
        .filter(invitations::token_hash.eq(app.token_hash(token)))
        .select((invitations::instrument_id, invitations::instrument_version))
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn a_unit_switched_to_the_ward_form_issues_on_it_and_statistics_combine_both_versions() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let (leader, _) =
        app.session("leader", &Scope::new(sipas::auth::Role::Leader, Some(SEED.unit.into()), None).unwrap());

    // no choice: the default, the desk form
    let r = app.get(&choice_path(SEED.unit)).with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    assert_eq!(
        (c["instrument"].as_str(), c["version"].as_str(), c["default"].as_bool()),
        (Some(DESK.0), Some(DESK.1), Some(true))
    );
    let available: Vec<&str> =
        c["available"].as_array().unwrap().iter().map(|v| v["instrument"].as_str().unwrap()).collect();
    assert_eq!(available, [DESK.0, WARD.0]);
    let (old_token, id, version) = issue(&app, &key, "HS-OLD-1").await;
    assert_eq!((id.as_str(), version.as_str()), DESK);

    // the leader switches the unit to the ward form
    let r = app
        .post_json(&choice_path(SEED.unit), &json!({"instrument": WARD.0, "version": WARD.1}))
        .as_staff(&*leader)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    assert_eq!((c["instrument"].as_str(), c["default"].as_bool()), (Some(WARD.0), Some(false)));
    assert!(c["chosen_by"].as_str().unwrap().starts_with("user:"));
    let audited: Vec<(String, String, Value)> = audit_log::table
        .filter(audit_log::action.eq("unit.instrument"))
        .select((audit_log::actor, audit_log::subject, audit_log::details))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].1, SEED.unit);
    assert_eq!(audited[0].2, json!({"before": null, "after": {"instrument": WARD.0, "version": WARD.1}}));

    // new invitations name the ward form; the one issued before keeps the desk form
    let (new_token, id, version) = issue(&app, &key, "HS-NEW-1").await;
    assert_eq!((id.as_str(), version.as_str()), WARD);
    assert_eq!(stored_version(&app, &new_token), (WARD.0.to_string(), WARD.1.to_string()));
    assert_eq!(stored_version(&app, &old_token), (DESK.0.to_string(), DESK.1.to_string()));

    // answers are tied to their version: a desk statement is no item of the ward form
    let r =
        answer_from(&app, &new_token, "198.51.100.31", PHONE, json!({"CASE.OVERALL": 4, "E1.1": 5})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("E1.1"), "{}", r.body);
    let ward = json!({"CASE.OVERALL": 4, "E1.HN24": 2, "E2.HN27": 5, "E3.HN31": 4, "E4.HN34": 5,
                      "E5.GATE": 1, "E5.HN37": 1, "EXP.HN1": 4});
    let r = answer_from(&app, &new_token, "198.51.100.31", PHONE, ward).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // the survey page asks (for additions) the ward form's statements
    let page = app.get(&format!("/s/{new_token}?step=E1")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("24. Chi nhánh Trung tâm Phục vụ hành chính công"), "{}", page.body);
    let desk =
        json!({"CASE.OVERALL": 5, "E1.1": 5, "E2.1": 4, "E3.1": 5, "E4.1": 4, "E5.GATE": 1, "E5.1": 5});
    let r = answer_from(&app, &old_token, "203.0.113.45", "Mozilla/5.0 (iPhone) Safari", desk).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let versions: Vec<(String, String)> = responses::table
        .order(responses::id.asc())
        .select((responses::instrument_id, responses::instrument_version))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(versions, [(WARD.0.into(), WARD.1.into()), (DESK.0.into(), DESK.1.into())]);

    // the period's figures: elements and the index from both responses, statements within their own version
    let today = sipas::kernel::time::today();
    let stats = crate::fixtures::stats(&app, &key, &format!("from={today}&to={today}")).await;
    let g = &stats["groups"][0];
    assert_eq!((g["responses"].as_u64(), g["flagged"].as_u64()), (Some(2), Some(0)), "{g}");
    for (element, index) in [("E1", 50.0), ("E2", 100.0), ("E3", 100.0), ("E4", 100.0), ("E5", 50.0)] {
        assert_eq!(g["elements"][element]["n"], 2, "{element}: {g}");
        assert_eq!(g["elements"][element]["index"].as_f64(), Some(index), "{element}: {g}");
    }
    assert_eq!(g["sipas_index"].as_f64(), Some(80.0), "{g}");
    assert_eq!((g["overall"]["n"].as_u64(), g["overall"]["rate"].as_f64()), (Some(2), Some(100.0)));
    let criterion = |code: &str| &g["criteria"][code];
    assert_eq!(criterion("E1.1")["counts"], json!({"5": 1}));
    assert_eq!(criterion("E1.HN24")["counts"], json!({"2": 1}));
    assert_eq!(criterion("E1.HN24")["rate"].as_f64(), Some(0.0));
    assert_eq!(criterion("E4.1")["n"], 1, "same wording, its own version: not summed with E4.HN34");
    assert_eq!(criterion("E4.HN34")["n"], 1);
    assert_eq!(criterion("E1.2")["n"], 0);
    assert!(criterion("E1.2")["rate"].is_null());
    assert_eq!(g["items"]["EXP.HN1"]["counts"], json!({"4": 1}));
    assert_eq!(g["items"]["EXP.HN1"]["rate"].as_f64(), Some(100.0));
    // which version each statement belongs to
    let of = &stats["statements"];
    assert_eq!(of["E1.HN24"], json!([{"instrument": WARD.0, "version": WARD.1}]));
    assert_eq!(of["E1.1"], json!([{"instrument": DESK.0, "version": DESK.1}]));

    // the province export carries both versions and the same figures, and the province accepts and ranks it
    let local = today;
    let period = format!("{}-Q{}", local.year(), (local.month() - 1) / 3 + 1);
    let Reply { status, bytes, .. } =
        app.get(&format!("/api/v1/exports/province?period={period}&format=json")).with_key(&key).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let content = &doc["content"];
    let used: Vec<&str> = content["instrument_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["instrument_id"].as_str().unwrap())
        .collect();
    assert_eq!(used.len(), 2, "{}", content["instrument_versions"]);
    assert!(used.contains(&WARD.0) && used.contains(&DESK.0));
    let u = &content["unit_figures"];
    assert_eq!(u["criteria"]["E1.HN24"]["n"], 1, "{u}");
    let province = app.province_session();
    let r = app.post("/api/v1/province/exports").payload("application/json", bytes).as_staff(&province).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.get(&format!("/api/v1/province/ranking?period={period}")).as_staff(&province).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ranking = r.json();
    let ours = ranking["communes"].as_array().unwrap().iter().find(|c| c["unit_code"] == SEED.unit).unwrap();
    assert_eq!(ours["sipas_index"].as_f64(), u["sipas_index"].as_f64());
    assert_eq!(ours["responses"], 2);
    // the spreadsheet export names the ward statements
    let r = app.get(&format!("/api/v1/exports/province?period={period}&format=csv")).with_key(&key).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("E1.HN24"), "{}", r.body);
}

#[actix_web::test]
async fn only_the_units_leader_or_an_admin_chooses_and_a_bad_choice_is_named() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let role = |r: sipas::auth::Role, unit: Option<&str>, officer: Option<&str>| {
        Scope::new(r, unit.map(str::to_string), officer.map(str::to_string)).unwrap()
    };
    use sipas::auth::Role;
    let (leader, leader_csrf) = app.session("leader", &role(Role::Leader, Some(SEED.unit), None));
    let (other_leader, _) = app.session("leader2", &role(Role::Leader, Some(SEED.other_unit), None));
    let (officer, _) = app.session("officer", &role(Role::Officer, Some(SEED.unit), Some(SEED.officers[0])));
    let (admin, _) = app.session("admin", &role(Role::Admin, None, None));
    let ward = json!({"instrument": WARD.0, "version": WARD.1});
    let path = choice_path(SEED.unit);

    for (who, r) in [
        ("an officer", app.post_json(&path, &ward).as_staff(&*officer).await),
        ("another unit's leader", app.post_json(&path, &ward).as_staff(&*other_leader).await),
        ("an API key", app.post_json(&path, &ward).with_key(&key).await),
    ] {
        assert_eq!(r.status, 403, "{who}: {}", r.body);
    }
    assert_eq!(app.post_json(&path, &ward).await.status, 401);
    let r = app.get(&choice_path(SEED.unit)).as_staff(&*other_leader).await;
    assert_eq!(r.status, 403, "{}", r.body);

    for (body, code, field) in [
        (json!({"instrument": "sipas-city", "version": "2026.1"}), "unknown_instrument", "`instrument`"),
        (json!({"instrument": WARD.0, "version": "2025.9"}), "unknown_version", "`version`"),
        (json!({"instrument": WARD.0}), "missing_version", "`version`"),
        (json!({"version": "2026.1"}), "missing_instrument", "`instrument`"),
    ] {
        let r = app.post_json(&path, &body).as_staff(&*leader).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        let e = r.json();
        assert_eq!(e["error"], code, "{body}");
        assert!(e["message"].as_str().unwrap().contains(field), "{body}: {e}");
    }
    let r = app
        .post_json(&path, &json!({"instrument": WARD.0, "version": WARD.1, "colour": "red"}))
        .as_staff(&*leader)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let none: i64 = audit_log::table
        .filter(audit_log::action.eq("unit.instrument"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(none, 0, "a refused choice is not audited");

    // an admin chooses for any unit; an unknown unit is a 404
    let r = app.post_json(&choice_path(SEED.other_unit), &ward).as_staff(&*admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post_json(&choice_path("NOWHERE"), &ward).as_staff(&*admin).await;
    assert_eq!((r.status, r.json()["error"].clone()), (404, json!("unknown_unit")));

    // the leader's page, Vietnamese first: shows the choice and changes it with the session's token
    let page = app.get("/questionnaire").as_staff(&*leader).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Phiếu khảo sát của đơn vị"));
    assert!(
        page.body.contains(
            "Sự hài lòng của người dân đối với sự phục vụ của cơ quan hành chính nhà nước năm 2026"
        )
    );
    assert!(page.body.contains("(mặc định)"));
    let form = [("csrf", leader_csrf.as_str()), ("unit", SEED.unit), ("choice", "sipas-ward-hn@2026.1")];
    let r = app.post_form("/questionnaire", &form).as_staff(&*leader).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c = app.get(&path).with_key(&key).await.json();
    assert_eq!((c["instrument"].as_str(), c["default"].as_bool()), (Some(WARD.0), Some(false)));
    let bad = [("csrf", "wrong"), ("unit", SEED.unit), ("choice", "")];
    assert_eq!(app.post_form("/questionnaire", &bad).as_staff(&*leader).await.status, 403);
    let officer_page = app.get("/questionnaire").as_staff(&*officer).await;
    assert_eq!(officer_page.status, 403);
    // back to the default through the API
    let r = app.post_json(&path, &json!({"instrument": null, "version": null})).as_staff(&*leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["instrument"].as_str(), r.json()["default"].as_bool()), (Some(DESK.0), Some(true)));
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("unit.instrument"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(audited, 3);
}
