//! Genuine results: integrity flags (an answer's own in its submission transaction, those it
//! reveals of earlier answers by the integrity job, run here by `spread_flags`) and their effect on the
//! statistics, reviews, offer rates and the integrity report, follow-ups with replies on the
//! resident's page, unfounded complaints, and the retention purge.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::config::Config;
use sipas::kernel::net::parse_list;
use sipas::schema::{audit_log, integrity_flags, integrity_spread, invitations, responses};

use crate::fixtures::{answer_from, invite, stats};
use crate::harness::{SEED, TestApp};

const PHONE: &str = "Mozilla/5.0 (Linux; Android 11; Redmi 9A)";

fn today() -> String {
    sipas::kernel::time::local_day(Utc::now()).to_string()
}

async fn integrity_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.integrity.desk_networks = parse_list("192.0.2.0/24").unwrap();
        adjust(c);
    })
    .await;
    app.seed();
    app
}

/// The reasons of `token`'s response once the integrity job has run (`TestApp::spread_flags`).
fn reasons_of(app: &TestApp, token: &str) -> Vec<String> {
    app.spread_flags();
    let mut conn = app.conn();
    let rid = response_id(app, token);
    integrity_flags::table
        .filter(integrity_flags::response_id.eq(rid))
        .order(integrity_flags::reason)
        .select(integrity_flags::reason)
        .load(&mut conn)
        .unwrap()
}

fn all_group(body: &Value) -> &Value {
    &body["groups"][0]
}

/// The statistics of today (local), with `extra` parameters.
async fn today_stats(app: &TestApp, key: &str, extra: &str) -> Value {
    app.spread_flags();
    stats(app, key, &format!("from={0}&to={0}{extra}", today())).await
}

#[actix_web::test]
async fn an_answer_from_the_desk_network_is_accepted_flagged_and_held_out_unless_included() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let desk = invite(&app, SEED.officers[0], 10).token;
    let r = answer_from(&app, &desk, "192.0.2.10", "Desk PC", json!({"CASE.OVERALL": 5})).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 201, "{body}");
    assert_eq!(reasons_of(&app, &desk), ["desk_network"]);
    let home = invite(&app, SEED.officers[0], 10).token;
    let r = answer_from(&app, &home, "198.51.100.20", PHONE, json!({"CASE.OVERALL": 2})).await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 201);
    assert!(reasons_of(&app, &home).is_empty());

    let out = today_stats(&app, &key, "").await;
    let g = all_group(&out);
    assert_eq!((g["responses"].clone(), g["flagged"].clone()), (json!(1), json!(1)));
    assert_eq!(g["overall"]["rate"], 0.0);
    let with = today_stats(&app, &key, "&include_flagged=true").await;
    let g = all_group(&with);
    assert_eq!((g["responses"].clone(), g["flagged"].clone()), (json!(2), json!(1)));
    assert_eq!(g["overall"]["rate"], 50.0);
    // an addition to the held response stays held: still out by default
    let r = answer_from(&app, &desk, "192.0.2.10", "Desk PC", json!({"TT01.I7": 1})).await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 200);
    let out = today_stats(&app, &key, "").await;
    assert_eq!(all_group(&out)["items"]["TT01.I7"]["n"], 0);
    // every officer group reports its flagged count, even when all its answers are held out
    let by = today_stats(&app, &key, "&group_by=officer").await;
    let cb01 = by["groups"].as_array().unwrap().iter().find(|g| g["key"] == SEED.officers[0]).unwrap();
    assert_eq!(cb01["flagged"], 1);
}

#[actix_web::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    let app = integrity_app(|c| c.trusted_proxies = parse_list("10.0.0.0/8").unwrap()).await;
    let forwarded = |token: &str, peer: &str| {
        app.post_json(&format!("/api/v1/responses/{token}"), &json!({"answers": {"CASE.OVERALL": 4}}))
            .peer(&format!("{peer}:40000"))
            .header("x-forwarded-for", "192.0.2.44")
            .header("user-agent", PHONE)
    };
    let via_proxy = invite(&app, SEED.officers[0], 10).token;
    assert_eq!(forwarded(&via_proxy, "10.1.1.1").await.status, 201);
    assert_eq!(reasons_of(&app, &via_proxy), ["desk_network"]);
    let spoofed = invite(&app, SEED.officers[0], 10).token;
    assert_eq!(forwarded(&spoofed, "198.51.100.3").await.status, 201);
    assert!(reasons_of(&app, &spoofed).is_empty());
}

