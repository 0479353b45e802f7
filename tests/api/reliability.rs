//! Faults survived: the database stopping under load, the service killed with SIGKILL. Every
//! answer acknowledged with a 201 must be stored whole; no request may get a 5xx other than a
//! prompt 503, or hang.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::harness::{TestApp, http, wait_for};

const ANSWER: &str = r#"{"answers": {"CASE.OVERALL": 4, "TT01.I1": 2, "TT01.I3": 1}}"#;

/// What one request got: (token, status, how long it took).
type Outcome = (String, u16, Duration);

/// Posts one answer per token from `clients` threads until the tokens run out.
fn answer_all(addr: String, tokens: Vec<String>, clients: usize, pause: Duration) -> Vec<Outcome> {
    let queue = Arc::new(Mutex::new(tokens));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (queue, outcomes, addr) = (queue.clone(), outcomes.clone(), addr.clone());
            std::thread::spawn(move || {
                while let Some(token) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let started = Instant::now();
                    let (status, _) = http(
                        &addr,
                        "POST",
                        &format!("/api/v1/responses/{token}"),
                        &[("Content-Type", "application/json")],
                        ANSWER,
                    );
                    if let Ok(mut o) = outcomes.lock() {
                        o.push((token, status, started.elapsed()));
                    }
                    std::thread::sleep(pause);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    Arc::try_unwrap(outcomes).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Tokens whose response is stored with all three answers.
fn stored_whole(conn: &mut PgConnection) -> HashMap<String, i64> {
    crate::harness::answers_per_token(conn)
}

fn half_stored(conn: &mut PgConnection) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM responses r WHERE NOT EXISTS \
         (SELECT 1 FROM answers a WHERE a.response_id = r.id AND a.item_code = 'CASE.OVERALL')",
    )
    .get_result::<N>(conn)
    .unwrap()
    .n
}

#[actix_web::test]
async fn a_database_outage_under_load_gives_prompt_503s_and_loses_no_acknowledged_answer() {
    let (app, mut cluster) = TestApp::on_own_cluster(|c| {
        c.db_timeout_secs = 2;
        c.submission_limit = 100_000; // every request comes from 127.0.0.1
    })
    .await;
    let seed = app.seed();
    let tokens: Vec<String> = (0..300)
        .map(|i| app.insert_invitation(seed.unit, seed.officers[i % 2], seed.procedures[i % 4]).token)
        .collect();
    let base = app.spawn_server();
    let addr = base.trim_start_matches("http://").to_string();

    let (outcomes, health_during_outage) = actix_web::web::block(move || {
        let load = {
            let addr = addr.clone();
            std::thread::spawn(move || answer_all(addr, tokens, 8, Duration::from_millis(20)))
        };
        std::thread::sleep(Duration::from_millis(400));
        cluster.stop().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let health = http(&addr, "GET", "/healthz", &[], "").0;
        std::thread::sleep(Duration::from_secs(2));
        cluster.resume().unwrap();
        let outcomes = load.join().unwrap_or_default();
        assert!(wait_for(Duration::from_secs(20), || http(&addr, "GET", "/healthz", &[], "").0 == 200));
        // the tokens refused during the outage can answer now: nothing half-done blocks them
        let retried: Vec<String> = outcomes.iter().filter(|o| o.1 == 503).map(|o| o.0.clone()).collect();
        let retry = answer_all(addr.clone(), retried, 4, Duration::ZERO);
        (outcomes.into_iter().chain(retry).collect::<Vec<Outcome>>(), (health, cluster))
    })
    .await
    .unwrap();
    let (health, _cluster) = health_during_outage;

    assert_eq!(health, 503, "/healthz must report the outage");
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (_, status, _) in &outcomes {
        *by_status.entry(*status).or_default() += 1;
    }
    assert!(by_status.keys().all(|s| *s == 201 || *s == 503), "unexpected statuses: {by_status:?}");
    assert!(by_status.get(&503).copied().unwrap_or(0) > 0, "the outage was not seen: {by_status:?}");
    let slowest = outcomes.iter().map(|o| o.2).max().unwrap_or_default();
    assert!(slowest < Duration::from_secs(20), "a request hung for {slowest:?}");

    let acknowledged: Vec<&String> = outcomes.iter().filter(|o| o.1 == 201).map(|o| &o.0).collect();
    assert_eq!(acknowledged.len(), 300, "after the retry every token is answered: {by_status:?}");
    let stored = stored_whole(&mut app.conn());
    for token in acknowledged {
        assert_eq!(stored.get(token), Some(&3), "acknowledged answer for {token} is not stored whole");
    }
    assert_eq!(half_stored(&mut app.conn()), 0);
}

#[actix_web::test]
async fn the_service_killed_under_load_leaves_nothing_half_stored() {
    let (app, _cluster) = TestApp::on_own_cluster(|_| {}).await;
    let seed = app.seed();
    let key = app.api_key(seed.unit);
    // issued through the API, so the invitation counts reach the roll-ups the way they do in use
    let items: Vec<serde_json::Value> = (0..400)
        .map(|i| {
            serde_json::json!({"procedure_code": seed.procedures[i % 4], "officer_code": seed.officers[i % 2], "unit_code": seed.unit})
        })
        .collect();
    let batch = serde_json::json!({ "invitations": items });
    let issued = app.post_json("/api/v1/invitations/batch", &batch).with_key(&key).await.json();
    let tokens: Vec<String> = issued["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|i| i["invitation"]["token"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert_eq!(tokens.len(), 400, "{issued}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18556);
    let addr = format!("127.0.0.1:{port}");
    let url = app.url.clone();
    let today = sipas::kernel::time::local_day(chrono::Utc::now());
    let range = format!("from={}&to={today}", today - chrono::Duration::days(1));
    let queries: Vec<String> = ["none", "officer", "procedure", "field", "channel"]
        .iter()
        .flat_map(|g| {
            let range = range.clone();
            ["false", "true"].map(move |f| format!("{range}&group_by={g}&include_flagged={f}"))
        })
        .collect();
    let asked = queries.clone();
    let serve = move || {
        Command::new(env!("CARGO_BIN_EXE_sipas"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("SUBMISSION_LIMIT", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let bearer = format!("Bearer {key}");
    let (outcomes, after_restart) = actix_web::web::block(move || {
        let mut child = serve();
        assert!(wait_for(Duration::from_secs(30), || http(&addr, "GET", "/healthz", &[], "").0 == 200));
        let load = {
            let addr = addr.clone();
            std::thread::spawn(move || answer_all(addr, tokens, 8, Duration::from_millis(5)))
        };
        std::thread::sleep(Duration::from_millis(300));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let outcomes = load.join().unwrap_or_default();
        let mut again = serve();
        assert!(wait_for(Duration::from_secs(30), || http(&addr, "GET", "/healthz", &[], "").0 == 200));
        // the statistics the restarted service serves
        let after_restart: Vec<(u16, String)> = asked
            .iter()
            .map(|q| http(&addr, "GET", &format!("/api/v1/stats?{q}"), &[("Authorization", &bearer)], ""))
            .collect();
        let _ = again.kill();
        let _ = again.wait();
        (outcomes, after_restart)
    })
    .await
    .unwrap();

    let acknowledged: Vec<&String> = outcomes.iter().filter(|o| o.1 == 201).map(|o| &o.0).collect();
    assert!(!acknowledged.is_empty(), "no answer got through before the kill");
    assert!(
        outcomes.iter().all(|o| o.1 == 201 || o.1 == 0),
        "a request got neither 201 nor a dropped connection"
    );
    let stored = stored_whole(&mut app.conn());
    for token in &acknowledged {
        assert_eq!(stored.get(*token), Some(&3), "acknowledged answer for {token} is not stored whole");
    }
    assert_eq!(half_stored(&mut app.conn()), 0, "a response without its answers");
    assert!(stored.values().all(|n| *n == 3), "a response with only part of its answers");

    // the statistics after the restart equal a rebuild from the raw answers
    sipas::stats::rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    for (q, (status, served)) in queries.iter().zip(&after_restart) {
        assert_eq!(*status, 200, "{q}: {served}");
        let served: serde_json::Value = serde_json::from_str(served).unwrap_or_else(|e| panic!("{q}: {e}"));
        let rebuilt = app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await.json();
        assert_eq!(served, rebuilt, "after the restart and after a rebuild: {q}");
    }
    // (group_by=none, include_flagged=true: answers sent seconds after issue are flagged)
    let overall: serde_json::Value = serde_json::from_str(&after_restart[1].1).unwrap_or_default();
    assert_eq!(
        overall["groups"][0]["responses"].as_i64(),
        Some(stored.len() as i64),
        "the restarted service counts every stored response: {overall}"
    );
}
