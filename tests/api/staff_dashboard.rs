//! The dashboards with real numbers: invitations and responses written the way the issuing and
//! survey capabilities write them (rows and roll-ups in one transaction), read back through the
//! pages and the API by a leader and an officer.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::schema::case_links;

use crate::fixtures::{PASSWORD, answer, count, issue, local, people, sign_in};
use crate::harness::{Reply, SEED, TestApp};

/// Issues an invitation (with a case number) and, when `items` is not empty, answers it at the
/// same time + 1 hour. Returns the invitation's token.
pub fn case(
    app: &TestApp,
    officer: &str,
    procedure: &str,
    at: DateTime<Utc>,
    items: &[(&str, Value)],
) -> String {
    let inv = issue(app, officer, procedure, "desk", at);
    let unit = if officer == SEED.other_officer { SEED.other_unit } else { SEED.unit };
    diesel::insert_into(case_links::table)
        .values((
            case_links::invitation_id.eq(inv.id),
            case_links::unit_code.eq(unit),
            case_links::case_number.eq(format!("HS-SECRET-{}", inv.id)),
        ))
        .execute(&mut app.conn())
        .unwrap();
    if !items.is_empty() {
        answer(app, inv.id, at + Duration::hours(1), items);
    }
    inv.token
}

/// Quarter 1 of 2026 and the quarter before, with known answers:
/// - CB01 (CHIEMHOA): overall 5,5,4,4,2,5 → 5/6 = 83,33%; E3.1 all 5; TT01.I1 = 1 (early, 2 points)
///   on every case; one comment with markup.
/// - CB02 (CHIEMHOA): overall 4,4,4,3,1 → 3/5 = 60,00%; E3.1 = 2.
/// - 4 more CHIEMHOA invitations without answers: 11 responses of 15 invitations = 73,33%.
/// - CHIEMHOA overall 8/11 = 72,73%.
/// - KB01 (KIMBINH): overall 1 ×5 (0%): never part of CHIEMHOA's figures.
/// - 2025-Q4: CB01 overall 5 ×5 = 100%.
///
/// Returns CB01's tokens.
pub fn quarter_of_answers(app: &TestApp) -> Vec<String> {
    let p = SEED.procedures;
    let mut tokens = Vec::new();
    for (i, level) in [5, 5, 4, 4, 2, 5].into_iter().enumerate() {
        let mut items = vec![("CASE.OVERALL", json!(level)), ("E3.1", json!(5)), ("TT01.I1", json!(1))];
        if i == 0 {
            items.push(("COMMENT", json!("Cán bộ <b>tận tình</b> & chu đáo <script>alert(1)</script>")));
        }
        tokens.push(case(
            app,
            SEED.officers[0],
            p[i % 2],
            local(2026, 1 + (i as u32 % 3), 10 + i as u32, 9, 0),
            &items,
        ));
    }
    for (i, level) in [4, 4, 4, 3, 1].into_iter().enumerate() {
        let items = [("CASE.OVERALL", json!(level)), ("E3.1", json!(2))];
        case(app, SEED.officers[1], p[2 + i % 2], local(2026, 2, 3 + i as u32, 10, 0), &items);
    }
    for i in 0..4 {
        case(app, SEED.officers[1], p[0], local(2026, 3, 20 + i, 8, 0), &[]);
    }
    for i in 0..5 {
        case(app, SEED.other_officer, p[0], local(2026, 2, 10 + i, 9, 0), &[("CASE.OVERALL", json!(1))]);
    }
    for i in 0..5 {
        case(app, SEED.officers[0], p[0], local(2025, 11, 3 + i, 9, 0), &[("CASE.OVERALL", json!(5))]);
    }
    tokens
}

