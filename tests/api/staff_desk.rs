//! The desk as commune staff use it: a signed-in officer issues as themselves (never for a
//! colleague), a leader or the unit's key for anyone of the unit, an admin pairs a desk computer
//! with a unit once, and the customer screen shows only the slip just handed over — through the
//! API on real PostgreSQL, then by clicking in Chromium (`tests/browser/desk.mjs`).

use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::auth::Scope;

use crate::fixtures::{PASSWORD, count, people};
use crate::harness::{SEED, TestApp};
use crate::staff_browser::run_script;

fn issue_for(officer: &str) -> Value {
    json!({"procedure_code": SEED.procedures[0], "officer_code": officer, "unit_code": SEED.unit})
}

fn officer_scope(officer: &str) -> Scope {
    Scope::Officer { unit: SEED.unit.into(), officer: officer.into() }
}

fn invitations(app: &TestApp) -> i64 {
    count(&mut app.conn(), "SELECT count(*) AS n FROM invitations")
}

#[actix_web::test]
async fn an_officers_session_issues_as_that_officer_and_never_for_a_colleague() {
    let app = TestApp::new().await;
    app.seed();
    let (officer, _) = app.session("lan", &officer_scope(SEED.officers[0]));

    // issuing in a colleague's name is refused, single or in a batch, and writes nothing
    let r = app.post_json("/api/v1/invitations", &issue_for(SEED.officers[1])).as_staff(&officer).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "forbidden_officer");
    assert!(r.json()["message"].as_str().unwrap_or_default().contains("CB02"), "{}", r.body);
    let batch = json!({"invitations": [issue_for(SEED.officers[1]), issue_for(SEED.officers[1])]});
    let r = app.post_json("/api/v1/invitations/batch", &batch).as_staff(&officer).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["refused"], 2);
    assert_eq!(r.json()["results"][0]["status"], 403);
    assert_eq!(invitations(&app), 0, "a refused issue writes nothing");
    // a case number a colleague's invitation already holds does not leak it either
    let key = app.api_key(SEED.unit);
    let mut theirs = issue_for(SEED.officers[1]);
    theirs["case_number"] = json!("H58-0009");
    assert_eq!(app.post_json("/api/v1/invitations", &theirs).with_key(&key).await.status, 201);
    let r = app.post_json("/api/v1/invitations", &theirs).as_staff(&officer).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // as themselves: 201, credited to them and recorded as issued by their account
    let r = app.post_json("/api/v1/invitations", &issue_for(SEED.officers[0])).as_staff(&officer).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["token"].as_str().unwrap_or_default().to_string();
    let (credited, by): (String, String) = {
        use sipas::schema::invitations::dsl as i;
        i::invitations
            .filter(i::token_hash.eq(app.token_hash(&token)))
            .select((i::officer_code, i::issued_by))
            .first(&mut app.conn())
            .unwrap()
    };
    assert_eq!(credited, "CB01");
    assert!(by.starts_with("user:"), "{by}");

    // the desk's list offers that officer alone and names them
    let r = app.get("/api/v1/officers").as_staff(&officer).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["signed_in_officer"], "CB01");
    assert_eq!(r.json()["officers"], json!([{"code": "CB01", "name": "Nguyễn Thị Lan"}]));
}

#[actix_web::test]
async fn a_leader_and_the_units_key_issue_for_any_officer_of_the_unit() {
    let app = TestApp::new().await;
    app.seed();
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let key = app.api_key(SEED.unit);
    for officer in SEED.officers {
        let r = app.post_json("/api/v1/invitations", &issue_for(officer)).as_staff(&leader).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.post_json("/api/v1/invitations", &issue_for(officer)).with_key(&key).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.get("/api/v1/officers").as_staff(&leader).await;
    assert_eq!(r.json()["signed_in_officer"], Value::Null);
    assert_eq!(r.json()["officers"].as_array().map(Vec::len), Some(2));
    // a leader of the unit is still kept to the unit's own officers
    let foreign = json!({"procedure_code": SEED.procedures[0], "officer_code": SEED.other_officer, "unit_code": SEED.unit});
    let r = app.post_json("/api/v1/invitations", &foreign).as_staff(&leader).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(invitations(&app), 4);
}

#[actix_web::test]
async fn an_admin_pairs_a_desk_computer_with_a_unit_and_the_new_key_issues_for_it() {
    let app = TestApp::new().await;
    app.seed();
    let (admin, _) = app.session("quan-tri", &Scope::Admin { unit: None });
    let r = app
        .post_json("/api/v1/desk/pairings", &json!({"unit_code": SEED.unit, "name": "Quầy 1"}))
        .as_staff(&admin)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), "no-store");
    let body = r.json();
    assert_eq!(body["unit_code"], "CHIEMHOA");
    assert_eq!(body["name"], "Máy bàn: Quầy 1");
    let key = body["key"].as_str().unwrap_or_default().to_string();
    assert!(key.starts_with("sipas_") && key.len() >= 48, "{key}");

    // the paired computer issues for its unit, for any of its officers, and not for another unit
    let r = app.post_json("/api/v1/invitations", &issue_for(SEED.officers[1])).with_key(&key).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let other = json!({"procedure_code": SEED.procedures[0], "officer_code": SEED.other_officer, "unit_code": SEED.other_unit});
    assert_eq!(app.post_json("/api/v1/invitations", &other).with_key(&key).await.status, 403);
    // the key is listed by its desk's name (to revoke it) and the pairing is audited
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM api_keys WHERE name = 'Máy bàn: Quầy 1' AND unit_code = 'CHIEMHOA'"
        ),
        1
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log WHERE action = 'api_key.create'"), 1);
}