#[actix_web::test]
async fn an_answer_sent_seconds_after_issue_is_flagged_too_fast() {
    let app = integrity_app(|_| {}).await;
    let fresh = invite(&app, SEED.officers[0], 0).token;
    assert_eq!(
        answer_from(&app, &fresh, "198.51.100.7", PHONE, json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert_eq!(reasons_of(&app, &fresh), ["too_fast"]);
}

#[actix_web::test]
async fn one_device_answering_more_than_the_daily_limit_flags_every_one_including_earlier_ones() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let tokens: Vec<String> = (0..4).map(|_| invite(&app, SEED.officers[1], 30).token).collect();
    for (i, t) in tokens.iter().enumerate() {
        assert_eq!(answer_from(&app, t, "198.51.100.9", PHONE, json!({"CASE.OVERALL": 4})).await.status, 201);
        let g = today_stats(&app, &key, "").await;
        if i < 3 {
            assert!(reasons_of(&app, t).is_empty(), "answer {i} is within the limit");
            assert_eq!(all_group(&g)["responses"], i + 1);
        }
    }
    for t in &tokens {
        assert_eq!(reasons_of(&app, t), ["same_device"]);
    }
    let g = today_stats(&app, &key, "").await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(0), json!(4)));
    // the same address with another phone is another device
    let other = invite(&app, SEED.officers[1], 30).token;
    assert_eq!(
        answer_from(&app, &other, "198.51.100.9", "Another phone", json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert!(reasons_of(&app, &other).is_empty());
}

#[actix_web::test]
async fn five_top_scores_for_one_officer_within_two_minutes_are_a_burst_and_four_are_not() {
    let app = integrity_app(|_| {}).await;
    let tokens: Vec<String> = (0..5).map(|_| invite(&app, SEED.officers[0], 20).token).collect();
    for (i, t) in tokens.iter().enumerate() {
        let ip = format!("198.51.100.{}", 50 + i);
        assert_eq!(answer_from(&app, t, &ip, PHONE, json!({"CASE.OVERALL": 5})).await.status, 201);
        if i == 3 {
            assert!(tokens[..4].iter().all(|t| reasons_of(&app, t).is_empty()), "four are not a burst");
        }
    }
    for t in &tokens {
        assert_eq!(reasons_of(&app, t), ["burst"]);
    }
    // the other officer's top score at the same moment is not part of it; nor is a 4
    let other = invite(&app, SEED.officers[1], 20).token;
    assert_eq!(
        answer_from(&app, &other, "198.51.100.90", PHONE, json!({"CASE.OVERALL": 5})).await.status,
        201
    );
    assert!(reasons_of(&app, &other).is_empty());
    let four = invite(&app, SEED.officers[0], 20).token;
    assert_eq!(
        answer_from(&app, &four, "198.51.100.91", PHONE, json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert!(reasons_of(&app, &four).is_empty());
}

#[actix_web::test]
async fn the_answer_that_completes_a_burst_is_flagged_at_once_and_the_earlier_four_by_the_job() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let tokens: Vec<String> = (0..5).map(|_| invite(&app, SEED.officers[0], 20).token).collect();
    for (i, t) in tokens.iter().enumerate() {
        let ip = format!("198.51.100.{}", 60 + i);
        assert_eq!(answer_from(&app, t, &ip, PHONE, json!({"CASE.OVERALL": 5})).await.status, 201);
    }
    // before the job: the fifth carries its own flag and is held; the answer's transaction wrote
    // nothing of the earlier four but one queue row naming them
    let flags_now = |t: &str| -> Vec<String> {
        integrity_flags::table
            .inner_join(responses::table.inner_join(invitations::table))
            .filter(invitations::token_hash.eq(app.token_hash(t)))
            .select(integrity_flags::reason)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(flags_now(&tokens[4]), ["burst"]);
    assert!(tokens[..4].iter().all(|t| flags_now(t).is_empty()));
    let queued: Vec<(String, Vec<Option<i64>>)> = integrity_spread::table
        .select((integrity_spread::reason, integrity_spread::response_ids))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].0.as_str(), queued[0].1.len()), ("burst", 4));
    let g = stats(&app, &key, &format!("from={0}&to={0}", today())).await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(4), json!(1)));
    // the job flags and holds the four, once, and empties its queue
    assert_eq!(app.spread_flags(), 4);
    assert!(tokens.iter().all(|t| flags_now(t) == ["burst"]));
    let left: i64 = integrity_spread::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(left, 0);
    assert_eq!(app.spread_flags(), 0);
    let g = stats(&app, &key, &format!("from={0}&to={0}", today())).await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(0), json!(5)));
}

#[actix_web::test]
async fn a_leader_reviews_flagged_answers_genuine_or_invalid_and_each_review_is_audited() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let a = invite(&app, SEED.officers[0], 10).token;
    let b = invite(&app, SEED.officers[1], 10).token;
    let clean = invite(&app, SEED.officers[1], 10).token;
    answer_from(&app, &a, "192.0.2.10", "Desk PC", json!({"CASE.OVERALL": 5})).await;
    answer_from(&app, &b, "192.0.2.11", "Desk PC 2", json!({"CASE.OVERALL": 5})).await;
    answer_from(&app, &clean, "198.51.100.1", PHONE, json!({"CASE.OVERALL": 3})).await;

    let r = app.get(&format!("/api/v1/integrity/flagged?from={0}&to={0}", today())).with_key(&key).await;
    let (status, list) = (r.status, r.json());
    assert_eq!(status, 200, "{list}");
    let officers = list["officers"].as_array().unwrap();
    assert_eq!(officers.len(), 2);
    assert_eq!(officers[0]["officer_code"], SEED.officers[0]);
    let first = &officers[0]["reasons"]["desk_network"][0];
    let (id_a, id_b) = (
        first["response_id"].as_i64().unwrap(),
        officers[1]["reasons"]["desk_network"][0]["response_id"].as_i64().unwrap(),
    );
    assert_eq!(first["held"], true);

    let review = |id: i64, verdict: &str| {
        app.post_json(
            &format!("/api/v1/integrity/responses/{id}/review"),
            &json!({"verdict": verdict, "note": "Đã gọi điện xác minh"}),
        )
        .with_key(&key)
    };
    let r = review(id_a, "genuine").await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["held"].clone()), (200, json!(false)), "{body}");
    let r = review(id_b, "invalid").await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["held"].clone()), (200, json!(true)));
    let g = today_stats(&app, &key, "").await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(2), json!(1)));
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("integrity.review"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(audited, 2);

    // refusals change nothing
    let clean_id = response_id(&app, &clean);
    assert_eq!(review(clean_id, "invalid").await.status, 409);
    assert_eq!(review(999_999, "invalid").await.status, 404);
    let r = review(id_a, "maybe").await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["error"].clone()), (422, json!("invalid_verdict")));
    let other_key = app.api_key(SEED.other_unit);
    assert_eq!(
        app.post_json(&format!("/api/v1/integrity/responses/{id_a}/review"), &json!({"verdict": "invalid"}))
            .with_key(&other_key)
            .await
            .status,
        404
    );
    let g = today_stats(&app, &key, "").await;
    assert_eq!(all_group(&g)["responses"], 2);
}

