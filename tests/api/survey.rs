//! The resident's survey: the submission core through the JSON API and the HTML form, exactly
//! once under a race, the additions window, refusals that store nothing, the pages without
//! JavaScript, and the first screen's weight.

use diesel::prelude::*;
use serde_json::json;

use crate::fixtures::{count, stored};
use crate::harness::{Reply, SEED, TestApp, TestInvitation, http};

/// The JSON answers address of a token.
fn api(token: &str) -> String {
    format!("/api/v1/responses/{token}")
}

fn invitation(app: &TestApp) -> TestInvitation {
    app.insert_invitation(SEED.unit, SEED.officers[0], SEED.procedures[0])
}

fn responses(app: &TestApp) -> i64 {
    count(&mut app.conn(), "SELECT count(*) AS n FROM responses")
}

fn answers(app: &TestApp) -> i64 {
    count(&mut app.conn(), "SELECT count(*) AS n FROM answers")
}

fn exec(app: &TestApp, sql: &str) {
    diesel::sql_query(sql).execute(&mut app.conn()).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

// ---------------------------------------------------------------- the JSON API

#[actix_web::test]
async fn one_tap_stores_a_response_that_copies_the_invitation_and_hashes_the_client() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let r = app
        .post_json(&api(&inv.token), &json!({"answers": {"CASE.OVERALL": 5}}))
        .peer("203.0.113.7:40000")
        .header("user-agent", "Mozilla/5.0 (Linux; Android 8.1) CheapPhone")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let body = r.json();
    assert_eq!(body["status"], "created");
    assert_eq!(body["answered"], json!(["CASE.OVERALL"]));
    assert!(body["additions_until"].is_string());

    use sipas::schema::responses as r_;
    let row: (String, String, String, String, String, Option<String>, Option<String>) = r_::table
        .select((
            r_::unit_code,
            r_::officer_code,
            r_::procedure_code,
            r_::channel,
            r_::instrument_version,
            r_::client_hash,
            r_::device_hash,
        ))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(
        (row.0.as_str(), row.1.as_str(), row.2.as_str()),
        (SEED.unit, SEED.officers[0], SEED.procedures[0])
    );
    assert_eq!(row.3, "desk");
    assert_eq!(row.4, app.state.instruments.current().meta.version);
    let (client, device) = (row.5.unwrap_or_default(), row.6.unwrap_or_default());
    assert_eq!(client.len(), 64);
    assert_eq!(device.len(), 64);
    assert_ne!(client, device);
    for raw in ["203.0.113.7", "CheapPhone"] {
        let n = count(
            &mut app.conn(),
            &format!(
                "SELECT count(*) AS n FROM responses WHERE client_hash LIKE '%{raw}%' OR device_hash LIKE '%{raw}%'"
            ),
        );
        assert_eq!(n, 0, "raw {raw} stored");
    }
    assert_eq!(stored(&app), ["CASE.OVERALL=5"]);
}

#[actix_web::test]
async fn every_refused_answer_names_its_item_and_stores_nothing() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let cases = [
        (json!({"TT01.I1": 1}), "CASE.OVERALL", "missing_item"),
        (json!({}), "CASE.OVERALL", "missing_item"),
        (json!({"CASE.OVERALL": 5, "NOPE.1": 1}), "NOPE.1", "unknown_item"),
        (json!({"CASE.OVERALL": 6}), "CASE.OVERALL", "invalid_answer"),
        (json!({"CASE.OVERALL": 5, "TT01.I1": 7}), "TT01.I1", "invalid_answer"),
        (json!({"CASE.OVERALL": "5"}), "CASE.OVERALL", "invalid_answer"),
        (json!({"CASE.OVERALL": 5, "EXP": [1, 2, 3, 4]}), "EXP", "invalid_answer"),
        (json!({"CASE.OVERALL": 5, "EXP": [8]}), "EXP", "invalid_answer"),
        (json!({"CASE.OVERALL": 5, "COMMENT": "x".repeat(1001)}), "COMMENT", "invalid_answer"),
        (json!({"CASE.OVERALL": 5, "E5.1": 4}), "E5.1", "item_not_shown"),
        (json!({"CASE.OVERALL": 5, "E5.GATE": 2, "E5.2": 4}), "E5.2", "item_not_shown"),
    ];
    for (answers, item, code) in cases {
        let r = app.post_json(&api(&inv.token), &json!({ "answers": answers })).await;
        assert_eq!(r.status, 422, "{answers}: {}", r.body);
        let body = r.json();
        assert_eq!(body["error"], code, "{answers}");
        assert!(body["message"].as_str().unwrap_or("").contains(item), "{answers}: {body}");
    }
    assert_eq!((responses(&app), answers(&app)), (0, 0));

    // the same refusals on an addition leave the stored response untouched
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"CASE.OVERALL": 4}})).await;
    assert_eq!(r.status, 201);
    for (answers, item) in [
        (json!({"TT01.I1": 1, "EXP": [1, 2, 3, 4]}), "EXP"),
        (json!({"TT01.I1": 1, "E5.1": 5}), "E5.1"),
        (json!({"TT01.I1": 1, "COMMENT": "x".repeat(1001)}), "COMMENT"),
    ] {
        let r = app.post_json(&api(&inv.token), &json!({ "answers": answers })).await;
        assert_eq!(r.status, 422, "{answers}");
        assert!(r.json()["message"].as_str().unwrap_or("").contains(item));
    }
    assert_eq!(stored(&app), ["CASE.OVERALL=4"]);
}