#[actix_web::test]
async fn only_an_admin_pairs_a_desk_and_bad_pairings_are_refused_without_a_key() {
    let app = TestApp::new().await;
    app.seed();
    let body = json!({"unit_code": SEED.unit, "name": "Quầy 2"});
    let (officer, _) = app.session("lan", &officer_scope(SEED.officers[0]));
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let (admin, _) = app.session("quan-tri", &Scope::Admin { unit: None });
    let key = app.api_key(SEED.unit);
    assert_eq!(app.post_json("/api/v1/desk/pairings", &body).await.status, 401);
    assert_eq!(app.post_json("/api/v1/desk/pairings", &body).as_staff(&officer).await.status, 403);
    assert_eq!(app.post_json("/api/v1/desk/pairings", &body).as_staff(&leader).await.status, 403);
    assert_eq!(app.post_json("/api/v1/desk/pairings", &body).with_key(&key).await.status, 403);
    for (bad, code) in [
        (json!({"unit_code": "NO-SUCH", "name": "Quầy 2"}), "unknown_unit"),
        (json!({"unit_code": SEED.unit}), "missing_field"),
        (json!({"unit_code": " ", "name": "Quầy 2"}), "missing_field"),
        (json!({"unit_code": SEED.unit, "name": "x".repeat(101)}), "invalid_name"),
        (json!({"unit_code": SEED.unit, "name": "Quầy 2", "role": "admin"}), "invalid_json"),
    ] {
        let r = app.post_json("/api/v1/desk/pairings", &bad).as_staff(&admin).await;
        assert!(r.status == 422 || r.status == 400, "{bad}: {} {}", r.status, r.body);
        if code != "invalid_json" {
            assert_eq!(r.json()["error"], code, "{bad}: {}", r.body);
        }
        assert!(r.json()["message"].is_string(), "{}", r.body);
    }
    // only the test's own key exists: nothing refused was created
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM api_keys"), 1);
}

#[actix_web::test]
async fn the_customer_screen_shows_the_slip_just_handed_over_not_a_preprinted_one() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let r = app.post_json("/api/v1/invitations", &issue_for(SEED.officers[0])).with_key(&key).await;
    let handed = r.json()["token"].as_str().unwrap_or_default().to_string();
    let sheet = json!({"invitations": [issue_for(SEED.officers[0]), issue_for(SEED.officers[0])]});
    let r = app.post_json("/api/v1/invitations/batch", &sheet).with_key(&key).await;
    assert_eq!(r.json()["created"], 2, "{}", r.body);
    let r = app.get("/api/v1/invitations/latest").with_key(&key).await;
    assert_eq!(r.json()["invitation"]["token"], handed.as_str(), "{}", r.body);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM invitations WHERE preprinted"),
        2,
        "the sheet's slips are marked as printed in advance"
    );
}

#[actix_web::test]
async fn in_chromium_an_officer_issues_as_themselves_and_a_paired_desk_issues_without_a_key() {
    let app = TestApp::new().await;
    people(&app);
    let base = app.spawn_server();
    let out = run_script("desk.mjs", &[&base, "officer1", PASSWORD, "admin", PASSWORD]).await;
    let mut conn = app.conn();
    // the officer's slip is credited to them, issued by their own account
    let officer_id = count(&mut conn, "SELECT id AS n FROM users WHERE username = 'officer1'");
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM invitations WHERE officer_code = 'CB01' \
                 AND issued_by = 'user:{officer_id}' AND NOT preprinted"
            )
        ),
        2,
        "{out}"
    );
    // the A4 sheet's three slips are marked as printed in advance
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations WHERE preprinted"), 3, "{out}");
    // the paired desk computer issued with its own key, for the officer picked on it
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM invitations i JOIN api_keys k ON i.issued_by = 'api-key:' || k.id \
             WHERE k.name = 'Máy bàn: Quầy 1' AND i.officer_code = 'CB02'"
        ),
        1,
        "{out}"
    );
}
