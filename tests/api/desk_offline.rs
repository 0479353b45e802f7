//! Issuing while the commune's line is down (issue 20): a desk paired with its own Ed25519 key
//! signs slips offline; the resident's scan or the desk's queued record, whichever comes first,
//! makes the invitation exactly once; forged, altered, revoked and future-dated tokens are
//! refused. Through the API on real PostgreSQL here, then in Chromium with the browser offline
//! (`tests/browser/desk-offline.mjs`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use sipas::auth::Scope;
use sipas::invitations::model::TypedCode;
use sipas::invitations::offline;

use crate::fixtures::{PASSWORD, count, people};
use crate::harness::{SEED, TestApp};
use crate::staff_browser::run_script;

/// An admin pairs a desk with the public half of `secret`; returns the desk key's id.
async fn pair(app: &TestApp, secret: [u8; 32]) -> (i64, SigningKey, String) {
    let key = SigningKey::from_bytes(&secret);
    let (admin, _) = app.session("quan-tri", &Scope::Admin { unit: None });
    let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    let body = json!({"unit_code": SEED.unit, "name": "Quầy 1", "public_key": public});
    let r = app.post_json("/api/v1/desk/pairings", &body).as_staff(&admin).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["desk_key_id"].as_i64().unwrap_or_else(|| panic!("no desk key: {}", r.body));
    (id, key, admin)
}

/// A token signed by `key` for desk key `id`, dated `offset_secs` from now; returns it with its
/// nonce.
fn token(key: &SigningKey, id: i64, offset_secs: i64, officer: &str) -> (String, [u8; 16]) {
    let nonce: [u8; 16] = rand::random();
    let at = u32::try_from(chrono::Utc::now().timestamp() + offset_secs).unwrap();
    let (mut body, message) =
        offline::unsigned(u32::try_from(id).unwrap(), at, &nonce, [SEED.unit, officer, SEED.procedures[0]]);
    body.extend_from_slice(&key.sign(&message).to_bytes());
    (URL_SAFE_NO_PAD.encode(body), nonce)
}

fn invitations(app: &TestApp) -> i64 {
    count(&mut app.conn(), "SELECT count(*) AS n FROM invitations")
}

fn audited(app: &TestApp, action: &str) -> i64 {
    count(&mut app.conn(), &format!("SELECT count(*) AS n FROM audit_log WHERE action = '{action}'"))
}

