//! Issuing: the invitations API (single and batch), QR codes, slips, typed codes and their rate
//! limit, the desk's JSON helpers, and printing slips in headless Chromium.

use std::process::Command;

use diesel::prelude::*;
use serde_json::{Value, json};
use sipas::invitations::model::TypedCode;

use crate::fixtures::count;
use crate::harness::{self, SEED, TestApp, http, print_to_pdf};

const BASE: &str = "https://ks.chiemhoa.example";

async fn app() -> TestApp {
    TestApp::with_config(|c| c.public_base_url = Some(BASE.to_string())).await
}

fn issue_body(case: Option<&str>) -> Value {
    let mut body = json!({
        "procedure_code": SEED.procedures[0],
        "officer_code": SEED.officers[0],
        "unit_code": SEED.unit,
    });
    if let Some(c) = case {
        body["case_number"] = json!(c);
    }
    body
}

fn path_of(url: &str) -> String {
    url.strip_prefix(BASE).unwrap_or_else(|| panic!("{url} is not under {BASE}")).to_string()
}

fn decode_qr(png: &[u8]) -> String {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    assert!(img.width() >= 300, "a {}-pixel QR is too small to print sharply", img.width());
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

#[actix_web::test]
async fn an_issued_invitation_answers_every_field_of_the_contract() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let before = chrono::Utc::now();
    let r = app.post_json("/api/v1/invitations", &issue_body(Some("H58-0001"))).with_key(&key).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 201, "{body}");

    let token = body["token"].as_str().unwrap_or_default();
    assert!(token.len() >= 22 && sipas::invitations::model::is_token_shaped(token), "{token}");
    let code = body["code"].as_str().unwrap_or_default();
    assert!(TypedCode::parse(code).is_ok(), "{code}");
    assert_eq!(body["survey_url"], format!("{BASE}/s/{token}"));
    assert_eq!(body["qr_svg_url"], format!("{BASE}/q/{token}.svg"));
    assert_eq!(body["qr_png_url"], format!("{BASE}/q/{token}.png"));
    assert_eq!(body["slip_url"], format!("{BASE}/slips/{token}"));
    let expires: chrono::DateTime<chrono::Utc> =
        body["expires_at"].as_str().unwrap_or_default().parse().unwrap();
    let ttl = expires - before;
    assert!(
        ttl > chrono::Duration::days(7) - chrono::Duration::minutes(1)
            && ttl <= chrono::Duration::days(7) + chrono::Duration::minutes(1)
    );

    let mut conn = app.conn();
    let current = app.state.instruments.current();
    let token_hash = app.token_hash(token);
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM invitations WHERE token_hash = '{token_hash}' AND channel = 'desk' \
                 AND instrument_id = '{}' AND instrument_version = '{}' AND issued_by LIKE 'api-key:%' \
                 AND officer_code = 'CB01' AND procedure_code = '1.001193'",
                current.meta.id, current.meta.version
            )
        ),
        1
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM case_links WHERE case_number = 'H58-0001'"), 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'invitation.issue' AND actor LIKE 'api-key:%'"
        ),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM audit_log WHERE details::text LIKE '%H58-0001%'"),
        0,
        "the case number stays out of the append-only audit log"
    );
}

#[actix_web::test]
async fn the_png_qr_decodes_to_the_survey_url_and_the_svg_is_served_too() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let body = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();

    let res = app.get(&path_of(body["qr_png_url"].as_str().unwrap_or_default())).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/png");
    assert!(res.header("cache-control").contains("max-age="));
    let png = res.bytes;
    assert_eq!(decode_qr(&png), body["survey_url"].as_str().unwrap_or_default());

    let res = app.get(&path_of(body["qr_svg_url"].as_str().unwrap_or_default())).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "image/svg+xml");
    let svg = res.body;
    assert!(svg.contains("<svg"));

    let res = app.get("/q/AAAAAAAAAAAAAAAAAAAAAA.png").await;
    assert_eq!(res.status, 404);
    let res = app.get("/q/not-a-token.gif").await;
    assert_eq!(res.status, 404);
}

