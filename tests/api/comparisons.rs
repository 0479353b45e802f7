//! Comparisons a leader can act on fairly (issue 19): funnel plots, procedure-mix-adjusted officer
//! scores and changes that are real, on answers written the way the survey writes them and read
//! back through the dashboard, the comparison API, the public page and the periodic report.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::schema::officers;

use crate::fixtures::{answer, issue, local, people, sign_in};
use crate::harness::{SEED, TestApp};

/// The SciPy figures committed beside `src/stats/inference.rs` (see the script's header).
fn reference() -> Value {
    serde_json::from_str(include_str!("../../src/stats/inference_reference.json")).unwrap()
}

/// Adds an officer to the seed unit.
fn officer(app: &TestApp, code: &str, name: &str) {
    diesel::insert_into(officers::table)
        .values((officers::code.eq(code), officers::name.eq(name), officers::unit_code.eq(SEED.unit)))
        .execute(&mut app.conn())
        .unwrap();
}

/// `positive` answers at level 5 and `n − positive` at level 2 of `CASE.OVERALL`, for `officer`
/// on `procedure`, on days from `start` on.
fn answers(app: &TestApp, officer: &str, procedure: &str, n: u32, positive: u32, start: DateTime<Utc>) {
    for i in 0..n {
        let at = start + chrono::Duration::minutes(i64::from(i) * 37);
        let inv = issue(app, officer, procedure, "desk", at);
        let level = if i < positive { 5 } else { 2 };
        answer(app, inv.id, at + chrono::Duration::minutes(5), &[("CASE.OVERALL", json!(level))]);
    }
}