#[actix_web::test]
async fn a_leader_signs_in_through_the_form_and_sees_the_dashboard_with_real_numbers() {
    let app = TestApp::new().await;
    people(&app);
    quarter_of_answers(&app);
    let leader = sign_in(&app, "leader").await;
    let Reply { status, body: html, .. } = app.get("/dashboard?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Quý 1/2026"), "period title");
    assert!(html.contains("72,73%"), "the commune's overall satisfaction: {html}");
    assert!(html.contains("−27,27"), "the change against 2025-Q4 (100%)");
    assert!(html.contains("73,33%"), "the response rate 11/15");
    assert!(html.contains("83,33%") && html.contains("60,00%"), "each officer's rate");
    assert!(html.contains("<svg") && html.contains("line-overall"), "the trend chart");
    assert!(
        !html.contains("KB01") && !html.contains("Ma Thị Hoa"),
        "another unit's officer leaks into the page"
    );
    // the officers' table is sorted lowest rate first
    let table = html.split("id=\"by-officer\"").nth(1).unwrap_or("");
    let (cb02, cb01) = (table.find("CB02").unwrap_or(usize::MAX), table.find("CB01").unwrap_or(usize::MAX));
    assert!(cb02 < cb01, "CB02 (60%) comes before CB01 (83%)");
    // filtering to one officer narrows every figure
    let Reply { status, body: html, .. } =
        app.get("/dashboard?period=2026-Q1&officer=CB02").as_staff(&leader).await;
    assert_eq!(status, 200);
    assert!(html.contains("60,00%") && !html.contains("72,73%"), "{html}");
    // a leader cannot look at another unit
    let status = app.get("/dashboard?period=2026-Q1&unit=KIMBINH").as_staff(&leader).await.status;
    assert_eq!(status, 403);
    let status = app.get("/dashboard/officers/KB01?period=2026-Q1").as_staff(&leader).await.status;
    assert_eq!(status, 403);
    // drill-down to an officer of the unit
    let Reply { status, body: html, .. } =
        app.get("/dashboard/officers/CB01?period=2026-Q1").as_staff(&leader).await;
    assert_eq!(status, 200);
    assert!(html.contains("83,33%") && html.contains("Nguyễn Thị Lan"), "{html}");
}

#[actix_web::test]
async fn an_officer_sees_only_their_own_figures_through_pages_and_api() {
    let app = TestApp::new().await;
    people(&app);
    let tokens = quarter_of_answers(&app);
    let officer = sign_in(&app, "officer1").await;
    let Reply { status, body: html, .. } = app.get("/dashboard?period=2026-Q1").as_staff(&officer).await;
    assert_eq!(status, 200, "{html}");
    // their own overall satisfaction, released in blocks of five answers of closed days (SECURITY.md,
    // finding 2): the block of 8 January – 12 March holds five of their six answers of the quarter
    // (5, 4, 5, 2, 4: four satisfied); the answer of 15 March waits for the next block
    assert!(html.contains("80,00%"), "their own overall satisfaction: {html}");
    assert!(html.contains("id=\"released\"") && html.contains("12/03/2026"), "{html}");
    assert!(!html.contains("72,73%") && !html.contains("60,00%"), "the unit's or a colleague's figures");
    assert!(!html.contains("Hoàng Văn Minh"), "a colleague's name");
    // E3 and TT01 with the officer band: TT01.I1 earns 2 points on every case
    assert!(html.contains("Công chức trực tiếp giải quyết công việc") && html.contains("100,00%"));
    // one of the officer's five indicators scored: no band, the "n of 5" wording
    assert!(html.contains("2,0 điểm trên 1/5 chỉ tiêu (tối đa 2)"), "a total of 2,0 over one indicator");
    assert!(!html.contains("Hoàn thành dưới 70% nhiệm vụ"), "no officer band on one indicator of five");
    assert!(html.contains("Người dân đánh giá"), "the score's source");
    // their comments, escaped, dated by their block only, and nothing that identifies the resident
    assert!(html.contains("Cán bộ &#60;b&#62;tận tình&#60;/b&#62; &#38; chu đáo &#60;script&#62;"), "{html}");
    assert!(!html.contains("<script>alert(1)") && !html.contains("<b>tận tình"));
    assert!(html.contains("đến 12/03/2026") && !html.contains("10/01/2026"), "{html}");
    for token in &tokens {
        assert!(!html.contains(token.as_str()), "a survey token is on the page");
    }
    assert!(!html.contains("HS-SECRET"), "a case number is on the page");
    // other officers' pages and filters are refused
    for uri in
        ["/dashboard/officers/CB02?period=2026-Q1", "/dashboard?period=2026-Q1&officer=CB02", "/admin/users"]
    {
        assert_eq!(app.get(uri).as_staff(&officer).await.status, 403, "{uri}");
    }
    // the API gives the same figures and only theirs
    let Reply { status, body, .. } =
        app.get("/api/v1/stats?from=2026-01-01&to=2026-03-31").as_staff(&officer).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(body["groups"][0]["responses"], 5, "{body}");
    assert_eq!(body["groups"][0]["overall"]["rate"], 80.0);
    assert_eq!(body["released"]["through"], "2026-03-12", "{body}");
    let body =
        app.get("/api/v1/stats?from=2026-01-01&to=2026-03-31&group_by=officer").as_staff(&officer).await.body;
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    let keys: Vec<&str> =
        body["groups"].as_array().map_or(vec![], |g| g.iter().filter_map(|g| g["key"].as_str()).collect());
    assert_eq!(keys, ["CB01"]);
    let Reply { status, body, .. } =
        app.get("/api/v1/stats?from=2026-01-01&to=2026-03-31&officer=CB02").as_staff(&officer).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("60"), "{body}");
}