#[actix_web::test]
async fn offer_rates_and_top_score_shares_appear_in_the_integrity_report() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    for (officer, level, ip) in
        [(0, 5, "198.51.100.1"), (0, 5, "198.51.100.2"), (1, 3, "198.51.100.3"), (1, 5, "192.0.2.9")]
    {
        let t = invite(&app, SEED.officers[officer], 10).token;
        answer_from(&app, &t, ip, PHONE, json!({"CASE.OVERALL": level})).await;
    }
    invite(&app, SEED.officers[1], 10); // issued, not answered
    let days = json!({"days": [
        {"officer_code": SEED.officers[0], "date": today(), "cases": 8},
        {"officer_code": SEED.officers[1], "date": today(), "cases": 3}
    ]});
    let r = app.post_json("/api/v1/cases/daily", &days).with_key(&key).await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["stored"].clone()), (200, json!(2)), "{body}");
    let r = app.get(&format!("/api/v1/integrity?from={0}&to={0}", today())).with_key(&key).await;
    let (status, r) = (r.status, r.json());
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["flagged_by_reason"]["desk_network"], 1);
    assert_eq!(r["top_share"], 75.0);
    let o = |code: &str| {
        r["officers"].as_array().unwrap().iter().find(|o| o["officer_code"] == code).unwrap().clone()
    };
    let (cb01, cb02) = (o(SEED.officers[0]), o(SEED.officers[1]));
    assert_eq!(
        (cb01["invitations"].clone(), cb01["cases"].clone(), cb01["offer_rate"].clone()),
        (json!(2), json!(8), json!(25.0))
    );
    assert_eq!((cb02["invitations"].clone(), cb02["offer_rate"].clone()), (json!(3), json!(100.0)));
    assert_eq!((cb01["top_share"].clone(), cb01["top_share_vs_unit"].clone()), (json!(100.0), json!(25.0)));
    assert_eq!(cb02["flagged_by_reason"]["desk_network"], 1);

    // another unit's officer, a bad date or a negative count: 422, nothing stored
    for bad in [
        json!({"days": [{"officer_code": SEED.other_officer, "date": today(), "cases": 1}]}),
        json!({"days": [{"officer_code": SEED.officers[0], "date": "27/11/2026", "cases": 1}]}),
        json!({"days": [{"officer_code": SEED.officers[0], "date": today(), "cases": -1}]}),
        json!({"days": []}),
    ] {
        let r = app.post_json("/api/v1/cases/daily", &bad).with_key(&key).await;
        let (status, body) = (r.status, r.json());
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = app.get(&format!("/api/v1/integrity?from={0}&to={0}", today())).with_key(&key).await.json();
    assert_eq!(r["cases"], 11);
    assert_eq!(app.get("/api/v1/integrity?from=2026-02-30&to=2026-03-01").with_key(&key).await.status, 400);
    assert_eq!(app.get("/api/v1/integrity?from=2026-01-01&to=2026-01-02").await.status, 401);
}