#[actix_web::test]
async fn the_same_case_number_twice_gives_the_same_token() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let r = app.post_json("/api/v1/invitations", &issue_body(Some("H58-0002"))).with_key(&key).await;
    let (s1, first) = (r.status, r.json());
    let r = app.post_json("/api/v1/invitations", &issue_body(Some(" H58-0002 "))).with_key(&key).await;
    let (s2, again) = (r.status, r.json());
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first["token"], again["token"]);
    assert_eq!(first["code"], again["code"]);
    // a case number sent as a number is the same case as its text
    let mut numeric = issue_body(None);
    numeric["case_number"] = json!(20261128);
    let r = app.post_json("/api/v1/invitations", &numeric).with_key(&key).await;
    let (s3, n1) = (r.status, r.json());
    let r = app.post_json("/api/v1/invitations", &issue_body(Some("20261128"))).with_key(&key).await;
    let (s4, n2) = (r.status, r.json());
    assert_eq!((s3, s4), (201, 200));
    assert_eq!(n1["token"], n2["token"]);
    // without a case number every call is a new invitation
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await;
    let (a, x) = (r.status, r.json());
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await;
    let (b, y) = (r.status, r.json());
    assert_eq!((a, b), (201, 201));
    assert_ne!(x["token"], y["token"]);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 4);
}

#[actix_web::test]
async fn unknown_or_unusable_codes_get_422_naming_the_field_and_write_nothing() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    diesel::sql_query("UPDATE officers SET active = false WHERE code = 'CB02'")
        .execute(&mut app.conn())
        .unwrap();
    let cases: &[(&str, Value, &str)] = &[
        ("procedure_code", json!("9.999999"), "unknown_procedure"),
        ("officer_code", json!("NOBODY"), "unknown_officer"),
        ("unit_code", json!("NOWHERE"), "unknown_unit"),
        ("officer_code", json!(SEED.other_officer), "officer_not_in_unit"),
        ("officer_code", json!("CB02"), "inactive_officer"),
        ("channel", json!("email"), "invalid_channel"),
        ("procedure_code", Value::Null, "missing_field"),
        ("case_number", json!("x".repeat(65)), "invalid_case_number"),
        ("colour", json!("blue"), "invalid_body"),
    ];
    for (field, value, code) in cases {
        let mut body = issue_body(Some("H58-0003"));
        body[*field] = value.clone();
        let r = app.post_json("/api/v1/invitations", &body).with_key(&key).await;
        let (status, answer) = (r.status, r.json());
        assert_eq!(status, 422, "{field}={value}: {answer}");
        assert_eq!(answer["error"], *code, "{answer}");
        assert!(answer["message"].as_str().unwrap_or_default().contains(field), "{answer} names {field}");
    }
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM case_links"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log WHERE action = 'invitation.issue'"), 0);
}

#[actix_web::test]
async fn without_a_valid_key_or_with_a_revoked_one_issuing_is_401() {
    let app = app().await;
    app.seed();
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).with_key("sipas_not-a-real-key").await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 401);
    assert_eq!(app.get("/api/v1/procedures").await.status, 401);
    assert_eq!(app.get("/api/v1/invitations/latest").await.status, 401);
    // a revoked key no longer issues
    let key = app.api_key(SEED.unit);
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 201);
    diesel::sql_query("UPDATE api_keys SET revoked_at = now()").execute(&mut app.conn()).unwrap();
    let r = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await;
    let (status, _) = (r.status, r.json());
    assert_eq!(status, 401);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 1);
}

#[actix_web::test]
async fn a_key_of_another_unit_gets_403() {
    let app = app().await;
    app.seed();
    let other = app.api_key(SEED.other_unit);
    let r = app.post_json("/api/v1/invitations", &issue_body(Some("H58-0004"))).with_key(&other).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 0);
}

#[actix_web::test]
async fn malformed_json_is_400_in_the_error_shape() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let res = app
        .post("/api/v1/invitations")
        .with_key(&key)
        .payload("application/json", "{\"procedure_code\": \"1.001193\",")
        .await;
    assert_eq!(res.status, 400);
    let body = res.json();
    assert_eq!(body["error"], "malformed_json");
    assert!(body["message"].is_string());
}

