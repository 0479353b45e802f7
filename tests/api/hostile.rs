//! Hostile input: every malformed, oversized or malicious request gets a clear 4xx (in the JSON
//! error shape on the API), stores nothing, and leaves the token answering normally afterwards.

use diesel::prelude::*;

use crate::harness::TestApp;

fn stored_responses(app: &TestApp) -> i64 {
    use sipas::schema::responses;
    responses::table.count().get_result(&mut app.conn()).unwrap()
}

/// (label, method, path, content type, body) of one hostile request.
type Hostile = (String, &'static str, String, Option<&'static str>, Vec<u8>);

fn battery(token: &str) -> Vec<Hostile> {
    let api = format!("/api/v1/responses/{token}");
    let json = Some("application/json");
    let deep = format!("{{\"answers\": {}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let big = format!("{{\"answers\": {{\"COMMENT\": \"{}\"}}}}", "a".repeat(17 * 1024));
    let mut cases: Vec<Hostile> = vec![
        ("body over 16 KB".into(), "POST", api.clone(), json, big.into_bytes()),
        (
            "invalid UTF-8".into(),
            "POST",
            api.clone(),
            json,
            b"{\"answers\": {\"COMMENT\": \"\xff\xfe\"}}".to_vec(),
        ),
        ("answers is a string".into(), "POST", api.clone(), json, br#"{"answers": "5"}"#.to_vec()),
        ("answers is a list".into(), "POST", api.clone(), json, br#"{"answers": [5]}"#.to_vec()),
        (
            "level as a string".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": "5"}}"#.to_vec(),
        ),
        (
            "level as a float".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 4.5}}"#.to_vec(),
        ),
        (
            "huge number".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 1e400}}"#.to_vec(),
        ),
        ("deeply nested".into(), "POST", api.clone(), json, deep.into_bytes()),
        (
            "unknown top-level field".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 5}, "admin": true}"#.to_vec(),
        ),
        (
            "unknown item".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 5, "DROP TABLE": 1}}"#.to_vec(),
        ),
        (
            "null byte in text".into(),
            "POST",
            api.clone(),
            json,
            b"{\"answers\": {\"CASE.OVERALL\": 5, \"COMMENT\": \"a\\u0000b\"}}".to_vec(),
        ),
        (
            "null byte in item code".into(),
            "POST",
            api.clone(),
            json,
            b"{\"answers\": {\"CASE.OVERALL\\u0000\": 5}}".to_vec(),
        ),
        ("empty body".into(), "POST", api.clone(), json, Vec::new()),
        ("not JSON".into(), "POST", api.clone(), json, b"CASE.OVERALL=5".to_vec()),
        (
            "wrong content type".into(),
            "POST",
            api.clone(),
            Some("text/plain"),
            br#"{"answers": {"CASE.OVERALL": 5}}"#.to_vec(),
        ),
        (
            "trailing garbage".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 5}} xx"#.to_vec(),
        ),
        (
            "duplicate keys".into(),
            "POST",
            api.clone(),
            json,
            br#"{"answers": {"CASE.OVERALL": 5, "CASE.OVERALL": 1}}"#.to_vec(),
        ),
        (
            "form garbage".into(),
            "POST",
            format!("/s/{token}"),
            Some("application/x-www-form-urlencoded"),
            b"%%%&&&=\xff\xfe".to_vec(),
        ),
        (
            "form over the limit".into(),
            "POST",
            format!("/s/{token}"),
            Some("application/x-www-form-urlencoded"),
            format!("COMMENT={}", "a".repeat(20 * 1024)).into_bytes(),
        ),
        (
            "form with an out-of-range level".into(),
            "POST",
            format!("/s/{token}"),
            Some("application/x-www-form-urlencoded"),
            b"CASE.OVERALL=9".to_vec(),
        ),
        (
            "overlong token".into(),
            "POST",
            format!("/api/v1/responses/{}", "A".repeat(5000)),
            json,
            br#"{"answers": {"CASE.OVERALL": 5}}"#.to_vec(),
        ),
        ("overlong survey path".into(), "GET", format!("/s/{}", "x".repeat(8000)), None, Vec::new()),
        ("encoded null byte in token".into(), "GET", "/s/abc%00def".into(), None, Vec::new()),
        ("path traversal".into(), "GET", "/static/../../../../etc/passwd".into(), None, Vec::new()),
        ("encoded path traversal".into(), "GET", "/static/..%2f..%2fCargo.toml".into(), None, Vec::new()),
        ("traversal in the QR name".into(), "GET", "/q/..%2f..%2fetc%2fpasswd.png".into(), None, Vec::new()),
        ("SQL in the typed code".into(), "GET", "/c/'%20OR%201=1--".into(), None, Vec::new()),
        ("unknown method".into(), "DELETE", api.clone(), None, Vec::new()),
        (
            "invitation without a key".into(),
            "POST",
            "/api/v1/invitations".into(),
            json,
            br#"{"procedure_code": "1.001193"}"#.to_vec(),
        ),
        (
            "stats without a key".into(),
            "GET",
            "/api/v1/stats?from=2026-01-01&to=2026-12-31".into(),
            None,
            Vec::new(),
        ),
    ];
    cases.push(("token with a slash".into(), "GET", format!("/s/{token}/../../etc"), None, Vec::new()));
    cases
}

#[actix_web::test]
async fn the_hostile_input_battery_gets_only_4xx_and_the_token_still_answers() {
    let app = TestApp::new().await;
    let seed = app.seed();
    let invitation = app.insert_invitation(seed.unit, seed.officers[0], seed.procedures[0]);

    for (label, method, path, content_type, body) in battery(&invitation.token) {
        let mut req = app.request(method, &path).header("User-Agent", "hostile-battery");
        if let Some(ct) = content_type {
            req = req.payload(ct, body);
        } else {
            req = req.body(body);
        }
        let res = req.await;
        let status = res.status;
        assert!(
            (400..500).contains(&status),
            "{label}: {method} {} got {status}",
            &path[..path.len().min(80)]
        );
        let is_api = path.starts_with("/api/");
        let body = res.bytes;
        if is_api {
            let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                panic!("{label}: the error is not JSON ({e}): {}", String::from_utf8_lossy(&body))
            });
            assert!(parsed["error"].is_string() && parsed["message"].is_string(), "{label}: {parsed}");
        }
        assert_eq!(stored_responses(&app), 0, "{label} stored something");
    }

    let res = app
        .post(&format!("/api/v1/responses/{}", invitation.token))
        .payload("application/json", r#"{"answers": {"CASE.OVERALL": 5}}"#)
        .await;
    assert_eq!(res.status, 201, "the token answers normally after the battery");
    assert_eq!(stored_responses(&app), 1);
}