#[actix_web::test]
async fn bodies_that_are_not_answers_are_refused_in_the_error_shape() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let too_big = json!({"answers": {"CASE.OVERALL": 5, "COMMENT": "x".repeat(17 * 1024)}});
    let r = app.post_json(&api(&inv.token), &too_big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json()["error"], "payload_too_large");
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"CASE.OVERALL": 5}, "token": "x"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap_or("").contains("token"));
    let r = app.post_json(&api(&inv.token), &json!({"answers": [5]})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.post(&api(&inv.token)).payload("application/json", "{\"answers\": {").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].is_string());
    assert_eq!((responses(&app), answers(&app)), (0, 0));
}

#[actix_web::test]
async fn unknown_and_expired_tokens_get_404_and_410() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let body = json!({"answers": {"CASE.OVERALL": 5}});
    for token in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "short", "has%20space-but-is-long-enough"] {
        let r = app.post_json(&api(token), &body.clone()).await;
        assert_eq!(r.status, 404, "{token}: {}", r.body);
        assert_eq!(r.json()["error"], "unknown_token");
    }
    exec(
        &app,
        &format!(
            "UPDATE invitations SET issued_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE id = {}",
            inv.id
        ),
    );
    let r = app.post_json(&api(&inv.token), &body).await;
    assert_eq!(r.status, 410, "{}", r.body);
    assert_eq!(r.json()["error"], "expired");
    assert_eq!(responses(&app), 0);
}

#[actix_web::test]
async fn additions_within_the_window_add_items_but_never_change_one() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    assert_eq!(app.post_json(&api(&inv.token), &json!({"answers": {"CASE.OVERALL": 2}})).await.status, 201);
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"TT01.I1": 3, "EXP": [4, 1]}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "added");
    assert_eq!(r.json()["answered"], json!(["CASE.OVERALL", "EXP", "TT01.I1"]));

    // a post that repeats an answered item is refused whole, naming it
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"TT01.I3": 1, "CASE.OVERALL": 5}})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "already_answered");
    assert!(r.json()["message"].as_str().unwrap_or("").contains("CASE.OVERALL"));
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"TT01.I1": 3}})).await;
    assert_eq!(r.status, 409, "the same value again is still a repeat");
    let r = app.post_json(&api(&inv.token), &json!({"answers": {}})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"], "no_answers");
    assert_eq!(stored(&app), ["CASE.OVERALL=2", "EXP=1,4", "TT01.I1=3"]);

    // the gate opens its statements
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"E5.GATE": 1}})).await;
    assert_eq!(r.status, 200);
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"E5.1": 4, "E5.3": 1}})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // once the window is over, the token is spent
    exec(&app, "UPDATE responses SET submitted_at = now() - interval '31 minutes'");
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"TT01.I4": 1}})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "spent");
    assert_eq!(responses(&app), 1);
    assert_eq!(answers(&app), 6);
    assert_eq!(
        count(&mut app.conn(), "SELECT count(*) AS n FROM responses WHERE last_added_at > submitted_at"),
        1
    );
}

