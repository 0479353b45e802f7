//! The province staff's own pages (issue 22 item 3): the ranking with its period picker (the
//! latest period with imports by default, a Vietnamese message for a bad one), every commune of
//! the master data listed (those that did not submit as such, without a rank), the response
//! rate, the downloads, the staff layout with its menu and sign-out; and, in Chromium
//! (`tests/browser/province.mjs`), an upload with an XLSX accepted through the page, the ranking
//! chosen by period and downloaded, and a missing commune shown as missing; and the registry of
//! communes' export keys (issue 21 finding 1), registered and revoked on its page.

use diesel::prelude::*;
use serde_json::Value;
use sipas::auth::role::Role;
use sipas::schema::province_exports;

use crate::fixtures::{PASSWORD, account, local, people};
use crate::harness::{SEED, TestApp};
use crate::reporting::{csv_rows, export_json, fill, xlsx_rows};
use crate::staff_browser::run_script;

/// A third commune in the master data, which never submits.
const SILENT: (&str, &str) = ("NAHANG", "UBND xã Na Hang");

fn third_commune(app: &TestApp) {
    use sipas::masterdata::{Kind, parse, store::import};
    let csv = format!("code,name,province_code\n{},{},08\n", SILENT.0, SILENT.1);
    let rows = parse(Kind::Units, csv.as_bytes()).unwrap();
    import(&mut app.conn(), &rows, "test").unwrap();
}

/// Answers in 2025-Q4 and 2026-Q1 for both seeded communes.
fn two_quarters(app: &TestApp) {
    for (from, s) in [(local(2025, 10, 2, 8, 0), 0), (local(2026, 1, 3, 8, 0), 10)] {
        fill(app, &SEED.officers, &SEED.procedures, from, 80, 20, 1, 51 + s);
        fill(app, &[SEED.other_officer], &SEED.procedures, from, 80, 14, 0, 52 + s);
    }
}

async fn export(app: &TestApp, key: &str, period: &str, format: &str) -> Vec<u8> {
    let r = app.get(&format!("/api/v1/exports/province?period={period}&format={format}")).with_key(key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.bytes
}

async fn import(app: &TestApp, session: &str, body: Vec<u8>) {
    let r = app
        .post("/api/v1/province/exports")
        .payload("application/octet-stream", body)
        .as_staff(session)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The `<tr>` of a unit in the ranking table.
fn row<'a>(page: &'a str, unit: &str) -> &'a str {
    let at =
        page.find(&format!("data-unit=\"{unit}\"")).unwrap_or_else(|| panic!("no row of {unit} in {page}"));
    let start = page[..at].rfind("<tr").unwrap();
    &page[start..start + page[start..].find("</tr>").unwrap()]
}

