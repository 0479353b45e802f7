//! Two service instances on one database under concurrent load, as a province would run them
//! behind a load balancer: each with its own pool, answer writers (group commit) and compactor.
//! Some tokens are raced across both instances at once. Nothing may be duplicated or lost: every
//! 201 is one stored response, no token has two, the number of 201s equals the stored responses,
//! and the roll-ups (what the statistics read) equal a rebuild from the raw answers.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use sipas::app::{self, AppState};
use sipas::config::Config;
use sipas::instrument::Instruments;
use sipas::stats::rollup;

use crate::harness::{TestApp, http};

fn config(c: &mut Config) {
    c.submission_limit = 100_000; // every request comes from 127.0.0.1
    c.integrity.min_seconds_to_answer = 0; // answered right after issue, yet not flagged too_fast
    c.db_pool_size = 6;
    c.answer_writers = 3;
}

/// A second instance of the service on the same database, with its own state; returns its address.
fn second_instance(app: &TestApp) -> String {
    let mut c = Config::default();
    config(&mut c);
    c.database_url = Some(app.url.clone());
    let instruments = Instruments::load_published().unwrap();
    let secret = app::prepare(&app.url, &c, &instruments).unwrap();
    let state = AppState::build(&app.url, c, instruments, secret);
    let answers = sipas::responses::committer::Committer::for_state(&state);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = sipas::router::run(listener, state, answers).unwrap();
    actix_web::rt::spawn(server);
    addr.to_string()
}

/// The answer of token number `i`: ratings and indicators vary, so the roll-ups have many cells.
fn answer(i: usize) -> String {
    format!(
        r#"{{"answers": {{"CASE.OVERALL": {}, "TT01.I1": {}, "TT01.I3": {}, "TT01.I7": {}}}}}"#,
        1 + i % 5,
        1 + i % 3,
        1 + i % 2,
        1 + usize::from(i.is_multiple_of(17))
    )
}

/// One post: (token index, instance, status).
type Post = (usize, usize, u16);

fn stats(addr: &str, key: &str, query: &str) -> serde_json::Value {
    let (status, body) = http(
        addr,
        "GET",
        &format!("/api/v1/stats?{query}"),
        &[("Authorization", &format!("Bearer {key}"))],
        "",
    );
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[actix_web::test]
async fn two_instances_under_load_store_every_acknowledged_answer_once() {
    let app = TestApp::with_config(config).await;
    let seed = app.seed();
    let key = app.api_key(seed.unit);
    const TOKENS: usize = 600;
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| app.insert_invitation(seed.unit, seed.officers[i % 2], seed.procedures[i % 4]).token)
        .collect();
    // the harness inserts invitations without counting them; count them now, so that what the
    // rebuild below is compared with is exactly what the two instances' answers added
    rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    let first = app.spawn_server().trim_start_matches("http://").to_string();
    let second = second_instance(&app);
    let instances = [first.clone(), second];

    // every third token is posted to both instances at once; the others to one, alternating
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    for i in 0..TOKENS {
        if i.is_multiple_of(3) {
            jobs.push((i, 0));
            jobs.push((i, 1));
        } else {
            jobs.push((i, i % 2));
        }
    }
    let tokens = Arc::new(tokens);
    let queue = Arc::new(Mutex::new(jobs));
    let posts: Arc<Mutex<Vec<Post>>> = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..24)
        .map(|_| {
            let (queue, posts, tokens, instances) =
                (queue.clone(), posts.clone(), tokens.clone(), instances.clone());
            std::thread::spawn(move || {
                // raced pairs sit next to each other in the queue, so two clients take them together
                while let Some((i, instance)) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let agent = format!("phone {i}");
                    let (status, body) = http(
                        &instances[instance],
                        "POST",
                        &format!("/api/v1/responses/{}", tokens[i]),
                        &[("Content-Type", "application/json"), ("User-Agent", &agent)],
                        &answer(i),
                    );
                    assert!(
                        status == 201 || status == 409,
                        "token {i} on instance {instance}: {status} {body}"
                    );
                    if let Ok(mut p) = posts.lock() {
                        p.push((i, instance, status));
                    }
                }
            })
        })
        .collect();
    actix_web::web::block(move || {
        for c in clients {
            c.join().unwrap_or_else(|_| panic!("a client thread panicked"));
        }
    })
    .await
    .unwrap();
    let posts = posts.lock().map(|p| p.clone()).unwrap_or_default();

    let mut created: HashMap<usize, usize> = HashMap::new();
    for (i, _, status) in &posts {
        if *status == 201 {
            *created.entry(*i).or_default() += 1;
        }
    }
    let by_instance = |n: usize| posts.iter().filter(|p| p.1 == n && p.2 == 201).count();
    assert!(by_instance(0) > 0 && by_instance(1) > 0, "both instances answered");
    assert_eq!(created.len(), TOKENS, "every token got its 201");
    assert!(created.values().all(|n| *n == 1), "a token got two 201s");
    assert!(posts.iter().any(|p| p.2 == 409), "no race was lost: the raced posts did not meet");

    use sipas::schema::responses;
    let mut conn = app.conn();
    let stored: HashMap<String, i64> = crate::harness::answers_per_token(&mut conn);
    let responses_n: i64 = responses::table.count().get_result(&mut conn).unwrap();
    assert_eq!(responses_n as usize, created.len(), "201s and stored responses differ");
    for (i, token) in tokens.iter().enumerate() {
        assert_eq!(stored.get(token), Some(&4), "token {i} is not stored whole, or twice");
    }

    // the roll-ups both instances wrote equal a rebuild from the raw answers
    let queries = [
        "from=2020-01-01&to=2030-12-31&group_by=officer&include_flagged=true",
        "from=2020-01-01&to=2030-12-31&group_by=procedure",
        "from=2020-01-01&to=2030-12-31&group_by=none",
    ];
    let incremental: Vec<_> = queries.iter().map(|q| stats(&first, &key, q)).collect();
    // every response is counted once: in the figures, or apart as flagged (bursts of top scores)
    let all = &incremental[2]["groups"][0];
    let counted = all["responses"].as_u64().unwrap_or(0) + all["flagged"].as_u64().unwrap_or(0);
    assert_eq!(counted, TOKENS as u64, "{all}");
    rollup::rebuild(&mut conn, &app.state.instruments).unwrap();
    for (q, before) in queries.iter().zip(&incremental) {
        let after = stats(&first, &key, q);
        assert!(&after == before, "after rebuild: {q}: {:?}", differences("", before, &after));
    }
}

/// The paths where two JSON documents differ, with both values.
fn differences(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differences(
                        &format!("{path}.{k}"),
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (p, q))| differences(&format!("{path}[{i}]"), p, q))
            .collect(),
        _ if a == b => Vec::new(),
        _ => vec![format!("{path}: {a} vs {b}")],
    }
}