/// A phone resends a post whose answer it never got while the first is still being stored, or
/// sends its additions before the first post's answer came back: the later post waits for the
/// invitation's lock, then must see the response the first one committed. The lock's statement
/// reads the response as it was before the wait (`responses::store::lock_invitation`), so this is
/// what its confirmation is for: the identical resend is "unchanged", not "already answered"; the
/// additions are added, not refused for lacking `CASE.OVERALL`; one response either way.
#[actix_web::test]
async fn a_post_that_waited_for_another_post_of_its_token_sees_the_response_that_one_stored() {
    use diesel::connection::SimpleConnection;
    use sipas::responses::model::{Effect, RawAnswers, Repeats};
    use sipas::responses::submit::{self, Limits, Submission};
    let app = TestApp::new().await;
    app.seed();
    let state = &app.state;
    let limits = Limits::new(&state.config, std::sync::Arc::new(Default::default()));
    let post = |token: &str, answers: serde_json::Value| Submission {
        token: token.to_string(),
        token_hash: sipas::kernel::survey_secrets::token_hash(&state.secret, token),
        answers: RawAnswers::Json(answers.as_object().cloned().unwrap_or_default()),
        client: sipas::http::client::ClientHashes::new(
            &state.secret,
            "203.0.113.9",
            "Mozilla/5.0 (Linux; Android 10; K)",
        ),
        from_desk_network: false,
        repeats: Repeats::IgnoreIdentical,
        now: chrono::Utc::now(),
    };
    // alone, and in a batch of the answer writers (group commit)
    for (later, expected, batch) in [
        (json!({"CASE.OVERALL": 5}), Effect::Unchanged, false),
        (json!({"TT01.I1": 2}), Effect::Added, false),
        (json!({"CASE.OVERALL": 5}), Effect::Unchanged, true),
        (json!({"TT01.I1": 2}), Effect::Added, true),
    ] {
        let inv = invitation(&app);
        // the first post is stored and not yet committed: its transaction holds the lock
        let mut first = app.conn();
        first.batch_execute("BEGIN").unwrap();
        let stored_first = submit::store_submission(
            &mut first,
            &state.instruments,
            &limits,
            &post(&inv.token, json!({"CASE.OVERALL": 5})),
        )
        .unwrap();
        assert_eq!(stored_first.effect, Effect::Created);
        let waiting = std::thread::scope(|scope| {
            let (mut conn, later_post, instruments, limits) =
                (app.conn(), post(&inv.token, later.clone()), &state.instruments, &limits);
            let waiter = scope.spawn(move || {
                if batch {
                    let mut results =
                        submit::submit_batch(&mut conn, instruments, limits, &[later_post], &[]).unwrap();
                    results.remove(0)
                } else {
                    submit::submit(&mut conn, instruments, limits, later_post)
                }
            });
            // the later post waits for the lock; then the first commits
            let mut watch = app.conn();
            let mut waited = false;
            for _ in 0..3000 {
                waited = count(
                    &mut watch,
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock'",
                ) == 1;
                if waited {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            first.batch_execute("COMMIT").unwrap();
            (waited, waiter.join().unwrap())
        });
        assert!(waiting.0, "the later post never waited for the lock");
        let outcome = waiting.1.unwrap_or_else(|r| panic!("{later}: refused: {r:?}"));
        assert_eq!(outcome.effect, expected, "{later}");
        assert_eq!(
            count(
                &mut app.conn(),
                &format!("SELECT count(*) AS n FROM responses WHERE invitation_id = {}", inv.id)
            ),
            1
        );
    }
    assert_eq!(stored(&app).iter().filter(|a| a.starts_with("CASE.OVERALL")).count(), 4);
}

#[actix_web::test]
async fn an_expired_invitation_still_takes_additions_to_its_response_within_the_window() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    assert_eq!(app.post_json(&api(&inv.token), &json!({"answers": {"CASE.OVERALL": 4}})).await.status, 201);
    exec(
        &app,
        "UPDATE invitations SET issued_at = now() - interval '8 days', expires_at = now() - interval '1 minute'",
    );
    let r = app.post_json(&api(&inv.token), &json!({"answers": {"TT01.I1": 1}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn submissions_are_rate_limited_per_client_in_the_database() {
    let app = TestApp::with_config(|c| c.submission_limit = 3).await;
    app.seed();
    let from = |token: &str, ip: &str| {
        app.post_json(&api(token), &json!({"answers": {"CASE.OVERALL": 4}})).peer(&format!("{ip}:1234"))
    };
    for _ in 0..3 {
        let inv = invitation(&app);
        assert_eq!(from(&inv.token, "198.51.100.1").await.status, 201);
    }
    let inv = invitation(&app);
    let r = from(&inv.token, "198.51.100.1").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["error"], "rate_limited");
    assert_eq!(responses(&app), 3);
    // the survey form says so kindly, in a page
    let r = app
        .post(&format!("/s/{}?step=QUICK", inv.token))
        .peer("198.51.100.1:1234")
        .payload("application/x-www-form-urlencoded", "CASE.OVERALL=4")
        .await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Có quá nhiều lượt gửi từ mạng này"), "{}", r.body);
    assert_eq!(responses(&app), 3);
    // another network is not held back, and the counters hold hashes only
    assert_eq!(from(&inv.token, "198.51.100.2").await.status, 201);
    assert_eq!(
        count(
            &mut app.conn(),
            "SELECT count(*) AS n FROM submission_limits WHERE client_hash ~ '^[0-9a-f]{64}$'"
        ),
        2
    );
}

#[actix_web::test]
async fn forty_simultaneous_first_answers_store_exactly_one_response() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = app.spawn_server();
    let addr = base.trim_start_matches("http://").to_string();
    let path = format!("/api/v1/responses/{}", inv.token);
    let statuses = actix_web::web::block(move || {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(40));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let (barrier, addr, path) = (barrier.clone(), addr.clone(), path.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let json = [("Content-Type", "application/json")];
                    http(&addr, "POST", &path, &json, r#"{"answers": {"CASE.OVERALL": 5, "TT01.I1": 1}}"#).0
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or(0)).collect::<Vec<u16>>()
    })
    .await
    .unwrap();
    let created = statuses.iter().filter(|&&s| s == 201).count();
    let conflicts = statuses.iter().filter(|&&s| s == 409).count();
    assert_eq!((created, conflicts), (1, 39), "statuses: {statuses:?}");
    assert_eq!(responses(&app), 1);
    assert_eq!(stored(&app), ["CASE.OVERALL=5", "TT01.I1=1"]);
}

// ---------------------------------------------------------------- the pages

/// Every `href`/`src`/`action` value of a page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap_or(0)].replace("&#38;", "&").replace("&amp;", "&"));
        }
    }
    out
}

