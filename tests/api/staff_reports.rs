//! The leader's "Báo cáo & xuất dữ liệu" page: reachable from the menu, with every export (period
//! and format), the periodic report and the public page — on real PostgreSQL, then by clicking
//! in Chromium (`tests/browser/reports.mjs`).

use serde_json::json;
use sipas::auth::Scope;

use crate::fixtures::{PASSWORD, answer, issue, local, people};
use crate::harness::{SEED, TestApp};
use crate::staff_browser::run_script;

/// The last quarter that has ended (the page's default), as key and label.
fn last_quarter() -> (String, String) {
    let today = sipas::kernel::time::today();
    let key = sipas::reporting::pages::default_period(today);
    let p = sipas::reporting::content::Period::parse(&key).unwrap();
    (key, p.label())
}

/// Three answers in the last ended quarter.
fn answers_in(app: &TestApp, key: &str) {
    use chrono::Datelike;
    let p = sipas::reporting::content::Period::parse(key).unwrap();
    for (i, level) in [5, 4, 2].into_iter().enumerate() {
        let at = local(p.from.year(), p.from.month(), p.from.day() + i as u32, 9, 0);
        let inv = issue(app, SEED.officers[i % 2], SEED.procedures[0], "desk", at);
        answer(app, inv.id, at + chrono::Duration::minutes(5), &[("CASE.OVERALL", json!(level))]);
    }
}

#[actix_web::test]
async fn a_leader_reaches_every_export_the_report_and_the_public_page_from_the_menu() {
    let app = TestApp::new().await;
    app.seed();
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let dashboard = app.get("/dashboard").as_staff(&leader).await;
    assert!(dashboard.body.contains(r#"<a href="/reports""#), "no menu entry on the dashboard");
    let r = app.get("/reports").as_staff(&leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let html = &r.body;
    assert!(html.contains("Báo cáo &amp; xuất dữ liệu · UBND xã Chiêm Hóa"), "{html}");
    assert!(
        html.contains(r#"action="/api/v1/exports/province""#)
            && html.contains(r#"action="/reports/periodic""#)
    );
    for format in ["xlsx", "csv", "json"] {
        assert!(html.contains(&format!(r#"<option value="{format}">"#)), "no {format} in {html}");
    }
    let (key, _) = last_quarter();
    assert!(html.contains(&format!(r#"<option value="{key}" selected>"#)), "{key} is not pre-selected");
    assert!(html.contains("(đang diễn ra)"), "the running period is not marked");
    // the public page is linked while the unit publishes it; switched off, the page says how to
    // switch it on
    assert!(html.contains(r#"href="/public/CHIEMHOA""#), "{html}");
    sipas::reporting::public::set_public_page(&mut app.conn(), SEED.unit, false, "test").unwrap();
    let r = app.get("/reports").as_staff(&leader).await;
    assert!(r.body.contains("sipas unit public-page CHIEMHOA on"), "{}", r.body);
    sipas::reporting::public::set_public_page(&mut app.conn(), SEED.unit, true, "test").unwrap();
    let r = app.get("/reports").as_staff(&leader).await;
    assert!(r.body.contains(r#"href="/public/CHIEMHOA""#), "{}", r.body);
    // what the page's forms send is served: the export and the report of that period
    let r = app
        .get(&format!("/api/v1/exports/province?unit=CHIEMHOA&period={key}&format=xlsx"))
        .as_staff(&leader)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(&r.bytes[..2], b"PK");
    let r = app.get(&format!("/reports/periodic?unit=CHIEMHOA&period={key}")).as_staff(&leader).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn the_reports_page_is_for_leaders_and_admins_and_a_leader_stays_on_their_unit() {
    let app = TestApp::new().await;
    app.seed();
    let (officer, _) =
        app.session("lan", &Scope::Officer { unit: SEED.unit.into(), officer: SEED.officers[0].into() });
    let (leader, _) = app.session("chu-tich", &Scope::Leader { unit: SEED.unit.into() });
    let (admin, _) = app.session("quan-tri", &Scope::Admin { unit: None });
    assert_eq!(app.get("/reports").await.status, 303, "anonymous visitors are sent to sign in");
    let r = app.get("/reports").as_staff(&officer).await;
    assert_eq!(r.status, 403);
    assert!(!app.get("/dashboard").as_staff(&officer).await.body.contains(r#"<a href="/reports""#));
    // a leader asking for another unit still gets their own
    let r = app.get("/reports?unit=KIMBINH").as_staff(&leader).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("UBND xã Chiêm Hóa") && !r.body.contains("Kim Bình"), "{}", r.body);
    // an admin chooses the unit
    let r = app.get("/reports?unit=KIMBINH").as_staff(&admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Báo cáo &amp; xuất dữ liệu · UBND xã Kim Bình"), "{}", r.body);
    assert!(r.body.contains(r#"<option value="KIMBINH" selected>"#));
    assert_eq!(app.get("/reports?unit=NOPE").as_staff(&admin).await.status, 404);
    assert_eq!(app.get("/reports?period=2026").as_staff(&leader).await.status, 400);
}

#[actix_web::test]
async fn in_chromium_a_leader_downloads_the_exports_and_opens_the_report_from_the_menu() {
    let app = TestApp::new().await;
    people(&app);
    sipas::reporting::public::set_public_page(&mut app.conn(), SEED.unit, true, "test").unwrap();
    let (key, label) = last_quarter();
    answers_in(&app, &key);
    let base = app.spawn_server();
    run_script("reports.mjs", &[&base, "leader", PASSWORD, &key, &label]).await;
}