#[actix_web::test]
async fn a_scanned_offline_slip_makes_one_invitation_and_the_queued_record_makes_none() {
    let app = TestApp::new().await;
    app.seed();
    let (id, key, _) = pair(&app, [11; 32]).await;
    assert_eq!(audited(&app, "desk_key.approve"), 1);
    let (signed, nonce) = token(&key, id, 0, SEED.officers[0]);
    assert!(signed.len() < 170, "the token is {} characters", signed.len());
    let survey = format!("/s/{}", URL_SAFE_NO_PAD.encode(nonce));

    // the resident scans before the desk is back online: the invitation is made, once
    for _ in 0..2 {
        let r = app.get(&format!("/o/{signed}")).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.location().as_deref(), Some(survey.as_str()));
    }
    assert_eq!(invitations(&app), 1);
    assert_eq!(audited(&app, "invitation.issue_offline"), 1);
    let credited = count(
        &mut app.conn(),
        &format!(
            "SELECT count(*) AS n FROM invitations WHERE officer_code = 'CB01' AND unit_code = 'CHIEMHOA' \
             AND issued_by = 'desk-key:{id}' AND desk_key_id = {id} AND offline_record_at IS NULL"
        ),
    );
    assert_eq!(credited, 1, "the invitation carries the signed facts");

    // it is a survey like any other: one response, then spent
    let r = app.get(&survey).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = json!({"answers": {"CASE.OVERALL": 5}});
    let path = format!("/api/v1/responses/{}", URL_SAFE_NO_PAD.encode(nonce));
    assert_eq!(app.post_json(&path, &answer).await.status, 201);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM responses"), 1);

    // the desk's queue arrives later: reconciled with the same invitation, noted and audited once
    for _ in 0..2 {
        let r = app.post_json("/api/v1/desk/offline-issues", &json!({"tokens": [signed]})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["results"][0]["status"], 200, "{}", r.body);
    }
    assert_eq!(invitations(&app), 1, "the queued record made a second invitation");
    assert_eq!(audited(&app, "invitation.offline_record"), 1);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM invitations WHERE offline_record_at IS NOT NULL"),
        1
    );
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM responses"), 1);
    // the typed code the desk printed (derived from the nonce) opens the same survey
    let code = TypedCode::derived(&nonce);
    let r = app.get(&format!("/c/{code}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location().as_deref(), Some(survey.as_str()));
    // counted as issued in the roll-ups, like any invitation
    let stats =
        app.get("/api/v1/stats?from=2026-01-01&to=2030-12-31").with_key(&app.api_key(SEED.unit)).await;
    assert_eq!(stats.json()["groups"][0]["invitations"], 1, "{}", stats.body);
}

#[actix_web::test]
async fn a_queued_record_that_arrives_first_makes_the_invitation_and_the_scan_finds_it() {
    let app = TestApp::new().await;
    app.seed();
    let (id, key, _) = pair(&app, [12; 32]).await;
    let (first, nonce) = token(&key, id, -30, SEED.officers[1]);
    let (second, _) = token(&key, id, -20, SEED.officers[0]);
    let r = app.post_json("/api/v1/desk/offline-issues", &json!({"tokens": [first, second, first]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<_> =
        r.json()["results"].as_array().unwrap().iter().map(|x| x["status"].clone()).collect();
    assert_eq!(statuses, vec![json!(201), json!(201), json!(200)], "{}", r.body);
    assert_eq!(r.json()["results"][0]["code"], TypedCode::derived(&nonce).as_str());
    assert_eq!(invitations(&app), 2);
    assert_eq!(audited(&app, "invitation.issue_offline"), 2);
    let r = app.get(&format!("/o/{first}")).await;
    assert_eq!(r.status, 303);
    assert_eq!(invitations(&app), 2);
}

#[actix_web::test]
async fn forged_altered_future_and_revoked_tokens_are_refused_and_write_nothing() {
    let app = TestApp::new().await;
    app.seed();
    let (id, key, admin) = pair(&app, [13; 32]).await;
    let (genuine, _) = token(&key, id, 0, SEED.officers[0]);

    // altered: the officer changed after signing (CB01 → CB02), one character of the signature
    let mut raw = URL_SAFE_NO_PAD.decode(&genuine).unwrap();
    let at = raw.windows(4).position(|w| w == b"CB01").unwrap();
    raw[at + 3] = b'2';
    let altered = URL_SAFE_NO_PAD.encode(&raw);
    let mut flipped = genuine.clone().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    // forged: signed by a key nobody registered, under the genuine key's id
    let (forged, _) = token(&SigningKey::from_bytes(&[99; 32]), id, 0, SEED.officers[0]);
    // dated an hour ahead of the service's clock
    let (future, _) = token(&key, id, 3600, SEED.officers[0]);
    let (unknown_key, _) = token(&key, id + 1000, 0, SEED.officers[0]);
    // the genuine desk and key, another commune's facts
    let other_commune = {
        let nonce: [u8; 16] = rand::random();
        let at = u32::try_from(chrono::Utc::now().timestamp()).unwrap();
        let codes = [SEED.other_unit, SEED.other_officer, SEED.procedures[0]];
        let (mut body, message) = offline::unsigned(u32::try_from(id).unwrap(), at, &nonce, codes);
        body.extend_from_slice(&key.sign(&message).to_bytes());
        URL_SAFE_NO_PAD.encode(body)
    };
    let cut_short = genuine[..genuine.len() - 4].to_string();
    for bad in
        [&altered, &flipped, &forged, &future, &unknown_key, &other_commune, &cut_short, &"x".repeat(40)]
    {
        let r = app.get(&format!("/o/{bad}")).await;
        assert_eq!(r.status, 404, "{bad}: {}", r.body);
    }
    let r = app
        .post_json("/api/v1/desk/offline-issues", &json!({"tokens": [altered, forged, future, flipped]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let errors: Vec<_> = r.json()["results"].as_array().unwrap().iter().map(|x| x["error"].clone()).collect();
    assert_eq!(
        errors,
        vec![json!("not_found"), json!("not_found"), json!("future_token"), json!("not_found")]
    );
    assert_eq!(invitations(&app), 0, "a refused token wrote an invitation");
    assert_eq!(audited(&app, "invitation.issue_offline"), 0);

    // a revoked key: slips signed before the revocation still open, later ones are refused
    let (before, _) = token(&key, id, -60, SEED.officers[0]);
    let r = app.post(&format!("/api/v1/desk/keys/{id}/revoke")).as_staff(&admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["revoked_at"].is_string(), "{}", r.body);
    assert_eq!(audited(&app, "desk_key.revoke"), 1);
    let (after, _) = token(&key, id, 60, SEED.officers[0]);
    assert_eq!(app.get(&format!("/o/{after}")).await.status, 404);
    let r = app.post_json("/api/v1/desk/offline-issues", &json!({"tokens": [after]})).await;
    assert_eq!(r.json()["results"][0]["error"], "revoked_key", "{}", r.body);
    assert_eq!(app.get(&format!("/o/{before}")).await.status, 303);
    assert_eq!(invitations(&app), 1);

    // only admins list and revoke desk keys; bad bodies are 4xx in the documented shape
    let r = app.get("/api/v1/desk/keys").as_staff(&admin).await;
    assert_eq!(r.json()["desk_keys"][0]["id"], id, "{}", r.body);
    assert_eq!(app.get("/api/v1/desk/keys").with_key(&app.api_key(SEED.unit)).await.status, 403);
    assert_eq!(app.post("/api/v1/desk/keys/999999/revoke").as_staff(&admin).await.status, 404);
    for bad in [json!({"tokens": []}), json!({"tokens": "x"}), json!({"tokens": vec!["a"; 101]})] {
        let r = app.post_json("/api/v1/desk/offline-issues", &bad).await;
        assert!(r.status == 422 || r.status == 400, "{bad}: {}", r.status);
        assert!(r.json()["error"].is_string(), "{}", r.body);
    }
    let pairing = json!({"unit_code": SEED.unit, "name": "Quầy 2", "public_key": "not-a-key"});
    let r = app.post_json("/api/v1/desk/pairings", &pairing).as_staff(&admin).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_public_key");
}

#[actix_web::test]
async fn pairing_refuses_a_key_that_is_not_a_usable_ed25519_key_or_is_registered_already() {
    let app = TestApp::new().await;
    app.seed();
    let (_, key, admin) = pair(&app, [14; 32]).await;
    let api_keys = |app: &TestApp| count(&mut app.conn(), "SELECT count(*) AS n FROM api_keys");
    let before = api_keys(&app);
    let mut identity = [0u8; 32];
    identity[0] = 1; // the curve's neutral point: small order, its "signatures" prove nothing
    for bad in [
        "abc".to_string(),
        "!!!!".to_string(),
        URL_SAFE_NO_PAD.encode([7u8; 31]),
        URL_SAFE_NO_PAD.encode(identity),
    ] {
        let body = json!({"unit_code": SEED.unit, "name": "Quầy 3", "public_key": bad});
        let r = app.post_json("/api/v1/desk/pairings", &body).as_staff(&admin).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_public_key");
    }
    let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    let body = json!({"unit_code": SEED.unit, "name": "Quầy 4", "public_key": public});
    let r = app.post_json("/api/v1/desk/pairings", &body).as_staff(&admin).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "public_key_taken");
    // the refused pairings made no API key (the pairing and the desk key are one transaction)
    assert_eq!(api_keys(&app), before);
    assert_eq!(count(&mut app.conn(), "SELECT count(*) AS n FROM desk_keys"), 1);
    // a pairing without a public key still works; it signs nothing offline
    let r = app
        .post_json("/api/v1/desk/pairings", &json!({"unit_code": SEED.unit, "name": "Quầy 5"}))
        .as_staff(&admin)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.json()["desk_key_id"].is_null(), "{}", r.body);
}

#[actix_web::test]
async fn in_chromium_with_the_service_unreachable_the_desk_issues_a_slip_that_opens_once_online() {
    let app = TestApp::new().await;
    people(&app);
    let base = app.spawn_server();
    let out = run_script("desk-offline.mjs", &[&base, "admin", PASSWORD]).await;
    let mut conn = app.conn();
    // one invitation from the offline slip: made by the resident's scan, reconciled by the queue
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM invitations WHERE desk_key_id IS NOT NULL AND offline_record_at IS NOT NULL \
             AND officer_code = 'CB02'"
        ),
        1,
        "{out}"
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM invitations"), 1, "{out}");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM responses"), 1, "{out}");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'invitation.issue_offline' \
             AND details->>'arrived_by' = 'scan'"
        ),
        1,
        "{out}"
    );
    // the QR the desk drew in the browser reads back as the slip's address
    let url = out.lines().find_map(|l| l.strip_prefix("offline-url: ")).unwrap_or_else(|| panic!("{out}"));
    let png =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/desk-offline-qr.png"))
            .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the offline slip");
    assert_eq!(grids[0].decode().unwrap().1, url);
}