#[actix_web::test]
async fn a_comment_asking_for_a_reply_becomes_a_follow_up_whose_reply_the_resident_reads_as_text() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let token = invite(&app, SEED.officers[0], 10).token;
    let comment = "Chờ quá lâu <script>alert(1)</script>";
    let r = answer_from(&app, &token, "198.51.100.5", PHONE, json!({"CASE.OVERALL": 2})).await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 201);
    let list = app.get("/api/v1/followups").with_key(&key).await.json();
    assert_eq!(list["followups"].as_array().unwrap().len(), 0, "a low score alone opens nothing");
    // the comment and the wish for a reply arrive as additions
    let r = answer_from(&app, &token, "198.51.100.5", PHONE, json!({"COMMENT": comment, "REPLY.WANTED": 1}))
        .await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 200);
    let r = app.get("/api/v1/followups?status=new").with_key(&key).await;
    let (status, list) = (r.status, r.json());
    assert_eq!(status, 200, "{list}");
    let f = &list["followups"][0];
    assert_eq!(f["comment"], comment);
    assert_eq!(f["triggers"], json!(["low_score_comment", "reply_wanted"]));
    assert_eq!(f["owner"], format!("leader:{}", SEED.unit));
    assert_eq!(f["overdue"], false);
    let expected = sipas::followups::model::add_working_days(sipas::kernel::time::local_day(Utc::now()), 10);
    assert_eq!(f["deadline"], expected.to_string());
    let id = f["id"].as_i64().unwrap();

    // before the reply, the resident's page says one is coming
    diesel::update(responses::table.filter(responses::invitation_id.eq_any(
        invitations::table.filter(invitations::token_hash.eq(app.token_hash(&token))).select(invitations::id),
    )))
    .set(responses::submitted_at.eq(Utc::now() - Duration::hours(3)))
    .execute(&mut app.conn())
    .unwrap();
    let page = |lang: &str| app.get(&format!("/s/{token}?lang={lang}"));
    let r = page("vi").await;
    let (status, html) = (r.status, r.body);
    assert_eq!(status, 200);
    assert!(html.contains("Câu trả lời sẽ hiện tại chính địa chỉ này"));

    let reply = "Xin lỗi Ông/Bà. <b>Bộ phận Một cửa</b> đã bổ sung người trực & sẽ trả kết quả đúng hẹn.";
    let r = app
        .post_json(&format!("/api/v1/followups/{id}/reply"), &json!({"message": reply}))
        .with_key(&key)
        .await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["status"].clone()), (200, json!("answered")), "{body}");
    // the token is spent, the reply is there, as text
    let r = page("vi").await;
    let (status, html) = (r.status, r.body);
    assert_eq!(status, 200);
    assert!(html.contains("Trả lời của cơ quan"));
    assert!(html.contains("&#60;b&#62;Bộ phận Một cửa&#60;/b&#62;"), "{html}");
    assert!(!html.contains("<b>Bộ phận"));
    let html = page("en").await.body;
    assert!(html.contains("The office&#39;s reply</h2>"), "{html}");
    // a spent token still refuses answers
    assert_eq!(answer_from(&app, &token, "198.51.100.5", PHONE, json!({"EXP": [1]})).await.status, 409);

    // reassign, then close; a closed follow-up no longer changes; bad input is refused
    let r = app
        .post_json(&format!("/api/v1/followups/{id}/assign"), &json!({"owner": "CB02"}))
        .with_key(&key)
        .await;
    let (status, body) = (r.status, r.json());
    assert_eq!((status, body["owner"].clone()), (200, json!("CB02")));
    assert_eq!(
        app.post_json(&format!("/api/v1/followups/{id}/close"), &json!({"outcome": "unfounded"}))
            .with_key(&key)
            .await
            .status,
        422
    );
    let r = app
        .post_json(
            &format!("/api/v1/followups/{id}/close"),
            &json!({"outcome": "resolved", "note": "Đã trả lời"}),
        )
        .with_key(&key)
        .await;
    let (status, body) = (r.status, r.json());
    assert_eq!(
        (status, body["status"].clone(), body["outcome"].clone()),
        (200, json!("closed"), json!("resolved"))
    );
    assert_eq!(
        app.post_json(&format!("/api/v1/followups/{id}/reply"), &json!({"message": "again"}))
            .with_key(&key)
            .await
            .status,
        409
    );
    assert_eq!(
        app.post_json(&format!("/api/v1/followups/{id}/reply"), &json!({"message": "  "}))
            .with_key(&key)
            .await
            .status,
        422
    );
    assert_eq!(app.get("/api/v1/followups?status=lost").with_key(&key).await.status, 400);
    let other_key = app.api_key(SEED.other_unit);
    assert_eq!(
        app.post_json("/api/v1/followups/1/reply", &json!({"message": "x"}))
            .with_key(&other_key)
            .await
            .status,
        404
    );
    let actions: Vec<String> = audit_log::table
        .filter(audit_log::action.like("followup.%"))
        .order(audit_log::id)
        .select(audit_log::action)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(actions, ["followup.reply", "followup.assign", "followup.close"]);
}

#[actix_web::test]
async fn an_overdue_follow_up_is_marked_and_filtered() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let token = invite(&app, SEED.officers[0], 10).token;
    answer_from(&app, &token, "198.51.100.5", PHONE, json!({"CASE.OVERALL": 4, "CASE.EXTRA_COST": 2})).await;
    let list = app.get("/api/v1/followups?overdue=true").with_key(&key).await.json();
    assert_eq!(list["followups"].as_array().unwrap().len(), 0);
    diesel::sql_query("UPDATE followups SET deadline = deadline - 30").execute(&mut app.conn()).unwrap();
    let list = app.get("/api/v1/followups?overdue=true&trigger=extra_cost").with_key(&key).await.json();
    assert_eq!(list["followups"][0]["overdue"], true);
    assert_eq!(list["followups"][0]["triggers"], json!(["extra_cost"]));
}

#[actix_web::test]
async fn a_harassment_complaint_concluded_unfounded_leaves_indicator_seven() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let calm = invite(&app, SEED.officers[0], 10).token;
    answer_from(&app, &calm, "198.51.100.1", PHONE, json!({"CASE.OVERALL": 4, "TT01.I7": 1})).await;
    let complaint = invite(&app, SEED.officers[0], 10).token;
    answer_from(&app, &complaint, "198.51.100.2", PHONE, json!({"CASE.OVERALL": 2, "TT01.I7": 2})).await;
    let i7 = |b: &Value| all_group(b)["tt01"]["TT01.I7"].clone();
    assert_eq!(i7(&today_stats(&app, &key, "").await), 0.5);
    let list = app.get("/api/v1/followups?trigger=harassment").with_key(&key).await.json();
    let id = list["followups"][0]["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/api/v1/followups/{id}/close"),
            &json!({"outcome": "unfounded", "note": "Camera cho thấy cán bộ làm đúng quy trình"}),
        )
        .with_key(&key)
        .await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 200, "{body}");
    assert_eq!(i7(&today_stats(&app, &key, "").await), 1.0);
}