#[actix_web::test]
async fn the_ranking_page_picks_a_period_lists_communes_that_never_submitted_and_speaks_vietnamese() {
    let app = TestApp::new().await;
    app.seed();
    third_commune(&app);
    let province = app.province_session();
    // before any import: every commune listed as not submitted, and the page says what to do
    let r = app.get("/province/ranking").as_staff(&province).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Chưa có bản xuất nào được nhập"), "{}", r.body);
    assert!(row(&r.body, SILENT.0).contains("Chưa nộp"));
    two_quarters(&app);
    let (k1, k2) = (app.api_key(SEED.unit), app.api_key(SEED.other_unit));
    import(&app, &province, export(&app, &k1, "2026-Q1", "xlsx").await).await;
    import(&app, &province, export(&app, &k2, "2026-Q1", "csv").await).await;
    import(&app, &province, export_json(&app, &k1, "2025-Q4").await).await;

    // no period: the latest period with imports, in the staff layout with the province's menu
    let r = app.get("/province/ranking").as_staff(&province).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = &r.body;
    assert!(page.contains("Xếp hạng các xã, phường — Quý 1/2026"), "{page}");
    assert!(page.contains(r#"<option value="2026-Q1" selected>Quý 1/2026 — 2 xã đã nộp</option>"#), "{page}");
    assert!(page.contains("Quý 4/2025 — 1 xã đã nộp"), "{page}");
    assert!(page.contains("Đăng xuất") && page.contains(r#"href="/province/upload""#), "{page}");
    assert!(page.contains("/static/staff.css") && !page.contains(r#"href="/dashboard""#), "{page}");
    assert!(page.contains("2/3 xã, phường đã nộp bản xuất của kỳ; 1 xã chưa nộp"), "{page}");
    assert!(
        page.contains(r#"id="download-csv" href="/api/v1/province/ranking?period=2026-Q1&amp;format=csv""#)
    );
    assert!(
        page.contains(r#"id="download-xlsx" href="/api/v1/province/ranking?period=2026-Q1&amp;format=xlsx""#)
    );
    // the response rate is responses ÷ invitations, from the commune's own export
    let ranking = app.get("/api/v1/province/ranking?period=2026-Q1").as_staff(&province).await.json();
    let communes = ranking["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 3, "{ranking}");
    let first = &communes[0];
    let (responses, invitations) =
        (first["responses"].as_i64().unwrap(), first["invitations"].as_i64().unwrap());
    assert!(invitations >= responses && responses > 0, "{first}");
    let rate = sipas::reporting::report::vn(first["response_rate"].as_f64());
    let unit = first["unit_code"].as_str().unwrap();
    assert!(row(page, unit).contains(&format!("{rate}% ({responses}/{invitations})")), "{}", row(page, unit));
    // the commune that sent nothing: listed last, without figures or rank
    let silent = &communes[2];
    assert_eq!((silent["unit_code"].as_str(), silent["submitted"].as_bool()), (Some(SILENT.0), Some(false)));
    assert!(silent["rank"].is_null() && silent["export_id"].is_null(), "{silent}");
    let tr = row(page, SILENT.0);
    assert!(tr.contains(r#"class="missing""#) && tr.contains("Chưa nộp") && tr.contains(SILENT.1), "{tr}");
    // the downloads say so too
    let csv = app.get("/api/v1/province/ranking?period=2026-Q1&format=csv").as_staff(&province).await;
    let rows = csv_rows(&csv.bytes);
    let status = rows[0].iter().position(|h| h == "Tình trạng").unwrap();
    let silent_row = rows.iter().find(|r| r[1] == SILENT.0).unwrap();
    assert_eq!((silent_row[0].as_str(), silent_row[status].as_str()), ("", "Chưa nộp"));
    // a chosen period: Q4 has one commune's export, the other two are missing
    let r = app.get("/province/ranking?period=2025-Q4").as_staff(&province).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"<option value="2025-Q4" selected>"#));
    assert!(
        row(&r.body, SEED.other_unit).contains("Chưa nộp") && row(&r.body, SILENT.0).contains("Chưa nộp")
    );
    assert!(row(&r.body, SEED.unit).contains("Đã nộp"));
    // a period without exports: all missing, said in words
    let r = app.get("/province/ranking?period=2024").as_staff(&province).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Chưa có xã, phường nào nộp bản xuất của Năm 2024"), "{}", r.body);
    assert!(r.body.contains(r#"<option value="2024" selected>"#), "{}", r.body);
    // a bad period or parameter: the picker and a Vietnamese message, no English error
    for (uri, words) in [
        ("/province/ranking?period=2026-Q7", "«2026-Q7» không phải kỳ báo cáo hợp lệ"),
        ("/province/ranking?period=9999", "«9999» không phải kỳ báo cáo hợp lệ"),
        ("/province/ranking?colour=red", "tham số «colour»"),
    ] {
        let r = app.get(uri).as_staff(&province).await;
        assert_eq!(r.status, 400, "{uri}");
        assert!(r.body.contains(words) && r.body.contains(r#"id="period""#), "{uri}: {}", r.body);
        assert!(!r.body.contains("is required") && !r.body.contains("must be"), "{uri}: {}", r.body);
    }
    // the upload page: the same layout, every format offered, the link to the ranking
    let r = app.get("/province/upload").as_staff(&province).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("Đăng xuất") && r.body.contains(r#"aria-current="page">Nhập bản xuất"#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(r#"accept=".json,.csv,.xlsx"#)
            && r.body.contains(r#"id="to-ranking" href="/province/ranking""#)
    );
    assert!(r.body.contains("<script src=\"/static/upload.js?v=") && !r.body.contains("style="));
    // other roles: a leader is refused, a visitor sent to sign in
    let (leader, _) = app.session("chu-tich", &sipas::auth::Scope::Leader { unit: SEED.unit.into() });
    assert_eq!(app.get("/province/ranking").as_staff(&leader).await.status, 403);
    assert_eq!(app.get("/province/upload").await.status, 303);
}

#[actix_web::test]
async fn in_chromium_province_staff_upload_an_xlsx_pick_a_period_download_the_ranking_and_see_who_is_missing()
{
    let app = TestApp::new().await;
    people(&app);
    account(&app, "tinh", Role::Province, None, None);
    third_commune(&app);
    two_quarters(&app);
    let (k1, k2) = (app.api_key(SEED.unit), app.api_key(SEED.other_unit));
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("chiemhoa-2026-q1.xlsx", export(&app, &k1, "2026-Q1", "xlsx").await),
        ("kimbinh-2026-q1.csv", export(&app, &k2, "2026-Q1", "csv").await),
        ("chiemhoa-2025-q4.json", export_json(&app, &k1, "2025-Q4").await),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in &files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p.display().to_string());
    }
    let downloads = dir.path().join("downloads").display().to_string();
    let base = app.spawn_server();
    let mut args = vec![base.as_str(), "tinh", PASSWORD, downloads.as_str(), "2026-Q1", "2025-Q4"];
    args.extend(paths.iter().map(String::as_str));
    let out = run_script("province.mjs", &args).await;
    let seen: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    // each file imported through the page, the XLSX among them, read as what it is
    let uploaded = seen["uploaded"].as_array().unwrap();
    assert_eq!(uploaded.len(), 3, "{seen}");
    for (u, (name, format, unit, period)) in uploaded.iter().zip([
        ("chiemhoa-2026-q1.xlsx", "Excel (XLSX)", SEED.unit, "2026-Q1"),
        ("kimbinh-2026-q1.csv", "CSV", SEED.other_unit, "2026-Q1"),
        ("chiemhoa-2025-q4.json", "JSON", SEED.unit, "2025-Q4"),
    ]) {
        assert_eq!(u["status"], "imported", "{u}");
        assert_eq!(
            u["cells"].as_array().unwrap()[0..5],
            [name, format, unit, period, "Đã nhập"].map(Value::from),
            "{u}"
        );
    }
    assert_eq!(seen["summary"], "Đã nhập 3 tệp.");
    let stored: i64 = province_exports::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(stored, 3);
    // the link led to the latest period with imports; the commune that sent nothing is listed
    assert_eq!(seen["heading"], "Xếp hạng các xã, phường — Quý 1/2026");
    let units = |rows: &Value| -> Vec<(String, bool)> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| (r["unit"].as_str().unwrap().to_string(), r["missing"].as_bool().unwrap()))
            .collect()
    };
    let now = units(&seen["ranking"]);
    assert_eq!(now.len(), 3);
    assert_eq!(now[2], (SILENT.0.to_string(), true), "{now:?}");
    assert!(!now[0].1 && !now[1].1, "{now:?}");
    assert_eq!(seen["ranking"][0]["cells"][0], "1");
    assert_eq!(seen["ranking"][2]["cells"][3], "Chưa nộp");
    // the downloaded ranking: the same communes in the same order, the missing one marked
    let csv = csv_rows(&std::fs::read(seen["saved"]["csv"].as_str().unwrap()).unwrap());
    assert_eq!(csv[0][0], "Hạng");
    let order: Vec<&str> = csv[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(order, now.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>());
    assert_eq!(csv[3].last().map(String::as_str), Some("Chưa nộp"));
    assert_eq!(csv[1][0], "1");
    let xlsx = xlsx_rows(&std::fs::read(seen["saved"]["xlsx"].as_str().unwrap()).unwrap(), 1);
    // (rows: the title, the header row, then the communes)
    assert_eq!(xlsx[1][0], "Hạng", "{xlsx:?}");
    assert_eq!(xlsx[2][1], now[0].0);
    assert_eq!(xlsx[4][1], SILENT.0);
    assert_eq!(xlsx[4].last().map(String::as_str), Some("Chưa nộp"));
    // the previous quarter, picked: only Chiêm Hóa submitted
    assert_eq!(seen["beforeHeading"], "Xếp hạng các xã, phường — Quý 4/2025");
    let before = units(&seen["before"]);
    assert_eq!(before[0], (SEED.unit.to_string(), false), "{before:?}");
    assert!(before[1..].iter().all(|(_, missing)| *missing), "{before:?}");
    // a bad period: a 400 page with the picker and a Vietnamese message
    assert_eq!(seen["badStatus"], 400);
    assert!(seen["message"].as_str().unwrap().contains("không phải kỳ báo cáo hợp lệ"), "{seen}");
}

/// The province registers and revokes communes' export keys on its own page (SECURITY.md
/// finding 1, docs/PROVINCE.md): a rotated commune key is refused at import until the officer
/// registers it on the page; a mistyped key id is refused in Vietnamese with the fields kept; a
/// revoke button ends the key, and an export it signed is refused. Commune staff cannot reach it.
#[actix_web::test]
async fn province_staff_register_and_revoke_a_communes_key_on_the_keys_page() {
    let app = TestApp::new().await;
    app.seed();
    fill(&app, &SEED.officers, &SEED.procedures, local(2026, 1, 3, 8, 0), 80, 20, 1, 71);
    let key = app.api_key(SEED.unit);
    let (province, csrf) = app.session("tinh-khoa", &sipas::auth::Scope::Province);
    // the commune rotates its key; the province does not know the new one yet
    let new_key = app.export_key(SEED.unit, true);
    let body = export(&app, &key, "2026-Q1", "json").await;
    let r = app
        .post("/api/v1/province/exports")
        .payload("application/json", body.clone())
        .as_staff(&province)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("chưa được đăng ký cho đơn vị CHIEMHOA"), "{}", r.body);
    let page = app.get("/province/keys").as_staff(&province).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"href="/province/keys" aria-current="page""#), "the menu leads here");
    assert!(!page.body.contains(&new_key.key_id), "not registered yet");
    // a key id read wrongly over the telephone: refused, in Vietnamese, the fields kept
    let typo = [
        ("csrf", csrf.as_str()),
        ("unit", SEED.unit),
        ("key_id", "0123456789abcdef"),
        ("public_key", new_key.public_key.as_str()),
    ];
    let r = app.post_form("/province/keys", &typo).as_staff(&province).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("không khớp với khóa công khai") && r.body.contains(&new_key.public_key),
        "{}",
        r.body
    );
    // without the form's CSRF token nothing is registered
    let forged = [
        ("csrf", "x"),
        ("unit", SEED.unit),
        ("key_id", &new_key.key_id),
        ("public_key", &new_key.public_key),
    ];
    let r = app.post_form("/province/keys", &forged).as_staff(&province).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let good = [
        ("csrf", csrf.as_str()),
        ("unit", SEED.unit),
        ("key_id", new_key.key_id.as_str()),
        ("public_key", new_key.public_key.as_str()),
    ];
    let r = app.post_form("/province/keys", &good).as_staff(&province).await;
    assert_eq!(
        (r.status, r.location().as_deref()),
        (303, Some("/province/keys?done=registered")),
        "{}",
        r.body
    );
    let page = app.get("/province/keys?done=registered").as_staff(&province).await;
    assert!(page.body.contains("Đã đăng ký khóa") && page.body.contains(&new_key.key_id), "{}", page.body);
    assert!(page.body.contains("tinh-khoa"), "who registered it is shown");
    let r = app
        .post("/api/v1/province/exports")
        .payload("application/json", body.clone())
        .as_staff(&province)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // registering it again, for another commune, is refused
    let again = [
        ("csrf", csrf.as_str()),
        ("unit", SEED.other_unit),
        ("key_id", new_key.key_id.as_str()),
        ("public_key", new_key.public_key.as_str()),
    ];
    let r = app.post_form("/province/keys", &again).as_staff(&province).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("đã được đăng ký cho đơn vị CHIEMHOA"), "{}", r.body);
    // revoked on the page: the export it signed is refused
    let r = app
        .post_form(&format!("/province/keys/{}/revoke", new_key.key_id), &[("csrf", csrf.as_str())])
        .as_staff(&province)
        .await;
    assert_eq!((r.status, r.location().as_deref()), (303, Some("/province/keys?done=revoked")), "{}", r.body);
    let page = app.get("/province/keys").as_staff(&province).await;
    assert!(page.body.contains("Đã thu hồi"), "{}", page.body);
    let r = app.post("/api/v1/province/exports").payload("application/json", body).as_staff(&province).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("đã bị thu hồi"), "{}", r.body);
    let audited: i64 = sipas::schema::audit_log::table
        .filter(sipas::schema::audit_log::actor.like("user:%"))
        .filter(sipas::schema::audit_log::action.like("province_key.%"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(audited, 2, "the page's registration and revocation are audited as the officer");
    // a commune leader cannot open it
    let (leader, _) = app.session("lanhdao", &sipas::auth::Scope::Leader { unit: SEED.unit.into() });
    assert_eq!(app.get("/province/keys").as_staff(&leader).await.status, 403);
}
