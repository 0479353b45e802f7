//! Follow-ups and comments as a leader reads them: Vietnamese labels instead of codes, "Giao cho"
//! from the unit's accounts (an unknown owner refused with 422), and the page of every comment
//! with its filters — on real PostgreSQL, then by clicking in Chromium
//! (`tests/browser/followups.mjs`).

use serde_json::json;
use sipas::auth::Scope;

use crate::fixtures::{PASSWORD, answer_from, count, invite, people};
use crate::harness::{SEED, TestApp};
use crate::staff_browser::run_script;

const PHONE: &str = "Mozilla/5.0 (Linux; Android 10) Mobile";

/// Three answered surveys through the public API: a low score with a comment asking for a reply
/// (opens a follow-up), a good one with a comment, one without. Returns the follow-up's id.
async fn answered(app: &TestApp) -> i64 {
    let a = invite(app, SEED.officers[0], 30);
    let r = answer_from(
        app,
        &a.token,
        "198.51.100.7",
        PHONE,
        json!({"CASE.OVERALL": 2, "COMMENT": "Phải chờ quá lâu, không ai hướng dẫn.", "REPLY.WANTED": 1}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = invite(app, SEED.officers[1], 30);
    let r = answer_from(
        app,
        &b.token,
        "198.51.100.8",
        PHONE,
        json!({"CASE.OVERALL": 5, "COMMENT": "Cán bộ tận tình."}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = invite(app, SEED.officers[1], 30);
    assert_eq!(
        answer_from(app, &c.token, "198.51.100.9", PHONE, json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    count(&mut app.conn(), "SELECT max(id) AS n FROM followups")
}

#[actix_web::test]
async fn follow_ups_show_vietnamese_labels_and_are_given_only_to_the_units_accounts() {
    let app = TestApp::new().await;
    people(&app);
    let id = answered(&app).await;
    let (leader, csrf) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let r = app.get("/followups").as_staff(&leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let html = &r.body;
    assert!(html.contains("phụ trách Lãnh đạo đơn vị"), "{html}");
    assert!(html.contains(r#"<span class="status">Mới</span>"#), "{html}");
    assert!(
        !html.contains("leader:CHIEMHOA</") && !html.contains(">in_progress<") && !html.contains(">new<"),
        "{html}"
    );
    assert!(html.contains(">Đang xử lý<") && html.contains(">Đã giải quyết<"), "{html}");
    // "Giao cho" lists the unit's accounts, named
    assert!(
        html.contains(r#"<option value="officer1">Nguyễn Thị Lan (officer1, cán bộ một cửa)</option>"#),
        "{html}"
    );

    // an owner that is no account of the unit is refused, by the page and by the API
    for owner in ["Lan", "province", "admin"] {
        let form = [("csrf", csrf.as_str()), ("unit", SEED.unit), ("owner", owner)];
        let r = app.post_form(&format!("/followups/{id}/assign"), &form).as_staff(&leader).await;
        assert_eq!(r.status, 422, "{owner}: {}", r.body);
        let r = app
            .post_json(&format!("/api/v1/followups/{id}/assign"), &json!({"owner": owner}))
            .as_staff(&leader)
            .await;
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (422, json!("unknown_owner")),
            "{owner}: {}",
            r.body
        );
    }
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'followup.assign'"),
        0
    );
    // another unit's officer is no owner here either
    let r = app
        .post_json(&format!("/api/v1/followups/{id}/assign"), &json!({"owner": SEED.other_officer}))
        .as_staff(&leader)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    // an account of the unit is accepted and shown by name
    let form = [("csrf", csrf.as_str()), ("unit", SEED.unit), ("owner", "officer1")];
    let r = app.post_form(&format!("/followups/{id}/assign"), &form).as_staff(&leader).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let html = app.get("/followups").as_staff(&leader).await.body;
    assert!(html.contains("phụ trách Nguyễn Thị Lan (officer1, cán bộ một cửa)"), "{html}");
    assert!(html.contains(r#"<option value="officer1" selected>"#), "{html}");
}

#[actix_web::test]
async fn the_comments_page_lists_every_comment_and_filters_by_rating_officer_and_procedure() {
    let app = TestApp::new().await;
    people(&app);
    answered(&app).await;
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let r = app.get("/comments").as_staff(&leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Phải chờ quá lâu") && r.body.contains("Cán bộ tận tình."), "{}", r.body);
    assert!(r.body.contains(": 2 ý kiến."), "{}", r.body);
    let r = app.get("/comments?rating=2").as_staff(&leader).await;
    assert!(r.body.contains("Phải chờ quá lâu") && !r.body.contains("Cán bộ tận tình."), "{}", r.body);
    assert!(r.body.contains("2 · Không hài lòng"));
    let r = app.get("/comments?officer=CB02").as_staff(&leader).await;
    assert!(!r.body.contains("Phải chờ quá lâu") && r.body.contains("Cán bộ tận tình."), "{}", r.body);
    let r = app.get(&format!("/comments?procedure={}", SEED.procedures[1])).as_staff(&leader).await;
    assert!(r.body.contains(": 0 ý kiến."), "{}", r.body);
    let r = app.get("/comments?period=2020-Q1").as_staff(&leader).await;
    assert!(r.body.contains(": 0 ý kiến."), "{}", r.body);
    // bad filters are refused, another unit is not the leader's, officers read their own page
    assert_eq!(app.get("/comments?rating=9").as_staff(&leader).await.status, 400);
    assert_eq!(app.get("/comments?period=never").as_staff(&leader).await.status, 400);
    assert_eq!(app.get("/comments?unit=KIMBINH").as_staff(&leader).await.status, 403);
    let (officer, _) =
        app.session("lan", &Scope::Officer { unit: SEED.unit.into(), officer: SEED.officers[0].into() });
    assert_eq!(app.get("/comments").as_staff(&officer).await.status, 403);
}

#[actix_web::test]
async fn in_chromium_a_leader_assigns_a_follow_up_from_the_list_and_filters_the_comments() {
    let app = TestApp::new().await;
    people(&app);
    answered(&app).await;
    let base = app.spawn_server();
    run_script("followups.mjs", &[&base, "leader", PASSWORD]).await;
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM followups WHERE owner = 'officer1'"),
        1,
        "the follow-up was given to the account chosen in the list"
    );
}