#[actix_web::test]
async fn bad_dashboard_filters_get_a_clear_400_and_groups_under_min_n_are_shown_as_suppressed() {
    let app = TestApp::new().await;
    people(&app);
    quarter_of_answers(&app);
    let leader = sign_in(&app, "leader").await;
    for uri in [
        "/dashboard?period=2026-Q7",
        "/dashboard?period=custom&from=2026-02-01&to=2026-01-01",
        "/dashboard?channel=fax",
    ] {
        let Reply { status, body, .. } = app.get(uri).as_staff(&leader).await;
        assert_eq!(status, 400, "{uri}: {body}");
    }
    // March 2026 alone: CB01 has 2 responses, CB02 none answered → suppressed
    let Reply { status, body: html, .. } = app.get("/dashboard?period=2026-03").as_staff(&leader).await;
    assert_eq!(status, 200);
    assert!(html.contains("ẩn (n nhỏ)"), "{html}");
    // a custom range works too
    let Reply { status, body: html, .. } =
        app.get("/dashboard?period=custom&from=2026-01-01&to=2026-03-31").as_staff(&leader).await;
    assert_eq!(status, 200);
    assert!(html.contains("72,73%"));
}

/// Answers in the current and the previous local quarter (the browser test's default period and
/// the one it switches to). Returns the previous quarter's label.
fn recent_answers(app: &TestApp) -> String {
    use chrono::Datelike;
    use sipas::dashboard::filters::Period;
    let today = Utc::now().with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap()).date_naive();
    let current = Period::default_for(today);
    let previous = current.previous();
    for (period, levels) in [(current, [5, 4, 4, 5, 2, 5]), (previous, [5, 5, 3, 4, 4, 1])] {
        let start = period.range().0;
        for (i, level) in levels.into_iter().enumerate() {
            let at = local(start.year(), start.month(), start.day(), i as u32, 0);
            let items = [("CASE.OVERALL", json!(level)), ("E3.1", json!(level)), ("E1.1", json!(4))];
            case(app, SEED.officers[i % 2], SEED.procedures[i % 3], at, &items);
        }
    }
    previous.label()
}

#[actix_web::test]
async fn in_chromium_a_leader_signs_in_opens_the_dashboard_changes_a_filter_and_sees_the_chart() {
    use std::path::Path;
    use std::process::Command;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/dashboard.mjs");
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        root.join("tests/browser/node_modules/playwright-core").is_dir(),
        "the browser tests need their node modules: run `npm ci --prefix tests/browser`"
    );
    assert!(
        Path::new(&chromium).exists(),
        "the browser tests need Debian's Chromium at {chromium}: run `apt-get install -y chromium`"
    );
    let app = TestApp::new().await;
    people(&app);
    let previous = recent_answers(&app);
    let base = app.spawn_server();
    let args = [base, "leader".to_string(), PASSWORD.to_string(), previous];
    let output = actix_web::web::block(move || {
        Command::new("node").arg(script).args(args).env("CHROMIUM_PATH", chromium).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "the browser test failed:\n{stdout}\n{stderr}");
    assert!(root.join("artifacts/staff-dashboard-filtered.png").is_file());
    let signed_in =
        count(&mut app.conn(), "SELECT count(*) AS n FROM audit_log WHERE action = 'login.success'");
    assert_eq!(signed_in, 1, "the browser signed in through the form");
}