#[actix_web::test]
async fn the_retention_purge_clears_hashes_and_case_links_and_changes_no_statistic() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let mut tokens = Vec::new();
    for (i, level) in [5, 4, 2].into_iter().enumerate() {
        let t = invite(&app, SEED.officers[0], 10).token;
        answer_from(&app, &t, &format!("198.51.100.{i}"), PHONE, json!({"CASE.OVERALL": level})).await;
        tokens.push(t);
    }
    let desk = invite(&app, SEED.officers[1], 10).token;
    answer_from(&app, &desk, "192.0.2.1", PHONE, json!({"CASE.OVERALL": 5})).await;
    let inv_id: i64 = invitations::table
        .filter(invitations::token_hash.eq(app.token_hash(&tokens[0])))
        .select(invitations::id)
        .first(&mut app.conn())
        .unwrap();
    diesel::sql_query(format!("INSERT INTO case_links (invitation_id, unit_code, case_number, created_at) VALUES ({inv_id}, '{}', 'HS-001', now() - interval '200 days')", SEED.unit))
        .execute(&mut app.conn())
        .unwrap();
    let before = (
        today_stats(&app, &key, "").await,
        today_stats(&app, &key, "&include_flagged=true&group_by=officer").await,
    );
    // as of 40 days from now, every response is past the 30-day window
    let later = Utc::now() + Duration::days(40);
    let report = sipas::integrity::retention::purge(&mut app.conn(), 30, 180, later).unwrap().unwrap();
    assert_eq!((report.client_hashes, report.case_links), (4, 1));
    let left: i64 = responses::table
        .filter(responses::client_hash.is_not_null().or(responses::device_hash.is_not_null()))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(left, 0);
    let after = (
        today_stats(&app, &key, "").await,
        today_stats(&app, &key, "&include_flagged=true&group_by=officer").await,
    );
    assert_eq!(before, after);
    assert_eq!(reasons_of(&app, &desk), ["desk_network"], "flags outlive the hashes");
    let audited: Vec<String> = audit_log::table
        .filter(audit_log::action.like("retention.%"))
        .order(audit_log::action)
        .select(audit_log::action)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(audited, ["retention.case_links", "retention.client_hashes"]);
    // a second run finds nothing and audits nothing more
    assert_eq!(
        sipas::integrity::retention::purge(&mut app.conn(), 30, 180, later).unwrap(),
        Some(Default::default())
    );
}

/// The seeds the simulation is run with: the README's figures are those of the first; the others
/// show that the figures do not hang on one draw.
const SIMULATION_SEEDS: [u64; 6] = [2026, 1, 2, 3, 4, 5];