/// The subresources a page loads (stylesheets, scripts, images), not its links.
fn subresources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let name = tag.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or("");
        let attr = match name {
            "link" if tag.contains("rel=\"stylesheet\"") || tag.contains("rel=\"icon\"") => "href=\"",
            "script" | "img" | "source" | "iframe" => "src=\"",
            _ => continue,
        };
        if let Some(i) = tag.find(attr) {
            let rest = &tag[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap_or(0)].replace("&#38;", "&").replace("&amp;", "&"));
        }
    }
    out
}

#[actix_web::test]
async fn the_first_screen_is_one_vietnamese_question_with_five_buttons_that_need_no_script() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let r = app.get(&format!("/s/{}", inv.token)).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/html"));
    assert_eq!(r.header("cache-control"), "no-store");
    let html = r.body;
    assert!(html.contains("<html lang=\"vi\""));
    assert!(html.contains("Nhìn chung, Ông/Bà hài lòng thế nào với việc giải quyết hồ sơ hôm nay?"));
    assert_eq!(html.matches("type=\"submit\" name=\"CASE.OVERALL\"").count(), 5);
    for level in ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    {
        assert!(html.contains(&format!("<span>{level}</span>")), "{level}");
    }
    assert!(html.contains(&format!("<form method=\"post\" action=\"/s/{}?step=QUICK\">", inv.token)));
    assert!(html.contains("<fieldset") && html.contains("<legend>"));
    // the only script (read aloud) is deferred from our origin; the form posts without it
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script src=\"/static/survey.js?v=") && html.contains("defer></script>"));
    assert!(!html.contains("onclick") && !html.contains("Nghe đọc</button>"), "no button before the script");
    assert!(!html.contains("style=") && !html.contains("<style"), "the CSP forbids inline styles");
    assert!(!html.contains("TT01.I1"), "the first screen asks one question");
}

#[actix_web::test]
async fn the_first_screen_weighs_under_30_kb_and_loads_nothing_from_another_origin() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let page = format!("/s/{}", inv.token);
    let fetch = |path: &str, gzip: bool| {
        let call = app.get(path);
        if gzip { call.header("accept-encoding", "gzip") } else { call }
    };
    let mut raw = 0usize;
    let mut gzipped = 0usize;
    let r = fetch(&page, false).await;
    let html = r.body.clone();
    raw += html.len();
    let res = fetch(&page, true).await;
    assert_eq!(res.headers.get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    gzipped += res.bytes.len();
    for reference in references(&html) {
        assert!(
            reference.starts_with('/') && !reference.starts_with("//") || reference.starts_with("data:"),
            "a reference leaves the origin: {reference}"
        );
    }
    let subs = subresources(&html);
    assert!(subs.iter().any(|s| s.starts_with("/static/survey.css")), "{subs:?}");
    for sub in subs.iter().filter(|s| !s.starts_with("data:")) {
        let r = fetch(sub, false).await;
        assert_eq!(r.status, 200, "{sub}");
        raw += r.body.len();
        let res = fetch(sub, true).await;
        gzipped += res.bytes.len();
    }
    eprintln!("first screen: {raw} bytes uncompressed, {gzipped} bytes gzip ({} subresources)", subs.len());
    assert!(raw < 30 * 1024, "the first screen weighs {raw} bytes even before compression");
    assert!(gzipped < raw);
}

#[actix_web::test]
async fn vietnamese_unless_the_resident_taps_english_and_the_switches_work_without_script() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    // phones set to English, Vietnamese listed or not: still Vietnamese until the resident taps
    for accept in ["en-US,vi;q=0.8", "en-GB,en;q=0.9", "en"] {
        let html = app.get(&format!("/s/{}", inv.token)).header("accept-language", accept).await.body;
        assert!(html.contains("<html lang=\"vi\""), "{accept}");
        assert!(html.contains("Nhìn chung, Ông/Bà hài lòng thế nào"), "{accept}");
        assert!(html.contains(&format!("href=\"/s/{}?lang=en\"", inv.token)), "the tap to English");
    }
    let html = app.get(&format!("/s/{}?lang=en", inv.token)).header("accept-language", "vi").await.body;
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Overall, how satisfied are you with how your case was handled today?"));
    assert!(html.contains("<span>Very satisfied</span>"));
    assert!(html.contains(&format!("action=\"/s/{}?step=QUICK&#38;lang=en\"", inv.token)));
    assert!(html.contains(&format!("href=\"/s/{}?lang=vi\"", inv.token)), "a switch back to Vietnamese");
    // the choice is remembered on the token until the resident taps back
    let html = app.get(&format!("/s/{}", inv.token)).await.body;
    assert!(html.contains("<html lang=\"en\""), "the tap on English is remembered");
    let html = app.get(&format!("/s/{}?lang=vi", inv.token)).await.body;
    assert!(html.contains("<html lang=\"vi\""));
    // the large-text switch is a plain link
    let html = app.get(&format!("/s/{}", inv.token)).await.body;
    let big = format!("/s/{}?size=l", inv.token);
    assert!(html.contains(&format!("href=\"{big}\"")));
    let html = app.get(&big).await.body;
    assert!(html.contains("<html lang=\"vi\" class=\"big\">"));
    assert!(html.contains(&format!("action=\"/s/{}?step=QUICK&#38;size=l\"", inv.token)));
}

