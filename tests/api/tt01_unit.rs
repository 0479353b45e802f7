//! Issue 16: the unit's TT01 indicators 5, 6 and 9 (recorded per period with an evidence note,
//! through the API or the leader's page) and evaluation coverage (evaluations ÷ cases handled),
//! seen the same in the API, the dashboard, the three exports and the printed report.

use chrono::{Datelike, Duration};
use serde_json::{Value, json};
use sipas::auth::Scope;

use crate::fixtures::{answer, count, issue, local, stats};
use crate::harness::{SEED, TestApp};
use crate::reporting::{csv_rows, xlsx_rows};

fn all(body: &Value) -> &Value {
    body["groups"].as_array().and_then(|g| g.first()).unwrap_or_else(|| panic!("no group in {body}"))
}

fn group<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"] == key))
        .unwrap_or_else(|| panic!("no group {key} in {body}"))
}

/// Today's quarter as (key, from, to) in local dates.
fn this_quarter() -> (String, String, String) {
    let today = sipas::kernel::time::today();
    let q = (today.month() - 1) / 3 + 1;
    let key = format!("{}-Q{q}", today.year());
    let (from, to) = sipas::stats::model::report_period_range(&key).unwrap();
    (key, from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string())
}

async fn export(app: &TestApp, key: &str, period: &str, format: &str) -> Vec<u8> {
    let r = app.get(&format!("/api/v1/exports/province?period={period}&format={format}")).with_key(key).await;
    assert_eq!(r.status, 200, "{period} {format}: {}", r.body);
    r.bytes
}