#[actix_web::test]
async fn a_batch_issues_the_valid_items_in_one_call_and_reports_each() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let mut unknown = issue_body(Some("B-2"));
    unknown["procedure_code"] = json!("9.999999");
    let mut other_unit = issue_body(Some("B-4"));
    other_unit["unit_code"] = json!(SEED.other_unit);
    other_unit["officer_code"] = json!(SEED.other_officer);
    let items = json!({ "invitations": [
        issue_body(Some("B-1")),
        unknown,
        issue_body(Some("B-1")),
        other_unit,
        {"procedure_code": 42},
        issue_body(None),
    ]});
    let r = app.post_json("/api/v1/invitations/batch", &items).with_key(&key).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 200, "{body}");
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .map(|r| r.iter().map(|i| i["status"].as_u64().unwrap_or(0)).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [201, 422, 200, 403, 422, 201]);
    assert_eq!(body["results"][0]["invitation"]["token"], body["results"][2]["invitation"]["token"]);
    assert!(body["results"][1]["message"].as_str().unwrap_or_default().contains("procedure_code"));
    assert_eq!(
        (body["created"].as_u64(), body["existing"].as_u64(), body["refused"].as_u64()),
        (Some(2), Some(1), Some(3))
    );
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 2);

    // 500 items fit in one call (a body larger than the 64 KiB other JSON bodies may have); 501
    // are refused whole
    let many: Vec<Value> =
        (0..500).map(|i| issue_body(Some(&format!("M-{i:04}-{}", "x".repeat(50))))).collect();
    assert!(json!({ "invitations": many }).to_string().len() > 64 * 1024);
    let r = app.post_json("/api/v1/invitations/batch", &json!({ "invitations": many })).with_key(&key).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], 500);
    let too_many: Vec<Value> = (0..501).map(|_| issue_body(None)).collect();
    let r =
        app.post_json("/api/v1/invitations/batch", &json!({ "invitations": too_many })).with_key(&key).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap_or_default().contains("invitations"));
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 502);
}

#[actix_web::test]
async fn a_typed_code_leads_to_its_survey_whatever_its_case_and_dashes() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let body = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();
    let token = body["token"].as_str().unwrap_or_default();
    let code = body["code"].as_str().unwrap_or_default();
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();

    let res = app.get(&format!("/c/{typed}")).peer("198.51.100.1:4000").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), format!("/s/{token}"));
    let form = format!("/c?code={}", typed.replace('-', "+"));
    let res = app.get(&form).peer("198.51.100.1:4000").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), format!("/s/{token}"));

    let res = app.get("/c").peer("198.51.100.1:4000").await;
    assert_eq!(res.status, 200);
    let page = res.body;
    assert!(page.contains("<form method=\"get\" action=\"/c\"") && page.contains("Nhập mã"));
}

#[actix_web::test]
async fn wrong_codes_get_a_kind_404_and_guessing_is_cut_off_per_client() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let body = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();
    let code = body["code"].as_str().unwrap_or_default().to_string();
    // a well-formed code that was never issued, and the real code with its check character wrong
    let unissued = loop {
        let c = TypedCode::generate();
        if c.as_str() != code {
            break c.as_str().to_string();
        }
    };
    let mistyped = {
        let last = code.chars().last().unwrap_or('2');
        let other = if last == '2' { '3' } else { '2' };
        format!("{}{other}", &code[..7])
    };
    let guesser = "203.0.113.9:5000";
    let mut pages = Vec::new();
    for attempt in 0..10 {
        let wrong = if attempt % 2 == 0 { &unissued } else { &mistyped };
        let res = app.get(&format!("/c/{wrong}")).peer(guesser).await;
        assert_eq!(res.status, 404, "attempt {attempt}");
        let page = res.body;
        pages.push(page.replace(&unissued, "").replace(&mistyped, ""));
    }
    assert!(pages[0].contains("Không tìm thấy mã này"));
    assert_eq!(pages[0], pages[1], "an unknown and a mistyped code get the same page");

    // the eleventh attempt is refused, even with the right code
    let res = app.get(&format!("/c/{code}")).peer(guesser).await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").parse::<i64>().unwrap_or(0) > 0);
    // another client is not affected
    let res = app.get(&format!("/c/{code}")).peer("198.51.100.20:6000").await;
    assert_eq!(res.status, 303);
    // the counters hold salted hashes, never addresses
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM rate_limits WHERE client_hash LIKE '%203.0.113%'"),
        0
    );
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM rate_limits WHERE hits = 10"), 1);
}