#[actix_web::test]
async fn the_simulation_catches_nine_in_ten_staged_answers_and_flags_at_most_two_percent_of_genuine_ones() {
    use sipas::demo::staged;
    let mut ordinary_unusual = 0;
    for seed in SIMULATION_SEEDS {
        let app = TestApp::new().await;
        let mut conn = app.conn();
        sipas::demo::import_master_data(&mut conn).unwrap();
        let last = staged::last_working_day(sipas::kernel::time::local_day(Utc::now()));
        let d =
            staged::run(&mut conn, &app.state.instruments, &app.state.config, &app.state.secret, last, seed)
                .unwrap();
        println!("seed {seed}: {d}");
        assert!(
            d.staged_caught * 10 >= d.staged * 9,
            "at least 90% of staged answers caught: seed {seed}: {d}"
        );
        assert!(
            d.genuine_flagged * 50 <= d.genuine,
            "at most 2% of genuine answers flagged: seed {seed}: {d}"
        );
        let pattern = |p: &str| d.patterns.iter().find(|f| f.pattern == p).unwrap().clone();
        // the patterns the per-answer rules are built for are flagged whole
        for p in ["desk", "burst", "device"] {
            assert_eq!(pattern(p).flagged, pattern(p).answers, "seed {seed}: {d}");
        }
        // the careful officer passes every per-answer rule; the evidence of the four weeks sees them
        let careful = pattern("careful");
        assert_eq!((careful.flagged, careful.caught), (0, careful.answers), "seed {seed}: {d}");
        assert!(careful.unusual.contains(&"response_rate"), "seed {seed}: {d}");
        // the officer who offers the slip only to pleased residents: fewer slips, more top scores
        let selective = pattern("selective");
        assert_eq!(selective.caught, selective.answers, "seed {seed}: {d}");
        assert!(
            selective.unusual.contains(&"offer_rate") && selective.unusual.contains(&"top_share"),
            "seed {seed}: {d}"
        );
        // the officer without a pattern: unusual at most by chance (the false-discovery rate)
        ordinary_unusual += usize::from(d.unusual_officers.iter().any(|(o, _)| o == "CH01"));
        if seed != SIMULATION_SEEDS[0] {
            continue;
        }
        assert_eq!(ordinary_unusual, 0, "the README's run marks the ordinary officer unusual: {d}");

        // every flagged answer is stored, held out of the statistics, and listed for review
        let flagged = d.patterns.iter().map(|p| p.flagged).sum::<usize>() + d.genuine_flagged;
        let held: i64 = responses::table.filter(responses::held).count().get_result(&mut conn).unwrap();
        assert_eq!(held as usize, flagged);
        let key = app.api_key("CHIEMHOA");
        let r =
            app.get(&format!("/api/v1/integrity/flagged?from={}&to={}", d.from, d.to)).with_key(&key).await;
        let (status, body) = (r.status, r.json());
        assert_eq!(status, 200, "{body}");
        let listed: std::collections::HashSet<i64> = body["officers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["reasons"].as_object().unwrap().values())
            .flat_map(|list| list.as_array().unwrap().iter().map(|r| r["response_id"].as_i64().unwrap()))
            .collect();
        assert_eq!(listed.len(), flagged);
        // the same evidence is in the report, with the careful officer's figures against the rest's
        let r =
            app.get(&format!("/api/v1/integrity?from={}&to={}", d.from, d.to)).with_key(&key).await.json();
        let ch04 = r["evidence"]["officers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["officer_code"] == "CH04")
            .unwrap();
        assert_eq!(ch04["unusual"], true, "{ch04}");
        let rate =
            ch04["comparisons"].as_array().unwrap().iter().find(|c| c["measure"] == "response_rate").unwrap();
        assert!(rate["officer"]["rate"].as_f64() > rate["rest"]["rate"].as_f64(), "{rate}");
    }
    assert!(ordinary_unusual <= 1, "the ordinary officer unusual in {ordinary_unusual} of the seeds");
}

#[actix_web::test]
async fn an_answer_reviewed_genuine_stays_counted_when_a_later_flag_reaches_it() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    // three answers from one phone on the staff Wi-Fi: flagged desk_network, held
    let tokens: Vec<String> = (0..4).map(|_| invite(&app, SEED.officers[0], 30).token).collect();
    for t in &tokens[..3] {
        assert_eq!(answer_from(&app, t, "192.0.2.30", PHONE, json!({"CASE.OVERALL": 4})).await.status, 201);
    }
    let first: i64 = response_id(&app, &tokens[0]);
    let review = json!({"verdict": "genuine", "note": "Người dân dùng wifi của xã"});
    let uri = format!("/api/v1/integrity/responses/{first}/review");
    assert_eq!(app.post_json(&uri, &review).with_key(&key).await.status, 200);
    // the fourth crosses the same-device line: the flag reaches the first, which stays counted
    assert_eq!(
        answer_from(&app, &tokens[3], "192.0.2.30", PHONE, json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert_eq!(reasons_of(&app, &tokens[0]), ["desk_network", "same_device"]);
    let g = today_stats(&app, &key, "").await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(1), json!(3)));
}

/// Chrome's reduced user agent on Android: the same string for every phone of this version.
const REDUCED_CHROME: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
                              Chrome/131.0.0.0 Mobile Safari/537.36";

/// Opens the survey page of `token` as a phone at `ip` would, sending `cookie` if it has one;
/// returns the device cookie the phone keeps afterwards.
async fn open_page(
    app: &TestApp,
    token: &str,
    ip: &str,
    ua: &str,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Option<actix_web::cookie::Cookie<'static>> {
    let mut call = app.get(&format!("/s/{token}")).peer(&format!("{ip}:40000")).header("user-agent", ua);
    if let Some(c) = &cookie {
        call = call.cookie(c.clone());
    }
    let r = call.await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.cookie(sipas::http::client::DEVICE_COOKIE).or(cookie)
}

/// The resident reads the page shown `seconds` ago (moves its first showing back).
fn read_for(app: &TestApp, token: &str, seconds: i64) {
    diesel::sql_query(format!(
        "UPDATE survey_views SET first_shown_at = now() - interval '{seconds} seconds' \
         WHERE invitation_id = (SELECT id FROM invitations WHERE token_hash = '{}')",
        app.token_hash(token)
    ))
    .execute(&mut app.conn())
    .unwrap();
}

/// Answers the survey page's first screen with the phone's cookie, as its browser does.
async fn tap(
    app: &TestApp,
    token: &str,
    ip: &str,
    ua: &str,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
    overall: &str,
) -> u16 {
    let mut call = app
        .post_form(&format!("/s/{token}"), &[("CASE.OVERALL", overall)])
        .peer(&format!("{ip}:40000"))
        .header("user-agent", ua);
    if let Some(c) = cookie {
        call = call.cookie(c);
    }
    call.await.status
}

/// The id of `token`'s response.
fn response_id(app: &TestApp, token: &str) -> i64 {
    responses::table
        .inner_join(invitations::table)
        .filter(invitations::token_hash.eq(app.token_hash(token)))
        .select(responses::id)
        .first(&mut app.conn())
        .unwrap()
}

fn stored_count(app: &TestApp, token: &str) -> i64 {
    responses::table
        .inner_join(invitations::table)
        .filter(invitations::token_hash.eq(app.token_hash(token)))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn a_long_burst_flags_every_answer_once_and_each_stays_stored_and_reviewable() {
    let app = integrity_app(|_| {}).await;
    let key = app.api_key(SEED.unit);
    let tokens: Vec<String> = (0..9).map(|_| invite(&app, SEED.officers[0], 20).token).collect();
    for (i, t) in tokens.iter().enumerate() {
        let ip = format!("198.51.100.{}", 100 + i);
        let r = answer_from(&app, t, &ip, &format!("{PHONE} #{i}"), json!({"CASE.OVERALL": 5})).await;
        assert_eq!(r.status, 201);
        let expected: &[&str] = if i < 4 { &[] } else { &["burst"] };
        if i < 4 {
            assert_eq!(reasons_of(&app, t), expected, "answer {i}");
        }
    }
    // nine answers, nine burst flags once the job has spread them: each earlier one gained the
    // reason once, however many later answers named it
    app.spread_flags();
    let flags: i64 = integrity_flags::table
        .filter(integrity_flags::reason.eq("burst"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(flags, 9);
    for t in &tokens {
        assert_eq!(reasons_of(&app, t), ["burst"]);
        assert_eq!(stored_count(&app, t), 1);
    }
    let g = today_stats(&app, &key, "").await;
    assert_eq!((all_group(&g)["responses"].clone(), all_group(&g)["flagged"].clone()), (json!(0), json!(9)));
    let r = app.get(&format!("/api/v1/integrity/flagged?from={0}&to={0}", today())).with_key(&key).await;
    assert_eq!(r.json()["officers"][0]["reasons"]["burst"].as_array().unwrap().len(), 9);
}

#[actix_web::test]
async fn a_sustained_burst_queues_only_the_answers_that_did_not_flag_themselves() {
    let app = integrity_app(|_| {}).await;
    let tokens: Vec<String> = (0..10).map(|_| invite(&app, SEED.officers[0], 20).token).collect();
    let queue = || -> Vec<usize> {
        let rows: Vec<Vec<Option<i64>>> = integrity_spread::table
            .order(integrity_spread::id)
            .select(integrity_spread::response_ids)
            .load(&mut app.conn())
            .unwrap();
        rows.iter().map(Vec::len).collect()
    };
    for (i, t) in tokens[..9].iter().enumerate() {
        let ip = format!("198.51.100.{}", 120 + i);
        let r = answer_from(&app, t, &ip, &format!("{PHONE} #{i}"), json!({"CASE.OVERALL": 5})).await;
        assert_eq!(r.status, 201);
    }
    // the fifth names the four before it, which flagged nothing themselves; each later one names
    // only those of its four predecessors that did not complete a burst, so from the ninth on a
    // burst costs the job nothing
    assert_eq!(queue(), [4, 3, 2, 1]);
    app.spread_flags();
    assert!(tokens[..9].iter().all(|t| reasons_of(&app, t) == ["burst"]));
    // an answer whose check ran before its predecessors had committed saw no burst: no flag, no
    // mark. The next answer queues it, whatever the timestamps say.
    let missed: i64 = response_id(&app, &tokens[8]);
    diesel::delete(integrity_flags::table.filter(integrity_flags::response_id.eq(missed)))
        .execute(&mut app.conn())
        .unwrap();
    diesel::update(responses::table.find(missed))
        .set((responses::completed_burst.eq(false), responses::held.eq(false)))
        .execute(&mut app.conn())
        .unwrap();
    let r = answer_from(&app, &tokens[9], "198.51.100.140", PHONE, json!({"CASE.OVERALL": 5})).await;
    assert_eq!(r.status, 201);
    let named: Vec<Vec<Option<i64>>> =
        integrity_spread::table.select(integrity_spread::response_ids).load(&mut app.conn()).unwrap();
    assert_eq!(named, [vec![Some(missed)]]);
    assert_eq!(reasons_of(&app, &tokens[8]), ["burst"]);
}

#[actix_web::test]
async fn residents_behind_one_carrier_address_with_one_reduced_chrome_are_different_devices() {
    let app = integrity_app(|_| {}).await;
    // ten residents on one carrier-NAT address, every phone sending the same reduced agent: each
    // browser got its own device cookie when its survey page was shown
    const CARRIER: &str = "203.0.113.77";
    for i in 0..10 {
        let t = invite(&app, SEED.officers[i % 2], 30).token;
        let cookie = open_page(&app, &t, CARRIER, REDUCED_CHROME, None).await;
        assert!(cookie.is_some(), "the page sets a device cookie");
        read_for(&app, &t, 20);
        assert_eq!(tap(&app, &t, CARRIER, REDUCED_CHROME, cookie, "4").await, 303);
        assert!(reasons_of(&app, &t).is_empty(), "resident {i} is a device of their own");
    }
    // a browser that keeps nothing: the address and this agent identify no phone, so it is not
    // judged a device at all
    for _ in 0..5 {
        let t = invite(&app, SEED.officers[0], 30).token;
        assert_eq!(
            answer_from(&app, &t, CARRIER, REDUCED_CHROME, json!({"CASE.OVERALL": 4})).await.status,
            201
        );
        assert!(reasons_of(&app, &t).is_empty());
    }
    // one phone (one cookie) answering a fourth invitation in a day is one device, wherever it is
    let first = invite(&app, SEED.officers[1], 30).token;
    let phone = open_page(&app, &first, CARRIER, REDUCED_CHROME, None).await;
    read_for(&app, &first, 20);
    assert_eq!(tap(&app, &first, CARRIER, REDUCED_CHROME, phone.clone(), "5").await, 303);
    let mut more = Vec::new();
    for i in 0..3 {
        let t = invite(&app, SEED.officers[1], 30).token;
        let ip = format!("100.64.0.{}", 10 + i); // the carrier hands it another address
        let kept = open_page(&app, &t, &ip, REDUCED_CHROME, phone.clone()).await;
        assert_eq!(
            kept.as_ref().map(|c| c.value().to_string()),
            phone.as_ref().map(|c| c.value().to_string())
        );
        read_for(&app, &t, 20);
        assert_eq!(tap(&app, &t, &ip, REDUCED_CHROME, kept, "5").await, 303);
        more.push(t);
    }
    for t in std::iter::once(&first).chain(&more) {
        assert_eq!(reasons_of(&app, t), ["same_device"], "flagged, and kept");
        assert_eq!(stored_count(&app, t), 1);
    }
}

#[actix_web::test]
async fn a_resident_who_scans_the_desk_screen_at_once_is_judged_from_the_page_not_the_issue() {
    let app = integrity_app(|_| {}).await;
    let inv = invite(&app, SEED.officers[0], 0);
    // scanned at once: the page is shown a second after issue
    let cookie = open_page(&app, &inv.token, "198.51.100.200", REDUCED_CHROME, None).await;
    let set_times = |issued: i64, shown: i64| {
        let now = Utc::now();
        diesel::update(invitations::table.find(inv.id))
            .set(invitations::issued_at.eq(now - Duration::seconds(issued)))
            .execute(&mut app.conn())
            .unwrap();
        diesel::sql_query(format!(
            "UPDATE survey_views SET first_shown_at = now() - interval '{shown} seconds' WHERE invitation_id = {}",
            inv.id
        ))
        .execute(&mut app.conn())
        .unwrap();
    };
    // read for three seconds and tapped: four seconds after issue, not too fast
    set_times(4, 3);
    assert_eq!(tap(&app, &inv.token, "198.51.100.200", REDUCED_CHROME, cookie, "5").await, 303);
    assert!(reasons_of(&app, &inv.token).is_empty());

    // a tap within a second of the page appearing is faster than anyone reads
    let quick = invite(&app, SEED.officers[0], 10);
    let cookie = open_page(&app, &quick.token, "198.51.100.201", REDUCED_CHROME, None).await;
    assert_eq!(tap(&app, &quick.token, "198.51.100.201", REDUCED_CHROME, cookie, "5").await, 303);
    assert_eq!(reasons_of(&app, &quick.token), ["too_fast"], "issued ten minutes ago, yet too fast");
    // without the page (the JSON API), speed is judged from the issue
    let api = invite(&app, SEED.officers[1], 0).token;
    assert_eq!(
        answer_from(&app, &api, "198.51.100.202", PHONE, json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert_eq!(reasons_of(&app, &api), ["too_fast"]);
}

#[actix_web::test]
async fn the_guest_wifi_is_not_suspicious_and_its_address_is_no_device() {
    let app = integrity_app(|c| c.integrity.guest_networks = parse_list("10.20.0.0/16").unwrap()).await;
    // five residents on the guest Wi-Fi with the same phone model, browsers that keep nothing
    for _ in 0..5 {
        let t = invite(&app, SEED.officers[0], 30).token;
        assert_eq!(answer_from(&app, &t, "10.20.1.1", PHONE, json!({"CASE.OVERALL": 4})).await.status, 201);
        assert!(reasons_of(&app, &t).is_empty());
    }
    // the staff's own network stays suspicious
    let desk = invite(&app, SEED.officers[0], 30).token;
    assert_eq!(
        answer_from(&app, &desk, "192.0.2.10", "Desk PC", json!({"CASE.OVERALL": 4})).await.status,
        201
    );
    assert_eq!(reasons_of(&app, &desk), ["desk_network"]);
}

#[actix_web::test]
async fn the_demo_leaves_the_simulated_weeks_of_its_commune_to_the_simulation() {
    use sipas::demo::staged;
    let app = TestApp::new().await;
    let config = Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    sipas::cli::demo::run(&config, 6000, 2026).unwrap();
    let mut conn = app.conn();
    let last = staged::last_working_day(sipas::kernel::time::local_day(Utc::now()));
    let from = staged::first_day(last);
    let first = sipas::kernel::time::midnight(from);
    let generated = |unit: &str, conn: &mut PgConnection| -> i64 {
        invitations::table
            .filter(invitations::issued_by.eq("demo"))
            .filter(invitations::unit_code.eq(unit.to_string()))
            .filter(invitations::issued_at.ge(first))
            .count()
            .get_result(conn)
            .unwrap()
    };
    // the simulated commune's four weeks are the simulation's alone; the other commune keeps its
    // share of the generated traffic, and the total is still the N asked for
    assert_eq!(generated("CHIEMHOA", &mut conn), 0);
    assert!(generated("KIMBINH", &mut conn) > 0);
    let total: i64 = responses::table.count().get_result(&mut conn).unwrap();
    assert_eq!(total, 6000);
    // the generated history marks its top scores as the submission core does, so the burst
    // rule's partial index sees them
    #[derive(diesel::QueryableByName)]
    struct Marks {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        top: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        wrong: i64,
    }
    let marks: Marks = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE r.top_score) AS top, \
                count(*) FILTER (WHERE r.top_score IS DISTINCT FROM coalesce(a.level = 5, false)) AS wrong \
         FROM responses r LEFT JOIN answers a ON a.response_id = r.id AND a.item_code = 'CASE.OVERALL'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert!(marks.top > 1000, "{} top scores of 6000", marks.top);
    assert_eq!(marks.wrong, 0);
    // so over those weeks the officer without a pattern is an ordinary officer of the unit again
    // (against the province, here the other demo commune's generated answers, the simulation's
    // 70% top scores stand out: the two generators are not calibrated to each other)
    let evidence = sipas::integrity::store::evidence(&mut conn, "CHIEMHOA", from, last, 5).unwrap();
    let ch01 = evidence.officers.iter().find(|o| o.officer_code == "CH01").unwrap();
    let unit = ch01.comparisons.iter().filter(|c| c.against == sipas::integrity::evidence::Against::Unit);
    assert!(unit.clone().count() >= 5 && unit.clone().all(|c| !c.unusual), "{:?}", ch01.comparisons);
}