async fn report(app: &TestApp, key: &str, period: &str) -> String {
    let r = app.get(&format!("/reports/periodic?period={period}")).with_key(key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn record(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let r = app.post_json("/api/v1/tt01/unit-indicators", &body).with_key(key).await;
    (r.status, r.json())
}

#[actix_web::test]
async fn a_unit_with_all_nine_indicators_scored_gets_its_band_and_with_fewer_the_n_of_9_wording() {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.integrity.min_seconds_to_answer = 0;
    })
    .await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let today = sipas::kernel::time::today();
    let day = today.format("%Y-%m-%d").to_string();
    let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d").to_string();
    // one case with facts: returned before its due day (indicator 1: 2), its one step done before
    // its due day (indicator 2: 2); its resident answers 3, 4 and 7 with 2 points each
    let invitation = json!({
        "procedure_code": SEED.procedures[0], "officer_code": SEED.officers[0], "unit_code": SEED.unit,
        "case_number": "U-1", "due_at": tomorrow, "returned_at": day,
        "steps": [{"unit": "Công chức Tư pháp - Hộ tịch", "due_at": tomorrow, "done_at": day}],
    });
    let r = app.post_json("/api/v1/invitations", &invitation).with_key(&key).await;
    assert_eq!(r.status, 201, "{}", r.json());
    let token = r.json()["token"].as_str().unwrap_or_default().to_string();
    let answers = json!({"CASE.OVERALL": 5, "TT01.I1": 1, "TT01.I3": 1, "TT01.I4": 1, "TT01.I7": 1});
    let r = app.post_json(&format!("/api/v1/responses/{token}"), &json!({ "answers": answers })).await;
    assert_eq!(r.status, 201, "{}", r.json());

    let (quarter, from, to) = this_quarter();
    let q = format!("from={from}&to={to}");
    // six of nine (1, 2, 3, 4, 7 and 8 from the follow-ups): no band, the "n of 9" wording
    let body = stats(&app, &key, &q).await;
    let t = &all(&body)["tt01"];
    assert_eq!(t["scored"].as_array().map(Vec::len), Some(6), "{t}");
    assert_eq!(t["band"], Value::Null);
    assert_eq!(t["summary"]["vi"], "12,0 điểm trên 6/9 chỉ tiêu (tối đa 12)");
    let doc: Value = serde_json::from_slice(&export(&app, &key, &quarter, "json").await).unwrap();
    let u = &doc["content"]["unit_figures"]["tt01"];
    assert_eq!((u["band"].clone(), u["summary"]["vi"].clone()), (Value::Null, t["summary"]["vi"].clone()));
    assert!(report(&app, &key, &quarter).await.contains("12,0 điểm trên 6/9 chỉ tiêu (tối đa 12)"));
    let dash = app.get(&format!("/dashboard?period={quarter}")).as_staff(&leader).await;
    assert!(dash.body.contains("12,0 điểm trên 6/9 chỉ tiêu"), "{}", dash.body);
    assert!(dash.body.contains(r#"href="/tt01/unit-indicators"#), "the dashboard links the page");

    // bad records are refused with 422 naming the field, another unit with 403; nothing stored
    let ok = json!({"indicator": 5, "period": quarter, "points": 2, "note": "Biên bản kiểm tra Bộ phận Một cửa số 12"});
    for (field, value, code) in [
        ("indicator", json!(7), "invalid_indicator"),
        ("points", json!(3), "invalid_points"),
        ("period", json!("2026-01"), "invalid_period"),
        ("note", json!("   "), "invalid_note"),
    ] {
        let mut bad = ok.clone();
        bad[field] = value;
        let (status, e) = record(&app, &key, bad).await;
        assert_eq!((status, e["error"].as_str()), (422, Some(code)), "{field}: {e}");
        assert!(e["message"].as_str().unwrap_or_default().contains(&format!("`{field}`")), "{e}");
    }
    let mut theirs = ok.clone();
    theirs["unit"] = SEED.other_unit.into();
    let (status, e) = record(&app, &key, theirs).await;
    assert_eq!((status, e["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM unit_indicator_scores"), 0);

    // the one-stop system records 5 and 6 through the API; a second record of 6 supersedes the first
    for (indicator, points) in [(5, 2), (6, 1), (6, 2)] {
        let mut b = ok.clone();
        b["indicator"] = indicator.into();
        b["points"] = points.into();
        let (status, stored) = record(&app, &key, b).await;
        assert_eq!(status, 201, "{stored}");
        assert_eq!(
            (stored["code"].clone(), stored["source"].clone()),
            (json!(format!("TT01.I{indicator}")), json!("unit"))
        );
    }
    // eight of nine: still no band
    let t = all(&stats(&app, &key, &q).await)["tt01"].clone();
    assert_eq!(
        (t["band"].clone(), t["summary"]["vi"].clone()),
        (Value::Null, json!("16,0 điểm trên 8/9 chỉ tiêu (tối đa 16)"))
    );
    assert_eq!(
        t["indicators"]["TT01.I6"],
        json!({"score": 2.0, "source": "unit", "from_facts": 0, "from_resident": 0, "resident_view": null})
    );

    // the leader records 9 on their page, with the note; a page post without the note is refused in Vietnamese
    let page = app.get("/tt01/unit-indicators").as_staff(&leader).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = crate::fixtures::csrf_of(&page.body);
    let no_note = [
        ("csrf", csrf.as_str()),
        ("indicator", "9"),
        ("period", quarter.as_str()),
        ("points", "1"),
        ("note", ""),
    ];
    let r = app.post_form("/tt01/unit-indicators", &no_note).as_staff(&leader).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ghi chú minh chứng là bắt buộc"), "{}", r.body);
    let form = [
        ("csrf", csrf.as_str()),
        ("indicator", "9"),
        ("period", quarter.as_str()),
        ("points", "1"),
        ("note", "Tỉ lệ hồ sơ trực tuyến toàn trình 45% (báo cáo của Cổng dịch vụ công)"),
    ];
    let r = app.post_form("/tt01/unit-indicators", &form).as_staff(&leader).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = app.get("/tt01/unit-indicators").as_staff(&leader).await;
    assert!(page.body.contains("Tỉ lệ hồ sơ trực tuyến toàn trình 45%"), "{}", page.body);
    assert!(page.body.contains("Đã thay"), "the superseded record of 6 is kept and shown");
    let listed = app.get(&format!("/api/v1/tt01/unit-indicators?period={quarter}")).with_key(&key).await;
    assert_eq!(listed.json()["scores"].as_array().map(Vec::len), Some(3), "{}", listed.body);
    assert_eq!(
        count(
            &mut app.conn(),
            "SELECT count(*) AS n FROM audit_log WHERE action = 'tt01.unit_indicator.record'"
        ),
        4
    );

    // all nine: 2 + 2 + 2 + 2 + 2 (5) + 2 (6) + 2 (7) + 2 (8) + 1 (9) = 17 → "Xuất sắc", everywhere
    let body = stats(&app, &key, &q).await;
    let t = &all(&body)["tt01"];
    assert_eq!((t["total"].clone(), t["scored"].as_array().map(Vec::len)), (json!(17.0), Some(9)), "{t}");
    assert_eq!(t["band"], json!({"vi": "Xuất sắc", "en": "Excellent"}));
    assert_eq!(t["summary"], Value::Null);
    assert_eq!(t["indicators"]["TT01.I9"]["source"], "unit");
    let dash = app.get(&format!("/dashboard?period={quarter}")).as_staff(&leader).await;
    assert!(dash.body.contains(r#"id="tt01-band">Xuất sắc<"#), "{}", dash.body);
    let doc: Value = serde_json::from_slice(&export(&app, &key, &quarter, "json").await).unwrap();
    let u = &doc["content"]["unit_figures"]["tt01"];
    assert_eq!(u["band"], json!({"vi": "Xuất sắc", "en": "Excellent"}));
    assert_eq!(
        (u["indicators"]["TT01.I5"].clone(), u["sources"]["TT01.I9"].clone()),
        (json!(2.0), json!("unit"))
    );
    let rows = csv_rows(&export(&app, &key, &quarter, "csv").await);
    let total = rows.iter().find(|r| r[2] == "unit" && r[5] == "tt01_total").unwrap();
    assert_eq!((total[8].as_str(), total[12].as_str()), ("17", "Xuất sắc"));
    assert!(rows.iter().any(|r| r[2] == "unit" && r[5] == "tt01" && r[6] == "TT01.I9" && r[8] == "1"));
    let summary = xlsx_rows(&export(&app, &key, &quarter, "xlsx").await, 1);
    assert!(summary.iter().any(|r| r.len() > 1 && r[0] == "Xếp loại" && r[1] == "Xuất sắc"), "{summary:?}");
    assert!(
        summary.iter().any(|r| r[0].starts_with("TT01.I5.") && r[0].contains("unit") && r[1] == "2"),
        "{summary:?}"
    );
    let html = report(&app, &key, &quarter).await;
    assert!(html.contains("xếp loại Xuất sắc"), "{html}");
    assert!(html.contains("Lãnh đạo ghi nhận"), "the report lists the unit's indicators with their source");

    // a quarter's record is not spread over the year: the year has no 5, 6, 9 of its own
    let year = today.year().to_string();
    let t = all(&stats(&app, &key, &format!("from={year}-01-01&to={year}-12-31")).await)["tt01"].clone();
    assert_eq!((t["band"].clone(), t["TT01.I5"].clone()), (Value::Null, Value::Null));
    assert_eq!(t["summary"]["vi"], "12,0 điểm trên 6/9 chỉ tiêu (tối đa 12)");
    assert!(report(&app, &key, &year).await.contains("12,0 điểm trên 6/9 chỉ tiêu"));
}

#[actix_web::test]
async fn coverage_is_evaluations_over_cases_reported_per_officer_and_unit_and_not_reported_is_not_zero() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    // Q1 2026: CB01 hands back 10 cases (reported in two days) and 4 are evaluated; CB02's single
    // evaluation has no caseload reported
    for (officer, n) in [(SEED.officers[0], 4), (SEED.officers[1], 1)] {
        for i in 0..n {
            let at = local(2026, 2, 2 + i, 9, 0);
            let inv = issue(&app, officer, SEED.procedures[0], "desk", at).id;
            answer(&app, inv, at + Duration::minutes(5), &[("CASE.OVERALL", json!(5))]);
        }
    }
    let days = json!({"days": [
        {"officer_code": SEED.officers[0], "date": "2026-01-15", "cases": 6},
        {"officer_code": SEED.officers[0], "date": "2026-03-02", "cases": 4},
    ]});
    let r = app.post_json("/api/v1/cases/daily", &days).with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let q = "from=2026-01-01&to=2026-03-31";
    let by_officer = stats(&app, &key, &format!("{q}&group_by=officer")).await;
    assert_eq!(
        group(&by_officer, SEED.officers[0])["coverage"],
        json!({"evaluations": 4, "cases": 10, "share": 40.0})
    );
    assert_eq!(
        group(&by_officer, SEED.officers[1])["coverage"],
        json!({"evaluations": 1, "cases": null, "share": null})
    );
    // the unit: its 5 evaluations over the 10 cases reported
    let unit = stats(&app, &key, q).await;
    assert_eq!(all(&unit)["coverage"], json!({"evaluations": 5, "cases": 10, "share": 50.0}));
    // per period, and not for a breakdown the caseload does not record
    let by_month = stats(&app, &key, &format!("{q}&group_by=month")).await;
    assert_eq!(
        group(&by_month, "2026-02")["coverage"],
        json!({"evaluations": 5, "cases": null, "share": null})
    );
    assert_eq!(group(&by_month, "2026-03")["coverage"], json!({"evaluations": 0, "cases": 4, "share": 0.0}));
    let by_procedure = stats(&app, &key, &format!("{q}&group_by=procedure")).await;
    assert_eq!(group(&by_procedure, SEED.procedures[0]).get("coverage"), None);
    // a unit with no caseload reported at all: not reported, never 0 %
    let theirs = app.api_key(SEED.other_unit);
    let at = local(2026, 2, 3, 9, 0);
    let inv = issue(&app, SEED.other_officer, SEED.procedures[0], "desk", at).id;
    answer(&app, inv, at + Duration::minutes(5), &[("CASE.OVERALL", json!(4))]);
    let other = stats(&app, &theirs, q).await;
    assert_eq!(all(&other)["coverage"], json!({"evaluations": 1, "cases": null, "share": null}));

    // the dashboard beside the scores
    let dash = app.get("/dashboard?period=2026-Q1").as_staff(&leader).await;
    assert!(dash.body.contains(r#"id="tt01-coverage">50,00% (5/10)<"#), "{}", dash.body);
    assert!(dash.body.contains("40,00% (4/10)"), "{}", dash.body);
    assert!(dash.body.contains("chưa báo cáo số hồ sơ (not reported)"), "{}", dash.body);
    // the exports
    let doc: Value = serde_json::from_slice(&export(&app, &key, "2026-Q1", "json").await).unwrap();
    let c = &doc["content"];
    assert_eq!(c["unit_figures"]["coverage"], json!({"evaluations": 5, "cases": 10, "share": 50.0}));
    let officer = |code: &str| {
        c["officers"].as_array().unwrap().iter().find(|o| o["key"] == code).unwrap()["coverage"].clone()
    };
    assert_eq!(officer(SEED.officers[0]), json!({"evaluations": 4, "cases": 10, "share": 40.0}));
    assert_eq!(officer(SEED.officers[1]), json!({"evaluations": 1, "cases": null, "share": null}));
    let rows = csv_rows(&export(&app, &key, "2026-Q1", "csv").await);
    let row =
        |gkey: &str, measure: &str| rows.iter().find(|r| r[3] == gkey && r[5] == measure).unwrap().clone();
    assert_eq!(row(SEED.officers[0], "coverage_share")[8], "40");
    assert_eq!(row(SEED.officers[0], "coverage_cases")[8], "10");
    let not_reported = row(SEED.officers[1], "coverage_share");
    assert_eq!(
        (not_reported[8].as_str(), not_reported[12].as_str()),
        ("", "chưa báo cáo số hồ sơ (not reported)")
    );
    let summary = xlsx_rows(&export(&app, &key, "2026-Q1", "xlsx").await, 1);
    assert!(summary.iter().any(|r| r.len() > 1 && r[1] == "50,00% (5/10)"), "{summary:?}");
    // the printed report
    let html = report(&app, &key, "2026-Q1").await;
    assert!(html.contains("50,00% (5/10)") && html.contains("40,00% (4/10)"), "{html}");
    assert!(html.contains("chưa báo cáo số hồ sơ (not reported)"), "{html}");
    assert!(!html.contains("0,00% (1/"), "not reported is not 0 %");
}