#[actix_web::test]
async fn later_screens_say_where_the_resident_is_and_the_thanks_page_says_what_happens_next() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    let first = app.get(&base).await.body;
    assert!(!first.contains("Bước "), "the one-tap screen stays bare");
    let next = location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "4")]).await);
    let html = app.get(&next).await.body;
    assert!(html.contains("Bước 2/10"), "{html}");
    assert!(html.contains("Các câu đã trả lời đã được lưu. Ông/Bà có thể dừng bất cứ lúc nào."));
    let html = app.get(&format!("{base}?step=E3&lang=en")).await.body;
    assert!(html.contains("Step 6/10") && html.contains("You may stop at any time."), "{html}");
    let html = app.get(&format!("{base}?step=done&lang=vi")).await.body;
    assert!(html.contains("Cảm ơn Ông/Bà!"));
    assert!(html.contains("<h2 class=\"next-h\">Tiếp theo</h2>"));
    assert!(html.contains("để lãnh đạo xã xem xét, cải thiện và báo cáo lên tỉnh hằng quý"));
    assert!(!html.contains("Câu trả lời sẽ hiện tại chính địa chỉ này"), "no reply was asked for");

    // asked for a reply: the thank-you page says where it will appear
    let other = app.insert_invitation(SEED.unit, SEED.officers[1], SEED.procedures[1]);
    let base = format!("/s/{}", other.token);
    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "2")]).await);
    location(
        &app.post_form(&format!("{base}?step=MORE"), &[("COMMENT", "Chờ lâu"), ("REPLY.WANTED", "1")]).await,
    );
    let html = app.get(&format!("{base}?step=done")).await.body;
    assert!(html.contains("Câu trả lời sẽ hiện tại chính địa chỉ này"), "{html}");
}

#[actix_web::test]
async fn a_reply_posted_five_minutes_after_the_first_answer_shows_at_once_on_every_screen() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "1")]).await);
    location(
        &app.post_form(
            &format!("{base}?step=MORE"),
            &[("COMMENT", "Phải đi lại ba lần"), ("REPLY.WANTED", "1")],
        )
        .await,
    );
    exec(&app, "UPDATE responses SET submitted_at = now() - interval '5 minutes'");
    let html = app.get(&format!("{base}?step=E1")).await.body;
    assert!(!html.contains("Trả lời của cơ quan"), "no reply yet");

    let list = app.get("/api/v1/followups").with_key(&key).await.json();
    let id = list["followups"][0]["id"].as_i64().unwrap();
    let reply = "Xin lỗi Ông/Bà. Từ tuần sau <b>hồ sơ</b> được nhận đủ trong một lần.";
    let r = app
        .post_json(&format!("/api/v1/followups/{id}/reply"), &json!({"message": reply}))
        .with_key(&key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // still inside the additions window: every screen shows it at the top, as text
    for path in
        [base.clone(), format!("{base}?step=E1"), format!("{base}?step=SIPAS"), format!("{base}?step=done")]
    {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        let html = &r.body;
        let at = html.find("Trả lời của cơ quan").unwrap_or_else(|| panic!("{path}: no reply\n{html}"));
        assert!(at < html.find("<h1").unwrap(), "{path}: the reply is not at the top");
        assert!(html.contains("Từ tuần sau &#60;b&#62;hồ sơ&#60;/b&#62; được nhận"), "{path}");
        assert_eq!(html.matches("Trả lời của cơ quan").count(), 1, "{path}");
    }
    // a refused form on a later screen keeps it too
    let r = app
        .post_form(&format!("{base}?step=MORE"), &[("EXP", "1"), ("EXP", "2"), ("EXP", "3"), ("EXP", "4")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Trả lời của cơ quan"));
}

/// Follows a 303 and returns the next address.
fn location(r: &Reply) -> String {
    assert_eq!(r.status, 303, "expected a redirect, got {}: {}", r.status, r.body);
    r.header("location").to_string()
}

#[actix_web::test]
async fn a_resident_answers_every_screen_with_plain_forms() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);

    let next = location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "4")]).await);
    assert_eq!(next, format!("{base}?step=CASE"));
    let html = app.get(&next).await.body;
    assert!(html.contains("Bước 2/10"), "progress is shown");
    assert_eq!(html.matches("type=\"radio\" name=\"TT01.I1\"").count(), 3);
    let next = location(
        &app.post_form(
            &next,
            &[("TT01.I1", "1"), ("TT01.I3", "1"), ("TT01.I4", ""), ("TT01.I7", "1"), ("go", "next")],
        )
        .await,
    );
    assert_eq!(next, format!("{base}?step=SIPAS"));
    let html = app.get(&next).await.body;
    assert!(html.contains(&format!("href=\"{base}?step=E1\"")), "continue");
    assert!(html.contains(&format!("href=\"{base}?step=MORE\"")), "skip the part");
    assert!(html.contains(&format!("href=\"{base}?step=done\"")), "finish");

    let next = location(&app.post_form(&format!("{base}?step=E1"), &[("E1.1", "5"), ("go", "next")]).await);
    assert_eq!(next, format!("{base}?step=E2"));
    // skipping a screen is a plain link to the next one
    let html = app.get(&next).await.body;
    assert!(html.contains(&format!("href=\"{base}?step=E3\"")));
    let next = location(&app.post_form(&format!("{base}?step=E4"), &[("go", "next")]).await);
    assert_eq!(next, format!("{base}?step=E5"), "an empty screen is a skip");
    let html = app.get(&next).await.body;
    assert!(html.contains("E5.GATE") && !html.contains("name=\"E5.1\""), "the gate is asked alone");
    let next = location(&app.post_form(&next, &[("E5.GATE", "1")]).await);
    assert_eq!(next, format!("{base}?step=E5-2"));
    let html = app.get(&next).await.body;
    assert!(html.contains("name=\"E5.1\"") && html.contains("name=\"E5.3\""));
    let next = location(&app.post_form(&next, &[("E5.1", "3"), ("E5.2", "4")]).await);
    assert_eq!(next, format!("{base}?step=MORE"));
    let html = app.get(&next).await.body;
    assert!(html.contains("xin đừng ghi họ tên, số điện thoại"), "the comment warns against personal data");
    assert!(html.contains("<script src=\"/static/survey.js?v="), "the optional script helps here");
    let next = location(
        &app.post_form(
            &next,
            &[
                ("EXP", "2"),
                ("EXP", "5"),
                ("EXP", "10"),
                ("COMMENT", "Cán bộ nhiệt tình <b>lắm</b>"),
                ("REPLY.WANTED", "2"),
            ],
        )
        .await,
    );
    assert_eq!(next, format!("{base}?step=ABOUT"));
    let next = location(&app.post_form(&next, &[("D.AGE", "5"), ("D.ETHNIC", "2"), ("go", "finish")]).await);
    assert_eq!(next, format!("{base}?step=done"));
    let r = app.get(&next).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Cảm ơn Ông/Bà!"));

    assert_eq!(
        stored(&app),
        [
            "CASE.OVERALL=4",
            "COMMENT=Cán bộ nhiệt tình <b>lắm</b>",
            "D.AGE=5",
            "D.ETHNIC=2",
            "E1.1=5",
            "E5.1=3",
            "E5.2=4",
            "E5.GATE=1",
            "EXP=2,5,10",
            "REPLY.WANTED=2",
            "TT01.I1=1",
            "TT01.I3=1",
            "TT01.I7=1",
        ]
    );
    // the stored comment is shown escaped
    let html = app.get(&format!("{base}?step=MORE")).await.body;
    assert!(html.contains("Cán bộ nhiệt tình &#60;b&#62;lắm&#60;/b&#62;"), "{html}");
}

