//! First steps: the Vietnamese home page at `/`, the guidance on an empty dashboard — on real
//! PostgreSQL, then by clicking in Chromium (`tests/browser/home.mjs`).

use serde_json::json;
use sipas::auth::Scope;

use crate::fixtures::{PASSWORD, answer, issue, people};
use crate::harness::{SEED, TestApp};
use crate::staff_browser::run_script;

#[actix_web::test]
async fn the_home_page_sends_residents_to_the_code_form_and_staff_to_sign_in_in_vietnamese() {
    let app = TestApp::new().await;
    let r = app.get("/").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/html"), "{}", r.header("content-type"));
    assert!(r.body.contains(r#"<html lang="vi">"#));
    assert!(r.body.contains(r#"href="/c""#) && r.body.contains(r#"href="/login""#), "{}", r.body);
    assert!(r.body.contains("Khảo sát sự hài lòng"));
    assert!(!r.body.contains("\"error\""), "the home page is not an error");
    app.seed();
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let r = app.get("/").as_staff(&leader).await;
    assert!(r.body.contains(r#"href="/dashboard""#) && r.body.contains("chu-tich"), "{}", r.body);
}

#[actix_web::test]
async fn an_empty_dashboard_says_what_to_do_next_and_the_guide_goes_once_a_survey_is_issued() {
    let app = TestApp::new().await;
    let (admin, _) = app.session("quan-tri", &Scope::Admin { unit: None });
    let r = app.get("/dashboard").as_staff(&admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"id="first-run""#), "{}", r.body);
    assert!(r.body.contains(r#"href="/admin/masterdata""#), "an admin is sent to the master data first");
    app.seed();
    let r = app.get("/dashboard").as_staff(&admin).await;
    assert!(r.body.contains("✓ Đã có danh mục cán bộ và thủ tục."), "{}", r.body);
    let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", chrono::Utc::now());
    answer(&app, inv.id, chrono::Utc::now(), &[("CASE.OVERALL", json!(5))]);
    let r = app.get("/dashboard").as_staff(&admin).await;
    assert!(!r.body.contains(r#"id="first-run""#), "the guide stays after the first answer");
}

#[actix_web::test]
async fn in_chromium_a_resident_and_a_leader_find_their_way_from_the_home_page() {
    let app = TestApp::new().await;
    people(&app);
    let base = app.spawn_server();
    run_script("home.mjs", &[&base, "leader", PASSWORD]).await;
}

#[actix_web::test]
async fn the_demo_fills_every_page_and_prints_accounts_that_sign_in() {
    use crate::fixtures::{count, post_login};
    let app = TestApp::new().await;
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    let out = sipas::cli::demo::run(&config, 600, 11).unwrap();
    let mut conn = app.conn();
    assert!(count(&mut conn, "SELECT count(*) AS n FROM cases_daily") > 100, "{out}");
    assert!(count(&mut conn, "SELECT count(*) AS n FROM followups") >= 1, "{out}");
    // the printed accounts sign in with the printed passwords
    let password_of = |user: &str| {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(user))
            .unwrap_or_else(|| panic!("{user} not in {out}"));
        line.split_whitespace().last().unwrap_or_default().to_string()
    };
    for user in ["demo-quantri", "demo-lanhdao", "demo-canbo", "demo-tinh"] {
        let r = post_login(&app, user, &password_of(user), "10.9.8.7:4000").await;
        assert_eq!(r.status, 303, "{user} cannot sign in: {}", r.body);
    }
    // offer rates show on the integrity page, follow-ups and the public page have content
    let (leader, _) = app.session("xem-thu", &Scope::Leader { unit: "CHIEMHOA".into() });
    let integrity = app.get("/integrity").as_staff(&leader).await;
    assert_eq!(integrity.status, 200, "{}", integrity.body);
    let row = integrity.body.split("<th scope=\"row\">CH01 · ").nth(1).unwrap_or_default();
    let cells: Vec<&str> =
        row.split("<td>").skip(1).take(3).map(|c| c.split("</td>").next().unwrap_or("")).collect();
    assert!(
        cells.len() == 3 && cells[0] != "—" && cells[2] != "—" && cells[2].ends_with('%'),
        "offer rate of CH01: {cells:?}"
    );
    let followups = app.get("/followups").as_staff(&leader).await;
    assert!(followups.body.contains("class=\"followup"), "{}", followups.body);
    assert_eq!(app.get("/public/CHIEMHOA").await.status, 200);
    // a second run leaves the accounts as they were
    let again = sipas::cli::demo::run(&config, 100, 12).unwrap();
    assert!(again.contains("already there"), "{again}");
}