#[actix_web::test]
async fn the_desk_finds_procedures_by_part_of_a_name_and_lists_the_units_officers() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let res = app.get("/api/v1/procedures?q=dang%20ky").with_key(&key).await;
    assert_eq!(res.status, 200);
    let body = res.json();
    let codes: Vec<&str> = body["procedures"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["1.000894", "1.001193", "1.004227"], "'dang ky' finds every 'Đăng ký'");
    let res = app.get("/api/v1/procedures?q=KHAI%20SINH").with_key(&key).await;
    let body = res.json();
    assert_eq!(body["procedures"][0]["code"], "1.001193");
    assert_eq!(body["procedures"].as_array().map(Vec::len), Some(1));
    let res = app.get("/api/v1/procedures?q=2.0008").with_key(&key).await;
    let body = res.json();
    assert_eq!(body["procedures"][0]["name"], "Chứng thực bản sao từ bản chính giấy tờ");

    let res = app.get("/api/v1/officers").with_key(&key).await;
    let body = res.json();
    let officers: Vec<&str> = body["officers"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(officers.len(), 2);
    assert!(officers.contains(&"CB01") && officers.contains(&"CB02") && !officers.contains(&"KB01"));
}

#[actix_web::test]
async fn the_customer_screen_sees_the_callers_latest_invitation_and_when_it_is_answered() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let other_desk = app.api_key(SEED.unit);
    let body = app.get("/api/v1/invitations/latest").with_key(&key).await.json();
    assert!(body["invitation"].is_null());
    let first = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();
    let second = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();
    app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&other_desk).await;
    let body = app.get("/api/v1/invitations/latest").with_key(&key).await.json();
    assert_eq!(body["invitation"]["token"], second["token"]);
    assert_ne!(body["invitation"]["token"], first["token"]);
    assert_eq!(body["answered"], false);

    // once the resident answers, the screen can say thank you
    let token_hash = app.token_hash(second["token"].as_str().unwrap_or_default());
    diesel::sql_query(format!(
        "INSERT INTO responses (invitation_id, instrument_id, instrument_version, unit_code, officer_code, \
         procedure_code, channel) SELECT id, instrument_id, instrument_version, unit_code, officer_code, \
         procedure_code, channel FROM invitations WHERE token_hash = '{token_hash}'"
    ))
    .execute(&mut app.conn())
    .unwrap();
    let body = app.get("/api/v1/invitations/latest").with_key(&key).await.json();
    assert_eq!(body["answered"], true);
}

#[actix_web::test]
async fn a_slip_shows_the_code_and_the_procedure_but_nothing_personal() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let body =
        app.post_json("/api/v1/invitations", &issue_body(Some("H58-SECRET-77"))).with_key(&key).await.json();
    let res = app.get(&path_of(body["slip_url"].as_str().unwrap_or_default())).await;
    assert_eq!(res.status, 200);
    let html = res.body;
    let code = body["code"].as_str().unwrap_or_default();
    assert!(html.contains(&format!("{}-{}", &code[..4], &code[4..])));
    assert!(html.contains("Đăng ký khai sinh"));
    assert!(html.contains(body["survey_url"].as_str().unwrap_or_default()));
    assert!(html.contains("chưa đến 1 phút") && html.contains("ẩn danh"));
    assert!(
        html.contains(
            &chrono::Utc::now()
                .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
                .format("%d/%m/%Y")
                .to_string()
        )
    );
    assert!(!html.contains("H58-SECRET-77"), "no case number on the slip");
    assert!(!html.contains("Nguyễn Thị Lan"), "no officer name on the slip");
    assert!(!html.contains("style="));
    assert_eq!(app.get("/slips/AAAAAAAAAAAAAAAAAAAAAA").await.status, 404);
    assert_eq!(app.get("/slips?tokens=").await.status, 400);
    let token = body["token"].as_str().unwrap_or_default();
    assert_eq!(app.get(&format!("/slips/{token}?layout=a3")).await.status, 400);
}

// ------------------------------------------------------------------ printing in Chromium