/// A decimal with a comma, as the pages write it.
fn vn(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

fn signed(x: f64) -> String {
    if x > 0.0 { format!("+{}", vn(x)) } else { format!("−{}", vn(-x)) }
}

#[actix_web::test]
async fn a_known_outlier_officer_is_outside_the_998_limit_and_a_small_one_inside() {
    let app = TestApp::new().await;
    people(&app);
    officer(&app, "CB03", "Lò Thị Nhỏ");
    officer(&app, "CB04", "Ít Phiếu");
    let p = SEED.procedures[0];
    let q1 = local(2026, 2, 2, 8, 0);
    // CB01 45% of 40, CB02 95% of 60, CB03 50% of 6, CB04 3 answers (under MIN_N = 5)
    answers(&app, "CB01", p, 40, 18, q1);
    answers(&app, "CB02", p, 60, 57, q1);
    answers(&app, "CB03", p, 6, 3, q1);
    answers(&app, "CB04", p, 3, 0, q1);
    let key = app.api_key(SEED.unit);
    let r = app
        .get("/api/v1/stats/comparison?from=2026-01-01&to=2026-03-31&group_by=officer")
        .with_key(&key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    let f = &c["funnel"];
    // the unit: (18 + 57 + 3 + 0) / 109
    assert_eq!(f["target_k"], 78);
    assert_eq!(f["target_n"], 109);
    let point = |code: &str| f["points"].as_array().unwrap().iter().find(|p| p["key"] == code).cloned();
    let cb01 = point("CB01").unwrap();
    assert_eq!(cb01["verdict"], "low", "{cb01}");
    assert!(cb01["rate"].as_f64().unwrap() < cb01["limits998"][0].as_f64().unwrap());
    let cb03 = point("CB03").unwrap();
    assert_eq!(cb03["verdict"], "within", "50% on 6 answers is within chance: {cb03}");
    assert!(cb03["limits998"][0].as_f64().unwrap() < 50.0);
    assert!(point("CB04").is_none(), "under MIN_N nobody is placed");
    assert_eq!(f["too_few"], json!(["CB04"]));
    // an officer may not read the comparison of peers
    let own = sign_in(&app, "officer1").await;
    let r = app.get("/api/v1/stats/comparison?from=2026-01-01&to=2026-03-31").as_staff(&own).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // bad input is a named 400
    let r =
        app.get("/api/v1/stats/comparison?from=2026-01-01&to=2026-03-31&group_by=month").with_key(&key).await;
    assert_eq!((r.status, r.json()["error"].clone()), (400, json!("invalid_group_by")));

    // the dashboard draws it and names the outlier in words, not the small officer
    let leader = sign_in(&app, "leader").await;
    let page = app.get("/dashboard?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(page.status, 200);
    let block = page.body.split("id=\"funnel-officers\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(block.contains("<svg") && block.contains("giới hạn 99,8%"), "{block}");
    let list = block.split("class=\"flagged\"").nth(1).unwrap_or("");
    assert!(list.contains("(CB01): 45,00% trên 40 phiếu — thấp bất thường"), "{list}");
    assert!(!list.contains("CB03") && !list.contains("CB04"), "{list}");
    assert!(block.contains("1 nhóm có dưới 5 phiếu"), "{block}");
    // and the integrity page has its own funnel, of top scores
    let page = app.get("/integrity?from=2026-01-01&to=2026-03-31").as_staff(&leader).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"funnel-top\""), "{}", page.body);
}

#[actix_web::test]
async fn an_all_land_officer_rated_at_the_units_rates_scores_one_though_the_raw_rate_is_lower() {
    let app = TestApp::new().await;
    people(&app);
    // a land procedure (rates 60% in this unit) and birth registration (95%)
    let land = SEED.procedures[2];
    let birth = SEED.procedures[0];
    let q1 = local(2026, 2, 2, 8, 0);
    answers(&app, "CB01", land, 30, 18, q1); // all land, at exactly the unit's land rate
    answers(&app, "CB02", land, 20, 12, q1);
    answers(&app, "CB02", birth, 40, 38, q1);
    let key = app.api_key(SEED.unit);
    let r = app
        .get("/api/v1/stats/comparison?from=2026-01-01&to=2026-03-31&group_by=officer")
        .with_key(&key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    assert_eq!(c["adjusted_label"], "đã điều chỉnh theo cơ cấu thủ tục");
    let adj =
        |code: &str| c["adjusted"].as_array().unwrap().iter().find(|a| a["key"] == code).cloned().unwrap();
    let cb01 = adj("CB01");
    assert_eq!((cb01["observed"].clone(), cb01["expected"].clone()), (json!(18), json!(18.0)), "{cb01}");
    assert_eq!(cb01["ratio"], 1.0);
    let (lo, hi) = (cb01["ci95"][0].as_f64().unwrap(), cb01["ci95"][1].as_f64().unwrap());
    assert!(lo < 1.0 && 1.0 < hi, "{cb01}");
    assert_eq!(cb01["verdict"], "as_expected");
    let cb02 = adj("CB02");
    assert!(cb01["rate"].as_f64().unwrap() < cb02["rate"].as_f64().unwrap(), "60% raw against 83.33%");
    assert_eq!(cb01["rate"], 60.0);

    // the dashboard shows the ratio beside the raw rate, labelled, with the explanation
    let leader = sign_in(&app, "leader").await;
    let page = app.get("/dashboard?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(page.status, 200);
    let table = page.body.split("id=\"by-officer\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(table.contains("O/E đã điều chỉnh theo cơ cấu thủ tục"), "{table}");
    assert!(table.contains("18 / 18,00") && table.contains("1,00 ("), "{table}");
    assert!(page.body.contains("nhân số phiếu của cán bộ ở từng thủ tục"), "the explanation is on the page");
    // and the periodic report, printed, carries it too
    let r = app.get("/reports/periodic?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Hài lòng chung của cán bộ, đã điều chỉnh theo cơ cấu thủ tục"), "{}", r.body);
    assert!(r.body.contains("Biểu đồ phễu: cán bộ"));

    // the officer's own page shows their ratio beside the raw rate
    let page = app.get("/dashboard/officers/CB01?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("O/E đã điều chỉnh theo cơ cấu thủ tục"), "{}", page.body);
    assert!(page.body.contains("1,00 (") && page.body.contains("18 / 18,00"), "{}", page.body);

    // and so does the export, labelled and explained, in every format
    let export = app.get("/api/v1/exports/province?period=2026-Q1&format=json").with_key(&key).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let content = &export.json()["content"];
    assert_eq!(content["adjustment"]["label"], "đã điều chỉnh theo cơ cấu thủ tục");
    assert!(content["adjustment"]["explanation"].as_str().unwrap().contains("O/E"));
    let officer = |code: &str| {
        content["officers"].as_array().unwrap().iter().find(|o| o["key"] == code).cloned().unwrap()
    };
    let a = &officer("CB01")["adjusted"];
    assert_eq!(
        (a["observed"].clone(), a["expected"].clone(), a["ratio"].clone()),
        (json!(18), json!(18.0), json!(1.0))
    );
    assert_eq!((a["ci95"].clone(), a["verdict"].clone()), (cb01["ci95"].clone(), json!("as_expected")));
    assert_eq!(officer("CB01")["overall"]["rate"], 60.0, "the raw rate stays beside it");
    let csv = app.get("/api/v1/exports/province?period=2026-Q1&format=csv").with_key(&key).await;
    assert_eq!(csv.status, 200);
    let rows = crate::reporting::csv_rows(&csv.bytes);
    let ratio = rows.iter().find(|r| r[3] == "CB01" && r[5] == "adjusted_ratio").unwrap();
    assert_eq!((ratio[8].as_str(), ratio[12].as_str()), ("1", "as_expected"), "{ratio:?}");
    assert!(rows.iter().any(|r| r[5] == "adjustment_note" && r[12] == "đã điều chỉnh theo cơ cấu thủ tục"));
    let xlsx = app.get("/api/v1/exports/province?period=2026-Q1&format=xlsx").with_key(&key).await;
    assert_eq!(xlsx.status, 200);
    let sheet = crate::reporting::xlsx_rows(&xlsx.bytes, 5);
    let header = sheet.iter().find(|r| r.first().is_some_and(|c| c == "Mã cán bộ")).unwrap();
    let col = header.iter().position(|h| h == "O/E, đã điều chỉnh theo cơ cấu thủ tục").unwrap();
    let row = sheet.iter().find(|r| r.first().is_some_and(|c| c == "CB01")).unwrap();
    assert_eq!(row[col], "1", "{header:?} {row:?}");
}

/// The seed unit with answers for a whole-commune change from 2025-Q4 to 2026-Q1.
async fn change_app(before: (u32, u32), now: (u32, u32)) -> TestApp {
    let app = TestApp::new().await;
    people(&app);
    answers(&app, "CB01", SEED.procedures[0], before.1, before.0, local(2025, 11, 3, 8, 0));
    answers(&app, "CB01", SEED.procedures[0], now.1, now.0, local(2026, 2, 3, 8, 0));
    app
}

/// The dashboard's overall-satisfaction KPI of 2026-Q1 after [`change_app`].
async fn change_page(before: (u32, u32), now: (u32, u32)) -> String {
    let app = change_app(before, now).await;
    let leader = sign_in(&app, "leader").await;
    let page = app.get("/dashboard?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(page.status, 200);
    page.body
        .split("id=\"kpi-overall\"")
        .nth(1)
        .unwrap()
        .split("id=\"kpi-responses\"")
        .next()
        .unwrap()
        .to_string()
}

/// SciPy's interval of `k1/n1 − k2/n2` from the reference file, in percentage points.
fn scipy_interval(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, f64) {
    let r = reference();
    let case = r["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["k1"] == k1 && c["n1"] == n1 && c["k2"] == k2 && c["n2"] == n2)
        .cloned()
        .unwrap();
    (100.0 * case["ci"][0].as_f64().unwrap(), 100.0 * case["ci"][1].as_f64().unwrap())
}

#[actix_web::test]
async fn a_change_within_noise_is_not_called_a_change_on_the_dashboard() {
    // 42/50 = 84% then 40/50 = 80%: −4 points, an interval across zero
    let kpi = change_page((42, 50), (40, 50)).await;
    let (lo, hi) = scipy_interval(40, 50, 42, 50);
    let expected =
        format!("không khác biệt đáng kể (−4,00 điểm %; KTC 95%: {} đến {})", signed(lo), signed(hi));
    assert!(kpi.contains(&expected), "expected «{expected}» in {kpi}");
    assert!(!kpi.contains("▼"), "no arrow for noise: {kpi}");
}

#[actix_web::test]
async fn a_change_outside_noise_is_called_a_fall_with_its_interval() {
    // 45/50 = 90% then 30/50 = 60%
    let kpi = change_page((45, 50), (30, 50)).await;
    let (lo, hi) = scipy_interval(30, 50, 45, 50);
    assert!(hi < 0.0);
    let expected = format!("giảm 30,00 điểm % (KTC 95%: {} đến {})", signed(lo), signed(hi));
    assert!(kpi.contains(&expected), "expected «{expected}» in {kpi}");
    assert!(kpi.contains("▼"));
}

/// The public page (JSON and HTML) and the periodic report describe the 2025-Q4 → 2026-Q1 change
/// in `words`, with SciPy's interval of the difference.
async fn change_elsewhere(before: (u32, u32), now: (u32, u32), words: &str, significant: bool) {
    let app = change_app(before, now).await;
    let (lo, hi) =
        scipy_interval(u64::from(now.0), u64::from(now.1), u64::from(before.0), u64::from(before.1));
    let public = app.get(&format!("/api/v1/public/{}", SEED.unit)).await;
    assert_eq!(public.status, 200, "{}", public.body);
    let json = public.json();
    let q1 = json["trend"].as_array().unwrap().iter().find(|t| t["period"] == "2026-Q1").cloned().unwrap();
    let change = &q1["overall_change"];
    assert_eq!(change["significant"], significant, "{change}");
    let (a, b) = (change["ci95"][0].as_f64().unwrap(), change["ci95"][1].as_f64().unwrap());
    assert!((a - lo).abs() < 0.006 && (b - hi).abs() < 0.006, "{change} against SciPy {lo}..{hi}");
    let page = app.get(&format!("/public/{}", SEED.unit)).await;
    assert!(page.body.contains(words), "expected «{words}» on the public page: {}", page.body);
    let leader = sign_in(&app, "leader").await;
    let report = app.get("/reports/periodic?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains(words), "expected «{words}» in the report: {}", report.body);
}

#[actix_web::test]
async fn the_public_page_and_the_report_call_a_change_within_noise_not_significant_and_one_outside_a_fall() {
    let (lo, hi) = scipy_interval(40, 50, 42, 50);
    let within =
        format!("không khác biệt đáng kể (−4,00 điểm %; KTC 95%: {} đến {})", signed(lo), signed(hi));
    change_elsewhere((42, 50), (40, 50), &within, false).await;
    let (lo, hi) = scipy_interval(30, 50, 45, 50);
    let fall = format!("giảm 30,00 điểm % (KTC 95%: {} đến {})", signed(lo), signed(hi));
    change_elsewhere((45, 50), (30, 50), &fall, true).await;
}

/// The section of a page from `start` to the end of its funnel block.
fn funnel_section<'a>(page: &'a str, start: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("no {start} in {page}"));
    let rest = &page[from..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[actix_web::test]
async fn on_demo_data_the_funnels_of_officers_and_communes_render_on_the_dashboard_the_printed_report_and_the_ranking()
 {
    use sipas::auth::Scope;
    let app = TestApp::new().await;
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    let out = sipas::cli::demo::run(&config, 6000, 19).unwrap();
    let period = "2026-H1";

    // the dashboard: the officers' funnel, with the demo's worse officer (CH06) named below it
    let (leader, _) = app.session("xem-phieu", &Scope::Leader { unit: "CHIEMHOA".into() });
    let page = app.get(&format!("/dashboard?period={period}")).as_staff(&leader).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let officers = funnel_section(&page.body, r#"id="funnel-officers""#);
    assert!(officers.contains("<svg") && officers.contains("class=\"funnel\""), "{officers}");
    assert!(
        officers.contains("CH06") && officers.contains("thấp"),
        "CH06 is outside the limits: {officers}\n{out}"
    );

    // the periodic report, printed to PDF by Chromium, carries the officers' funnel and its list
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    sipas::cli::reporting::periodic_report(&config, period, Some(&file), Some("CHIEMHOA"), "share45")
        .unwrap();
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains("Biểu đồ phễu: cán bộ") && html.contains("class=\"funnel\""));
    let pdf = crate::harness::print_to_pdf(format!("file://{}", file.display()), "demo-report.pdf").await;
    let text: String = pdf.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Biểu đồ phễu: cán bộ"), "{text}");
    assert!(text.contains("CH06"), "{text}");

    // province mode: both demo communes export, the province imports, the ranking draws the funnel
    let province = app.province_session();
    for unit in ["CHIEMHOA", "KIMBINH"] {
        // the demo makes no export keys: each commune creates one, the province registers it
        app.register_key(&app.export_key(unit, false));
        let key = app.api_key(unit);
        let export =
            app.get(&format!("/api/v1/exports/province?period={period}&format=json")).with_key(&key).await;
        assert_eq!(export.status, 200, "{}", export.body);
        let r = app
            .post("/api/v1/province/exports")
            .payload("application/json", export.bytes)
            .as_staff(&province)
            .await;
        assert_eq!(r.status, 201, "{unit}: {}", r.body);
    }
    let ranking = app.get(&format!("/province/ranking?period={period}")).as_staff(&province).await;
    assert_eq!(ranking.status, 200, "{}", ranking.body);
    let communes = funnel_section(&ranking.body, "Biểu đồ phễu: các xã, phường");
    assert!(communes.contains("<svg") && communes.contains("class=\"funnel\""), "{communes}");
    let json = app.get(&format!("/api/v1/province/ranking?period={period}")).as_staff(&province).await;
    assert_eq!(json.json()["funnel"]["points"].as_array().map(Vec::len), Some(2), "{}", json.body);
}
