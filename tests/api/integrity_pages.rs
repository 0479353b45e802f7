//! The integrity capability's staff pages: the report and review for leaders, follow-ups with
//! overdue ones highlighted, comments shown as text, replies posted from the page.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use sipas::kernel::net::parse_list;

use crate::fixtures::{answer_from, csrf_of, invite, people, sign_in};
use crate::harness::{Reply, SEED, TestApp};

async fn app() -> TestApp {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.integrity.desk_networks = parse_list("192.0.2.0/24").unwrap();
    })
    .await;
    people(&app);
    app
}

#[actix_web::test]
async fn a_leader_reviews_a_flagged_answer_on_the_integrity_page_and_officers_may_not() {
    let app = app().await;
    let token = invite(&app, SEED.officers[0], 10).token;
    assert_eq!(answer_from(&app, &token, "192.0.2.5", "Phone", json!({"CASE.OVERALL": 5})).await.status, 201);
    let leader = sign_in(&app, "leader").await;
    let Reply { status, body: html, .. } = app.get("/integrity").as_staff(&leader).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Gửi từ mạng của cơ quan"));
    assert!(html.contains("Đang loại ra"));
    let id: i64 =
        sipas::schema::responses::table.select(sipas::schema::responses::id).first(&mut app.conn()).unwrap();
    let csrf = csrf_of(&html);
    let uri = format!("/integrity/responses/{id}/review");
    let status =
        app.post_form(&uri, &[("verdict", "genuine"), ("note", "ok")]).as_staff(&leader).await.status;
    assert_eq!(status, 403, "no CSRF token, no change");
    let r = app
        .post_form(&uri, &[("csrf", &csrf), ("verdict", "genuine"), ("note", "Đã xác minh")])
        .as_staff(&leader)
        .await;
    let (status, location) = (r.status, r.location());
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/integrity"));
    let html = app.get("/integrity").as_staff(&leader).await.body;
    assert!(html.contains("Thật (đã tính lại)"));
    let officer = sign_in(&app, "officer1").await;
    assert_eq!(app.get("/integrity").as_staff(&officer).await.status, 403);
    let today = sipas::kernel::time::local_day(Utc::now());
    let api = format!("/api/v1/integrity?from={today}&to={today}");
    assert_eq!(
        app.get(&api).as_staff(&officer).await.status,
        403,
        "officers do not read the integrity report"
    );
    let Reply { status, body, .. } = app.get(&api).as_staff(&leader).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get("/integrity").await.status, 303);
}

#[actix_web::test]
async fn the_follow_up_page_shows_comments_as_text_highlights_overdue_ones_and_sends_replies() {
    let app = app().await;
    let token = invite(&app, SEED.officers[0], 10).token;
    let comment = "Chờ lâu <img src=x onerror=alert(1)>";
    let r =
        answer_from(&app, &token, "198.51.100.4", "Phone", json!({"CASE.OVERALL": 1, "COMMENT": comment}));
    assert_eq!(r.await.status, 201);
    diesel::sql_query("UPDATE followups SET deadline = deadline - 30").execute(&mut app.conn()).unwrap();
    let leader = sign_in(&app, "leader").await;
    let Reply { status, body: html, .. } = app.get("/followups").as_staff(&leader).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"), "{html}");
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("followup overdue"));
    assert!(html.contains("Quá hạn"));
    let id: i64 = diesel::sql_query("SELECT id FROM followups").load::<Id>(&mut app.conn()).unwrap()[0].id;
    let csrf = csrf_of(&html);
    let status = app
        .post_form(
            &format!("/followups/{id}/reply"),
            &[("csrf", &csrf), ("message", "Cảm ơn Ông/Bà, chúng tôi đã bổ sung người trực.")],
        )
        .as_staff(&leader)
        .await
        .status;
    assert_eq!(status, 303);
    let html = app.get("/followups?status=answered").as_staff(&leader).await.body;
    assert!(html.contains("Đã trả lời:"));
    assert!(!html.contains("followup overdue"), "an answered follow-up is no longer overdue");
    // the officer sees their own follow-up, without the forms
    let officer = sign_in(&app, "officer1").await;
    let Reply { status, body: html, .. } = app.get("/followups").as_staff(&officer).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("#{id}")) && !html.contains("Gửi trả lời"));
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}