#[actix_web::test]
async fn a_double_tap_on_the_first_screen_just_continues() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    let first = location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "5")]).await);
    let again = location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "5")]).await);
    assert_eq!(first, again);
    // a second tap on another face does not change the answer, and still continues
    let other = location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "1")]).await);
    let r = app.get(&other).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("TT01.I1"), "{other} continues at the case screen");
    assert_eq!(stored(&app), ["CASE.OVERALL=5"]);
    assert_eq!(responses(&app), 1);
}

#[actix_web::test]
async fn a_form_sent_again_after_back_adds_only_what_is_new() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "3")]).await);
    location(&app.post_form(&format!("{base}?step=CASE"), &[("TT01.I1", "2")]).await);
    let next =
        location(&app.post_form(&format!("{base}?step=CASE"), &[("TT01.I1", "2"), ("TT01.I3", "3")]).await);
    assert_eq!(next, format!("{base}?step=SIPAS"));
    assert_eq!(stored(&app), ["CASE.OVERALL=3", "TT01.I1=2", "TT01.I3=3"]);
    // the screen shows what was recorded instead of asking again
    let html = app.get(&format!("{base}?step=CASE")).await.body;
    assert!(html.contains("Đã ghi nhận: <strong>Đúng ngày hẹn</strong>"), "{html}");
    assert!(!html.contains("name=\"TT01.I1\""));
}

#[actix_web::test]
async fn a_refused_form_shows_the_screen_again_with_the_problem_and_stores_nothing() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    // the first screen sent without a face
    let r = app.post_form(&format!("{base}?step=QUICK"), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("role=\"alert\"") && r.body.contains("Xin chọn một mức hài lòng."));
    let r = app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "9")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(responses(&app), 0);

    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "4")]).await);
    let r = app
        .post_form(
            &format!("{base}?step=MORE&lang=en"),
            &[("EXP", "1"), ("EXP", "2"), ("EXP", "3"), ("EXP", "4"), ("COMMENT", "kept")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("role=\"alert\""));
    assert!(r.body.contains("href=\"#q-EXP\""), "the message leads to the question");
    assert!(r.body.contains("class=\"q invalid\" id=\"q-EXP\""));
    assert!(r.body.contains(">kept</textarea>"), "what was typed is kept");
    assert!(r.body.contains("value=\"4\" checked"));
    assert!(r.body.contains("<html lang=\"en\""));
    assert_eq!(stored(&app), ["CASE.OVERALL=4"]);
}