#[actix_web::test]
async fn a_receipt_slip_prints_on_one_80mm_page_and_an_a4_sheet_holds_several_slips() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let items: Vec<Value> = (0..10).map(|_| issue_body(None)).collect();
    let body = app
        .post_json("/api/v1/invitations/batch", &json!({ "invitations": items }))
        .with_key(&key)
        .await
        .json();
    let tokens: Vec<String> = body["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|i| i["invitation"]["token"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert_eq!(tokens.len(), 10);
    // the longest procedure name of the seed, to make the receipt as tall as it gets
    diesel::sql_query(format!(
        "UPDATE procedures SET name = '{}' WHERE code = '1.001193'",
        "Đăng ký khai sinh kết hợp đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi "
            .repeat(3)
    ))
    .execute(&mut app.conn())
    .unwrap();

    let server = app.spawn_server();
    let mm = |pt: f64| pt * 25.4 / 72.0;

    let (pages, w, h) =
        print_to_pdf(format!("{server}/slips/{}", tokens[0]), "receipt.pdf").await.page_size();
    assert_eq!(pages, 1, "the receipt slip fits one page");
    assert!((mm(w) - 80.0).abs() < 1.0, "receipt width {:.1} mm", mm(w));
    assert!(mm(h) < 200.0, "receipt length {:.1} mm", mm(h));

    let (pages, w, h) =
        print_to_pdf(format!("{server}/slips?layout=a4&tokens={}", tokens.join(",")), "a4.pdf")
            .await
            .page_size();
    assert_eq!(pages, 2, "ten slips take two A4 pages of eight");
    assert!((mm(w) - 210.0).abs() < 1.0 && (mm(h) - 297.0).abs() < 1.0, "{:.1} x {:.1} mm", mm(w), mm(h));
}

#[actix_web::test]
async fn the_same_case_issued_by_many_requests_at_once_gets_one_invitation() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let server = app.spawn_server();
    let body = issue_body(Some("RACE-1")).to_string();
    let answers = actix_web::rt::task::spawn_blocking(move || {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (server, key, body) = (server.clone(), key.clone(), body.clone());
                std::thread::spawn(move || {
                    let auth = format!("Bearer {key}");
                    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
                    http(server.trim_start_matches("http://"), "POST", "/api/v1/invitations", &headers, &body)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| panic!("a request thread panicked")))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let existing = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, existing), (1, 7), "{answers:?}");
    let tokens: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).map(|v| v["token"].to_string()).unwrap_or_default())
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM invitations"), 1);
}

/// The DOM of `url` after its scripts ran for a few seconds in headless Chromium.
async fn rendered_dom(url: String) -> String {
    actix_web::rt::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("timeout")
            .arg("90")
            .arg(harness::chromium())
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg("--virtual-time-budget=8000")
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn the_customer_screen_shows_the_latest_code_in_a_real_browser() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await;
    let latest = app.post_json("/api/v1/invitations", &issue_body(None)).with_key(&key).await.json();
    let code = latest["code"].as_str().unwrap_or_default();
    let token = latest["token"].as_str().unwrap_or_default();
    let server = app.spawn_server();

    let dom = rendered_dom(format!("{server}/desk/screen#key={key}")).await;
    assert!(
        dom.contains(&format!("{}-{}", &code[..4], &code[4..])),
        "the screen shows the latest code: {dom}"
    );
    assert!(dom.contains(&format!("/q/{token}.svg")), "and its QR code");
    assert!(dom.contains("id=\"screen-idle\" class=\"screen-panel\" hidden"), "the welcome is hidden");

    // without a key the screen asks for one and shows no code
    let dom = rendered_dom(format!("{server}/desk/screen")).await;
    assert!(dom.contains("<strong id=\"screen-code\"></strong>"), "no code is shown: {dom}");
    assert!(dom.contains("id=\"key-section\" class=\"desk-ui card\">"), "the key form is shown: {dom}");
}

// ------------------------------------------------------------------ case facts

fn with_facts(case: &str, facts: Value) -> Value {
    let mut body = issue_body(Some(case));
    for (k, v) in facts.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    body
}

