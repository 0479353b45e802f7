//! The integrity capability's staff pages: the report and review for leaders, follow-ups with
//! overdue ones highlighted, comments shown as text, replies posted from the page.

use actix_web::test as awt;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::json;
use sipas::integrity::net::parse_list;
use sipas::schema::invitations;
use sipas::startup::build_app;

use crate::harness::{SEED, TestApp};
use crate::staff::{csrf_of, get_page, people, post_page, sign_in};

async fn app() -> TestApp {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.desk_networks = parse_list("192.0.2.0/24").unwrap();
    })
    .await;
    people(&app);
    app
}

fn invite(app: &TestApp, officer: &str) -> String {
    let inv = app.insert_invitation(SEED.unit, officer, SEED.procedures[0]);
    diesel::update(invitations::table.find(inv.id))
        .set(invitations::issued_at.eq(Utc::now() - Duration::minutes(10)))
        .execute(&mut app.conn())
        .unwrap();
    inv.token
}

fn answer(token: &str, ip: &str, answers: serde_json::Value) -> actix_http::Request {
    awt::TestRequest::post()
        .uri(&format!("/api/v1/responses/{token}"))
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .insert_header(("user-agent", "Phone"))
        .set_json(json!({ "answers": answers }))
        .to_request()
}

#[actix_web::test]
async fn a_leader_reviews_a_flagged_answer_on_the_integrity_page_and_officers_may_not() {
    let app = app().await;
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let token = invite(&app, SEED.officers[0]);
    assert_eq!(
        awt::call_service(&svc, answer(&token, "192.0.2.5", json!({"CASE.OVERALL": 5}))).await.status(),
        201
    );
    let leader = sign_in(&svc, "leader").await;
    let (status, html, _) = get_page(&svc, "/integrity", Some(&leader)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Gửi từ mạng của cơ quan"));
    assert!(html.contains("Đang loại ra"));
    let id: i64 =
        sipas::schema::responses::table.select(sipas::schema::responses::id).first(&mut app.conn()).unwrap();
    let csrf = csrf_of(&html);
    let uri = format!("/integrity/responses/{id}/review");
    let (status, _, _) = post_page(&svc, &uri, &leader, &[("verdict", "genuine"), ("note", "ok")]).await;
    assert_eq!(status, 403, "no CSRF token, no change");
    let (status, _, location) =
        post_page(&svc, &uri, &leader, &[("csrf", &csrf), ("verdict", "genuine"), ("note", "Đã xác minh")])
            .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/integrity"));
    let (_, html, _) = get_page(&svc, "/integrity", Some(&leader)).await;
    assert!(html.contains("Thật (đã tính lại)"));
    let officer = sign_in(&svc, "officer1").await;
    assert_eq!(get_page(&svc, "/integrity", Some(&officer)).await.0, 403);
    let today = sipas::stats::rollup::local_day(Utc::now());
    let api = format!("/api/v1/integrity?from={today}&to={today}");
    assert_eq!(
        get_page(&svc, &api, Some(&officer)).await.0,
        403,
        "officers do not read the integrity report"
    );
    let (status, body, _) = get_page(&svc, &api, Some(&leader)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get_page(&svc, "/integrity", None).await.0, 303);
}

#[actix_web::test]
async fn the_follow_up_page_shows_comments_as_text_highlights_overdue_ones_and_sends_replies() {
    let app = app().await;
    let svc = awt::init_service(build_app(app.state.clone())).await;
    let token = invite(&app, SEED.officers[0]);
    let comment = "Chờ lâu <img src=x onerror=alert(1)>";
    let req = answer(&token, "198.51.100.4", json!({"CASE.OVERALL": 1, "COMMENT": comment}));
    assert_eq!(awt::call_service(&svc, req).await.status(), 201);
    diesel::sql_query("UPDATE followups SET deadline = deadline - 30").execute(&mut app.conn()).unwrap();
    let leader = sign_in(&svc, "leader").await;
    let (status, html, _) = get_page(&svc, "/followups", Some(&leader)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"), "{html}");
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("followup overdue"));
    assert!(html.contains("Quá hạn"));
    let id: i64 = diesel::sql_query("SELECT id FROM followups").load::<Id>(&mut app.conn()).unwrap()[0].id;
    let csrf = csrf_of(&html);
    let (status, _, _) = post_page(
        &svc,
        &format!("/followups/{id}/reply"),
        &leader,
        &[("csrf", &csrf), ("message", "Cảm ơn Ông/Bà, chúng tôi đã bổ sung người trực.")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html, _) = get_page(&svc, "/followups?status=answered", Some(&leader)).await;
    assert!(html.contains("Đã trả lời:"));
    assert!(!html.contains("followup overdue"), "an answered follow-up is no longer overdue");
    // the officer sees their own follow-up, without the forms
    let officer = sign_in(&svc, "officer1").await;
    let (status, html, _) = get_page(&svc, "/followups", Some(&officer)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("#{id}")) && !html.contains("Gửi trả lời"));
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}