#[actix_web::test]
async fn unknown_and_expired_addresses_get_kind_pages_that_reveal_nothing() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    for path in ["/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/s/x", "/s/%3Cscript%3E"] {
        let r = app.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.header("content-type").starts_with("text/html"));
        assert!(r.body.contains("Không tìm thấy phiếu khảo sát"));
        assert!(!r.body.contains("<script>") && !r.body.contains("<form"));
    }
    let r = app.post_form("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?step=QUICK", &[("CASE.OVERALL", "5")]).await;
    assert_eq!(r.status, 404);
    exec(
        &app,
        "UPDATE invitations SET issued_at = now() - interval '8 days', expires_at = now() - interval '1 day'",
    );
    let r = app.get(&format!("/s/{}", inv.token)).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("Phiếu khảo sát đã hết hạn"));
    for secret in [SEED.unit, SEED.officers[0], SEED.procedures[0], "Nguyễn Thị Lan"] {
        assert!(!r.body.contains(secret), "the page reveals {secret}");
    }
    let r = app.post_form(&format!("/s/{}?step=QUICK", inv.token), &[("CASE.OVERALL", "5")]).await;
    assert_eq!(r.status, 410);
    assert_eq!(responses(&app), 0);
}

#[actix_web::test]
async fn reopening_an_answered_survey_continues_where_it_left_off_then_thanks() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "5")]).await);
    location(&app.post_form(&format!("{base}?step=E2"), &[("E2.1", "5")]).await);
    let html = app.get(&base).await.body;
    assert!(html.contains("name=\"E3.1\""), "continues at E3");
    // the first screen cannot be answered again; the gated screen needs its gate
    assert_eq!(location(&app.get(&format!("{base}?step=QUICK")).await), format!("{base}?step=E3"));
    assert_eq!(location(&app.get(&format!("{base}?step=E5-2")).await), format!("{base}?step=MORE"));
    exec(&app, "UPDATE responses SET submitted_at = now() - interval '31 minutes'");
    for path in [base.clone(), format!("{base}?step=E3")] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("Cảm ơn Ông/Bà!"), "{path}");
    }
    // a late form goes to the thank-you page and stores nothing
    let next = location(&app.post_form(&format!("{base}?step=E3"), &[("E3.1", "5")]).await);
    assert_eq!(next, format!("{base}?step=done"));
    assert_eq!(answers(&app), 2);
}

#[actix_web::test]
async fn static_files_are_served_with_a_strong_etag_and_long_caching() {
    let app = TestApp::new().await;
    let css = sipas::http::assets::href("survey.css");
    let r = app.get(&css).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/css"));
    assert_eq!(r.header("cache-control"), "public, max-age=31536000, immutable");
    let etag = r.header("etag").to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert_eq!(app.get(&css).header("if-none-match", &etag).await.status, 304);
    let r = app.get("/static/survey.js").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/javascript"));
    assert_eq!(r.header("cache-control"), "public, max-age=3600");
}

// ---------------------------------------------------------------- more languages

/// A service with the test translation (tests/translations: a marked copy of the Vietnamese,
/// not a real translation) loaded beside the published questionnaire.
async fn with_test_translation() -> TestApp {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/translations");
    TestApp::with_config(|c| c.translations_dir = Some(dir)).await
}