#[actix_web::test]
async fn case_facts_are_stored_with_the_invitation_and_give_its_timing_and_steps() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let today = sipas::kernel::time::today();
    let day = |back: i64| (today - chrono::Duration::days(back)).format("%Y-%m-%d").to_string();
    let body = with_facts(
        "H58-F001",
        json!({
            "channel": "online",
            "received_at": format!("{}T08:15:00+07:00", day(10)),
            "due_at": day(2),
            "returned_at": format!("{}T09:00", day(3)),
            "steps": [
                {"unit": "Công chức Tư pháp - Hộ tịch", "due_at": day(6), "done_at": day(7)},
                {"unit": "Lãnh đạo UBND xã", "due_at": day(4), "done_at": format!("{}T16:30", day(4))}
            ]
        }),
    );
    let r = app.post_json("/api/v1/invitations", &body).with_key(&key).await;
    assert_eq!(r.status, 201, "{}", r.json());
    let token = r.json()["token"].as_str().unwrap_or_default().to_string();
    let token_hash = app.token_hash(&token);
    let mut conn = app.conn();
    // returned a day before the due day: TT01.I1 option 1 (early); the second step was done on
    // its due day, so indicator 2 earns 1 point, not 2
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM invitations i JOIN case_facts f ON f.invitation_id = i.id \
                 WHERE i.token_hash = '{token_hash}' AND i.channel = 'online' AND i.fact_timing = 1 AND i.fact_i2_points = 1 \
                 AND jsonb_array_length(f.steps) = 2 AND f.steps->1->>'unit' = 'Lãnh đạo UBND xã' \
                 AND NOT f.apology_letter AND f.received_at = '{}T08:15:00+07:00'::timestamptz",
                day(10)
            )
        ),
        1
    );
    // a late return with the apology letter and a new date is stored, and is still late
    let late = with_facts(
        "H58-F002",
        json!({"due_at": day(5), "extended_due_at": day(1), "apology_letter": true, "returned_at": day(2)}),
    );
    let r = app.post_json("/api/v1/invitations", &late).with_key(&key).await;
    assert_eq!(r.status, 201, "{}", r.json());
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM invitations i JOIN case_facts f ON f.invitation_id = i.id \
             WHERE i.fact_timing = 3 AND i.fact_i2_points IS NULL AND f.apology_letter AND f.extended_due_at IS NOT NULL"
        ),
        1
    );
    // without facts nothing is stored for them
    let r = app.post_json("/api/v1/invitations", &issue_body(Some("H58-F003"))).with_key(&key).await;
    assert_eq!(r.status, 201);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM case_facts"), 2);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations WHERE fact_timing IS NULL"), 1);
}

#[actix_web::test]
async fn bad_case_facts_get_a_422_naming_the_field_and_change_nothing() {
    let app = app().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let cases = [
        (json!({"received_at": "2026-11-20", "due_at": "2026-11-19"}), "due_at"),
        (json!({"received_at": "2026-11-20", "returned_at": "2026-11-19"}), "returned_at"),
        (json!({"returned_at": "2099-01-01"}), "returned_at"),
        (json!({"received_at": "20/11/2026"}), "received_at"),
        (json!({"due_at": "2026-11-25", "extended_due_at": "2026-11-28"}), "apology_letter"),
        (
            json!({"due_at": "2026-11-25", "extended_due_at": "2026-11-24", "apology_letter": true}),
            "extended_due_at",
        ),
        (json!({"steps": [{"unit": "A", "due_at": "2026-11-22"}]}), "steps[0].done_at"),
        (json!({"steps": [{"unit": "", "due_at": "2026-11-22", "done_at": "2026-11-21"}]}), "steps[0].unit"),
    ];
    for (i, (facts, field)) in cases.iter().enumerate() {
        let r = app
            .post_json("/api/v1/invitations", &with_facts(&format!("BAD-{i}"), facts.clone()))
            .with_key(&key)
            .await;
        let body = r.json();
        assert_eq!(r.status, 422, "{facts}: {body}");
        assert_eq!(body["error"], "invalid_case_facts", "{body}");
        assert!(body["message"].as_str().unwrap_or_default().contains(field), "{field} not named in {body}");
    }
    // an unknown channel and an unknown fact are 422s too
    let r = app
        .post_json("/api/v1/invitations", &with_facts("BAD-C", json!({"channel": "fax"})))
        .with_key(&key)
        .await;
    assert_eq!((r.status, r.json()["error"].as_str().unwrap_or_default()), (422, "invalid_channel"));
    let r = app
        .post_json("/api/v1/invitations", &with_facts("BAD-U", json!({"closed_at": "2026-11-20"})))
        .with_key(&key)
        .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["message"].as_str().unwrap_or_default().contains("closed_at"), "{}", r.json());
    // the batch refuses the bad item alone, naming the field, and issues the good one with its facts
    let batch = json!({"invitations": [
        with_facts("B-1", json!({"due_at": "2026-11-25", "returned_at": "2026-11-24"})),
        with_facts("B-2", json!({"received_at": "2026-11-20", "due_at": "2026-11-19"})),
    ]});
    let r = app.post_json("/api/v1/invitations/batch", &batch).with_key(&key).await;
    let body = r.json();
    assert_eq!(body["results"][0]["status"], 201, "{body}");
    assert_eq!(body["results"][1]["status"], 422, "{body}");
    assert_eq!(body["results"][1]["error"], "invalid_case_facts");
    assert!(body["results"][1]["message"].as_str().unwrap_or_default().contains("due_at"));
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM case_facts"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations WHERE fact_timing = 1"), 1);
}
