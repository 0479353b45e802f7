//! The integrity capability's staff pages: the report and review for leaders, follow-ups with
//! overdue ones highlighted, comments shown as text, replies posted from the page.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};
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
    // the officer does not see it yet: it is of today, in no released block (SECURITY.md, finding 2)
    let officer = sign_in(&app, "officer1").await;
    let Reply { status, body: html, .. } = app.get("/followups").as_staff(&officer).await;
    assert_eq!(status, 200);
    assert!(!html.contains("onerror"), "{html}");
    // once it lies in a released block (four more answers of closed days), the officer sees it,
    // numbered on the page, undated and without the forms
    diesel::sql_query("UPDATE responses SET submitted_at = submitted_at - interval '3 days'")
        .execute(&mut app.conn())
        .unwrap();
    diesel::sql_query("UPDATE followups SET opened_at = opened_at - interval '3 days'")
        .execute(&mut app.conn())
        .unwrap();
    let past = sipas::kernel::time::midnight(sipas::kernel::time::today() - chrono::Duration::days(2));
    for i in 0..4 {
        let at = past + chrono::Duration::hours(8 + i);
        let inv = crate::fixtures::issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at);
        crate::fixtures::answer(&app, inv.id, at, &[("CASE.OVERALL", json!(5))]);
    }
    let Reply { status, body: html, .. } = app.get("/followups").as_staff(&officer).await;
    assert_eq!(status, 200);
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"), "{html}");
    assert!(html.contains("<h2>#1 ·"), "{html}");
    assert!(!html.contains("Gửi trả lời") && html.contains("mở ngày — · hạn —"), "{html}");
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

#[actix_web::test]
async fn an_officer_who_offers_the_slip_only_to_pleased_residents_is_shown_unusual_with_its_evidence() {
    let app = TestApp::with_config(|c| c.min_n = Some(5)).await;
    people(&app);
    let leader = sign_in(&app, "leader").await;
    let today = sipas::kernel::time::local_day(Utc::now());
    // CB01 handled 40 cases and offered 10 slips, all answered with a top score; CB02 offered
    // every one of its 20 cases, answered half with a top score
    let mut ip = 0;
    for (officer, levels) in [(SEED.officers[0], vec![5; 10]), (SEED.officers[1], [5, 4].repeat(10))] {
        for level in levels {
            ip += 1;
            let token = invite(&app, officer, 10).token;
            let r = answer_from(
                &app,
                &token,
                &format!("198.51.100.{ip}"),
                "Phone",
                json!({"CASE.OVERALL": level}),
            )
            .await;
            assert_eq!(r.status, 201);
        }
    }
    let days = json!({"days": [
        {"officer_code": SEED.officers[0], "date": today.to_string(), "cases": 40},
        {"officer_code": SEED.officers[1], "date": today.to_string(), "cases": 20},
    ]});
    let key = app.api_key(SEED.unit);
    assert_eq!(app.post_json("/api/v1/cases/daily", &days).with_key(&key).await.status, 200);
    let r = app.get(&format!("/api/v1/integrity?from={today}&to={today}")).as_staff(&leader).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 200, "{body}");
    let e = &body["evidence"];
    assert_eq!(
        (e["min_n"].clone(), e["fdr"].clone(), e["province_compared"].clone()),
        (json!(5), json!(0.05), json!(false))
    );
    assert!(e["province_note"].as_str().is_some_and(|n| n.contains("own unit")), "{e}");
    let officer =
        |code: &str| e["officers"].as_array().unwrap().iter().find(|o| o["officer_code"] == code).unwrap();
    let (cb01, cb02) = (officer(SEED.officers[0]), officer(SEED.officers[1]));
    assert_eq!((cb01["unusual"].clone(), cb02["unusual"].clone()), (json!(true), json!(false)), "{e}");
    let unusual: Vec<&Value> =
        cb01["comparisons"].as_array().unwrap().iter().filter(|c| c["unusual"] == true).collect();
    let measures: Vec<&str> = unusual.iter().map(|c| c["measure"].as_str().unwrap()).collect();
    assert_eq!(measures, ["top_share", "offer_rate"], "{e}");
    let top = unusual[0];
    assert_eq!(
        (top["officer"].clone(), top["rest"].clone(), top["direction"].clone(), top["against"].clone()),
        (
            json!({"k": 10, "n": 10, "rate": 100.0}),
            json!({"k": 10, "n": 20, "rate": 50.0}),
            json!("higher"),
            json!("unit")
        )
    );
    // the exact one-sided p of 10/10 against 10/20: C(20,10)·C(10,0)/C(30,10)
    let p = top["p"].as_f64().unwrap();
    assert!((p - 184_756.0 / 30_045_015.0).abs() < 1e-12, "{p}");
    assert!(top["q"].as_f64().unwrap() >= p && top["q"].as_f64().unwrap() <= 0.05);
    let offer = unusual[1];
    assert_eq!(
        (offer["officer"]["k"].clone(), offer["officer"]["n"].clone(), offer["direction"].clone()),
        (json!(10), json!(40), json!("lower"))
    );

    let html = app.get(&format!("/integrity?from={today}&to={today}")).as_staff(&leader).await.body;
    assert!(html.contains("Dấu hiệu theo cán bộ trong kỳ"), "{html}");
    assert!(html.contains("1 cán bộ có dấu hiệu bất thường trong kỳ"), "{html}");
    assert!(html.contains("100,00% (10/10)") && html.contains("50,00% (10/20)"), "{html}");
    assert!(html.contains("Bất thường") && html.contains("không phải kết luận"));
}