#[actix_web::test]
async fn a_third_language_is_offered_remembered_on_the_token_and_falls_back_to_vietnamese_text_by_text() {
    let app = with_test_translation().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    let html = app.get(&base).await.body;
    assert!(html.contains("<html lang=\"vi\""), "Vietnamese until the resident chooses");
    assert!(
        html.contains(&format!("<a href=\"{base}?lang=tay\" lang=\"tay\" hreflang=\"tay\">Tày (TEST)</a>")),
        "{html}"
    );
    assert!(html.contains(&format!("<a href=\"{base}?lang=en\" lang=\"en\" hreflang=\"en\">English</a>")));

    let html = app.get(&format!("{base}?lang=tay")).await.body;
    assert!(html.contains("<html lang=\"tay\""));
    assert!(html.contains("[TEST-tay] Nhìn chung, Ông/Bà hài lòng thế nào"));
    assert!(html.contains("<span>[TEST-tay] Rất hài lòng</span>"));
    assert!(html.contains(&format!("href=\"{base}?lang=vi\" lang=\"vi\" hreflang=\"vi\">Tiếng Việt</a>")));
    // the hint is not in the file: Vietnamese, not a blank
    assert!(html.contains("Chạm một lựa chọn là đã gửi ý kiến."));
    let remembered: Option<String> = sipas::schema::invitations::table
        .find(inv.id)
        .select(sipas::schema::invitations::lang)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(remembered.as_deref(), Some("tay"), "the choice is remembered on the token");
    // opened again without the parameter, from the same slip: still Tày
    let html = app.get(&base).await.body;
    assert!(html.contains("<html lang=\"tay\"") && html.contains("[TEST-tay] Nhìn chung"));

    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "4")]).await);
    let html = app.get(&format!("{base}?step=CASE")).await.body;
    assert!(html.contains("<h1>[TEST-tay] Về hồ sơ của Ông/Bà</h1>"));
    assert!(html.contains("[TEST-tay] Đúng ngày hẹn"));
    assert!(html.contains(">[TEST-tay] Gửi và tiếp tục</button>"));
    assert!(html.contains(">Bỏ qua trang này</a>"), "a word the file does not give is Vietnamese");
    assert!(html.contains("Bước 2/10"));
    let html = app.get(&format!("{base}?step=E1")).await.body;
    assert!(html.contains("<h1>Tiếp cận dịch vụ hành chính công</h1>"), "a missing title is Vietnamese");
    assert!(html.contains("[TEST-tay] "));
    // never a blank: every screen of the plan has text in every heading, question and option
    for step in ["CASE", "SIPAS", "E1", "E2", "E3", "E4", "E5", "MORE", "ABOUT", "done"] {
        let html = app.get(&format!("{base}?step={step}")).await.body;
        for empty in [
            "<h1></h1>",
            "<legend></legend>",
            "<span></span>",
            "<label class=\"qtext\" for=\"i-COMMENT\"></label>",
        ] {
            assert!(!html.contains(empty), "{step}: {empty}");
        }
        assert!(html.contains("<html lang=\"tay\""), "{step}");
    }
    // an answer is stored as its code, whatever the language
    location(&app.post_form(&format!("{base}?step=CASE"), &[("TT01.I1", "2")]).await);
    assert_eq!(stored(&app), ["CASE.OVERALL=4", "TT01.I1=2"]);
    // a tap back to Vietnamese is remembered too
    let html = app.get(&format!("{base}?step=E1&lang=vi")).await.body;
    assert!(html.contains("<html lang=\"vi\""));
    assert!(app.get(&base).await.body.contains("<html lang=\"vi\""));
    // a language the version does not offer is ignored, and not stored
    assert!(app.get(&format!("{base}?lang=xyz")).await.body.contains("<html lang=\"vi\""));

    // the slip prints its one line in the version's languages
    let slip = app.get(&format!("/slips/{}", inv.token)).await.body;
    assert!(
        slip.contains("lang=\"tay\">[TEST-tay] Xin cho biết mức độ hài lòng: chưa đến 1 phút, ẩn danh.</p>"),
        "{slip}"
    );
}

#[actix_web::test]
async fn without_translations_only_vietnamese_and_english_are_offered() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let html = app.get(&format!("/s/{}?lang=tay", inv.token)).await.body;
    assert!(html.contains("<html lang=\"vi\"") && !html.contains("lang=tay"));
    assert!(!app.get(&format!("/slips/{}", inv.token)).await.body.contains("lang=\"tay\""));
}

#[actix_web::test]
async fn a_published_translation_that_was_edited_is_refused_at_start_up() {
    let app = with_test_translation().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/translations");
    let text = std::fs::read_to_string(dir.join("sipas-desk-2026.1.tay.toml")).unwrap();
    let mut instruments = sipas::instrument::Instruments::load_published().unwrap();
    instruments.add_translation("edited.toml", &text.replace("Tày (TEST)", "Tày (TEST, edited)")).unwrap();
    let err = sipas::app::prepare(&app.url, &app.state.config, &instruments).unwrap_err();
    assert!(err.contains("translation tay of sipas-desk 2026.1") && err.contains("never be edited"), "{err}");
}

#[actix_web::test]
async fn sipas_statements_can_be_passed_one_by_one_and_a_pass_stores_nothing() {
    let app = TestApp::new().await;
    app.seed();
    let inv = invitation(&app);
    let base = format!("/s/{}", inv.token);
    location(&app.post_form(&format!("{base}?step=QUICK"), &[("CASE.OVERALL", "4")]).await);
    let html = app.get(&format!("{base}?step=E1")).await.body;
    assert!(html.contains("class=\"one\""), "a screen of statements");
    assert!(html.contains(&format!("data-answers=\"/api/v1/responses/{}\"", inv.token)));
    assert!(html.contains("<input type=\"radio\" name=\"E1.1\" value=\"\"><span>Bỏ qua câu này</span>"));
    let html = app.get(&format!("{base}?step=CASE")).await.body;
    assert!(
        !html.contains("class=\"one\"") && !html.contains("Bỏ qua câu này"),
        "the case screen stays whole"
    );
    let next = location(
        &app.post_form(&format!("{base}?step=E1"), &[("E1.1", ""), ("E1.2", "5"), ("E1.3", "")]).await,
    );
    assert_eq!(next, format!("{base}?step=E2"));
    assert_eq!(stored(&app), ["CASE.OVERALL=4", "E1.2=5"]);
    let html = app.get(&format!("{base}?step=E1")).await.body;
    assert!(html.contains("class=\"q done\" id=\"q-E1.2\""), "an answered statement folds");
}
