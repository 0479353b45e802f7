//! The province drills (issue 18): a primary with a synchronous standby, the primary's postmaster
//! killed with `kill -9` under load, the standby promoted, the service riding through without a
//! restart; reads from the hot standby (`DATABASE_READ_URL`) once it has replayed.
//!
//! The promotion here is `pg_ctl promote`, which is what the failover manager of
//! `deploy/` (pg_auto_failover) runs on the standby once it has decided the primary is gone; the
//! time the manager takes to decide is its own setting and is measured separately
//! (BENCHMARKS.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::harness::{TestApp, http, wait_for};

const ANSWER: &str = r#"{"answers": {"CASE.OVERALL": 4, "TT01.I1": 2, "TT01.I3": 1}}"#;

/// One request of the drill: the token, the status, when it was sent (since the start of the
/// load) and how long it took.
#[derive(Debug, Clone)]
struct Attempt {
    token: String,
    status: u16,
    sent: Duration,
    took: Duration,
}

/// `clients` threads answer every token; a 503 is retried after `retry_pause` (as a phone
/// would, after Retry-After), anything else ends that token. Every attempt is recorded.
fn answer_with_retries(
    addr: String,
    tokens: Vec<String>,
    clients: usize,
    retry_pause: Duration,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Attempt> {
    let queue = Arc::new(Mutex::new(tokens));
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (queue, attempts, addr, stop) = (queue.clone(), attempts.clone(), addr.clone(), stop.clone());
            std::thread::spawn(move || {
                while let Some(token) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    loop {
                        let sent = start.elapsed();
                        let t = Instant::now();
                        let (status, _) = http(
                            &addr,
                            "POST",
                            &format!("/api/v1/responses/{token}"),
                            &[("Content-Type", "application/json")],
                            ANSWER,
                        );
                        if let Ok(mut a) = attempts.lock() {
                            a.push(Attempt { token: token.clone(), status, sent, took: t.elapsed() });
                        }
                        if status != 503 || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep(retry_pause);
                    }
                    // a resident answers, then reads the thank-you page: a little pause per client
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    Arc::try_unwrap(attempts).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Tokens whose response is stored, with how many answers it holds.
fn stored(conn: &mut PgConnection) -> HashMap<String, i64> {
    crate::harness::answers_per_token(conn)
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

/// Issues `n` invitations through the API (so their counts reach the roll-ups as in use).
async fn issue(app: &TestApp, key: &str, n: usize) -> Vec<String> {
    let seed = crate::harness::SEED;
    let mut tokens = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(400) {
        let items: Vec<serde_json::Value> = chunk
            .iter()
            .map(|i| {
                serde_json::json!({"procedure_code": seed.procedures[i % 4], "officer_code": seed.officers[i % 2], "unit_code": seed.unit})
            })
            .collect();
        let issued = app
            .post_json("/api/v1/invitations/batch", &serde_json::json!({ "invitations": items }))
            .with_key(key)
            .await;
        assert_eq!(issued.status, 200, "{}", issued.body);
        let json = issued.json();
        tokens.extend(
            json["results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["invitation"]["token"].as_str().map(str::to_string)),
        );
    }
    assert_eq!(tokens.len(), n);
    tokens
}

/// The statistics queries compared with a rebuild after the drill.
fn stats_queries() -> Vec<String> {
    let today = sipas::kernel::time::local_day(chrono::Utc::now());
    let range = format!("from={}&to={today}", today - chrono::Duration::days(1));
    ["none", "officer", "procedure", "field", "channel"]
        .iter()
        .flat_map(|g| {
            let range = range.clone();
            ["false", "true"].map(move |f| format!("{range}&group_by={g}&include_flagged={f}"))
        })
        .collect()
}

#[actix_web::test]
async fn the_primary_killed_under_load_fails_over_to_the_sync_standby_and_loses_no_acknowledged_answer() {
    let (app, mut pair) = TestApp::on_replicated_cluster(false, |c| {
        c.db_timeout_secs = 2;
        c.submission_limit = 1_000_000; // every request comes from 127.0.0.1
    })
    .await;
    app.seed();
    let key = app.api_key(crate::harness::SEED.unit);
    let tokens = issue(&app, &key, 1600).await;
    let base = app.spawn_server();
    let addr = base.trim_start_matches("http://").to_string();

    // 64 residents answering
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            answer_with_retries(addr, tokens, 64, Duration::from_millis(250), start, stop)
        })
    };
    // kill once the load is under way but far from done, however fast the machine is: a fixed
    // delay let a quiet machine answer all 1600 before the kill, and the outage went unseen
    let before_kill = loop {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        let n = count(&mut app.conn(), "SELECT count(*) AS n FROM responses");
        if n >= 16 {
            break n;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no answer was stored before the kill");
    };
    assert!(before_kill < 1600, "the load finished before the kill: {before_kill}");

    // the primary's machine dies
    pair = actix_web::web::block(move || {
        pair.primary.kill_postmaster().unwrap();
        pair
    })
    .await
    .unwrap();
    let killed_at = start.elapsed();

    // before the standby is promoted: a prompt 503 with Retry-After, and /healthz says why
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    let asked = Instant::now();
    let health = app.get("/healthz").await;
    assert!(asked.elapsed() < Duration::from_secs(8), "/healthz hung for {:?}", asked.elapsed());
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.header("retry-after"), "5");
    assert_eq!(health.json()["database"], "unreachable", "{}", health.body);
    let asked = Instant::now();
    let refused = app.get("/api/v1/stats?from=2026-01-01&to=2026-12-31").with_key(&key).await;
    assert!(asked.elapsed() < Duration::from_secs(8), "a request hung for {:?}", asked.elapsed());
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), "5");
    assert_eq!(refused.json()["error"], "unavailable");

    // the failover manager promotes the synchronous standby
    let pair = actix_web::web::block(move || {
        pair.standby.promote().unwrap();
        pair
    })
    .await
    .unwrap();
    let promoted_at = start.elapsed();

    let attempts = actix_web::web::block(move || load.join().unwrap_or_default()).await.unwrap();
    stop.store(true, Ordering::Relaxed);

    // what every request got
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for a in &attempts {
        *by_status.entry(a.status).or_default() += 1;
    }
    eprintln!("failover drill: statuses {by_status:?}");
    assert!(
        by_status.keys().all(|s| [201, 409, 503].contains(s)),
        "only 201, 503 (outage) and 409 (stored, its 201 lost with the primary) may happen: {by_status:?}"
    );
    assert!(by_status.get(&503).copied().unwrap_or(0) > 0, "the outage was not seen: {by_status:?}");
    let slowest = attempts.iter().map(|a| a.took).max().unwrap_or_default();
    assert!(slowest < Duration::from_secs(10), "a request took {slowest:?}: a 503 must be prompt");

    // the first 201 of a request sent after the kill
    let first_after = attempts
        .iter()
        .filter(|a| a.status == 201 && a.sent > killed_at)
        .map(|a| a.sent + a.took)
        .min()
        .expect("no 201 after the failover: the service did not find the new primary");
    let to_first_201 = first_after - killed_at;
    let after_promotion = first_after.saturating_sub(promoted_at);
    eprintln!(
        "failover drill: kill -9 → promoted {:.2} s, kill → first 201 {:.2} s (promotion → first 201 {:.2} s); {} answers before the kill, {} attempts",
        (promoted_at - killed_at).as_secs_f64(),
        to_first_201.as_secs_f64(),
        after_promotion.as_secs_f64(),
        before_kill,
        attempts.len()
    );
    if let Ok(path) = std::env::var("SIPAS_DRILL_REPORT") {
        let _ = std::fs::write(
            path,
            format!(
                "promotion_s={:.2}\nfirst_201_after_kill_s={:.2}\nfirst_201_after_promotion_s={:.2}\n",
                (promoted_at - killed_at).as_secs_f64(),
                to_first_201.as_secs_f64(),
                after_promotion.as_secs_f64()
            ),
        );
    }
    assert!(
        after_promotion < Duration::from_secs(10),
        "201 again only {after_promotion:?} after the promotion"
    );

    // every 201 is on the new primary, whole; every token is answered once
    let mut new_primary = PgConnection::establish(&pair.standby_url).unwrap();
    let in_recovery: bool =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>("pg_is_in_recovery()"))
            .get_result(&mut new_primary)
            .unwrap();
    assert!(!in_recovery, "the standby was not promoted");
    let on_new_primary = stored(&mut new_primary);
    let acknowledged: Vec<&Attempt> = attempts.iter().filter(|a| a.status == 201).collect();
    for a in &acknowledged {
        assert_eq!(
            on_new_primary.get(&a.token),
            Some(&3),
            "acknowledged answer {} is not on the new primary",
            a.token
        );
    }
    // a 409 only for a token whose earlier attempt got a 503: stored on both, its 201 lost
    for a in attempts.iter().filter(|a| a.status == 409) {
        assert!(
            attempts.iter().any(|b| b.token == a.token && b.status == 503 && b.sent < a.sent),
            "409 for {} without an earlier 503",
            a.token
        );
        assert_eq!(on_new_primary.get(&a.token), Some(&3));
    }
    let answered: std::collections::HashSet<&str> =
        attempts.iter().filter(|a| a.status != 503).map(|a| a.token.as_str()).collect();
    assert_eq!(answered.len(), 1600, "every token ends answered: {by_status:?}");
    assert_eq!(on_new_primary.len(), 1600, "every token is stored on the new primary");
    assert_eq!(
        count(
            &mut new_primary,
            "SELECT count(*) AS n FROM (SELECT invitation_id FROM responses GROUP BY 1 HAVING count(*) > 1) d"
        ),
        0,
        "an invitation with two responses"
    );
    assert!(on_new_primary.values().all(|n| *n == 3), "a response with only part of its answers");

    // the statistics the service serves from the new primary equal a rebuild from the raw answers
    let queries = stats_queries();
    let mut served = Vec::new();
    for q in &queries {
        let r = app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        served.push(r.json());
    }
    sipas::stats::rollup::rebuild(&mut new_primary, &app.state.instruments).unwrap();
    for (q, served) in queries.iter().zip(&served) {
        let rebuilt = app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await.json();
        assert_eq!(served, &rebuilt, "after the failover and after a rebuild: {q}");
    }
    assert_eq!(served[1]["groups"][0]["responses"].as_i64(), Some(1600), "{}", served[1]);
    assert_eq!(served[1]["groups"][0]["invitations"].as_i64(), Some(1600), "{}", served[1]);
    let health = app.get("/healthz").await;
    assert_eq!(health.status, 200, "{}", health.body);
    drop(pair);
}

#[actix_web::test]
async fn the_dashboard_reads_from_the_standby_and_shows_answers_once_replayed() {
    let (app, mut pair) = TestApp::on_replicated_cluster(true, |c| c.submission_limit = 100_000).await;
    let seed = app.seed();
    let key = app.api_key(seed.unit);
    let tokens = issue(&app, &key, 12).await;
    let (cookie, _) = app.session("lanhdao", &sipas::auth::Scope::Leader { unit: seed.unit.to_string() });
    let today = sipas::kernel::time::local_day(chrono::Utc::now());
    let stats = format!("/api/v1/stats?from={today}&to={today}&include_flagged=true");
    let dashboard = format!("/dashboard?period=custom&from={today}&to={today}");
    // until the standby has replayed everything the primary has written so far
    let wait_replayed = |pair: &crate::harness::Replicated| {
        let written = pair.primary.psql("postgres", "SELECT pg_current_wal_lsn()").unwrap();
        wait_for(Duration::from_secs(20), || {
            pair.standby
                .psql("postgres", &format!("SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn"))
                .is_ok_and(|v| v == "t")
        })
    };
    assert!(wait_replayed(&pair));

    // replay paused on the standby: answers are acknowledged (flushed there) but not yet visible
    pair.standby.psql("postgres", "SELECT pg_wal_replay_pause()").unwrap();
    for t in &tokens[..8] {
        let r = app.post(&format!("/api/v1/responses/{t}")).payload("application/json", ANSWER).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let on_primary = count(
        &mut PgConnection::establish(&pair.primary_url).unwrap(),
        "SELECT count(*) AS n FROM responses",
    );
    assert_eq!(on_primary, 8);
    let read = app.get(&stats).with_key(&key).await.json();
    assert_eq!(
        read["groups"][0]["responses"].as_i64().unwrap_or(0),
        0,
        "read from the paused standby: {read}"
    );
    // once it is more than a few seconds behind, the dashboard says so
    actix_web::rt::time::sleep(Duration::from_millis(6500)).await;
    let page = app.get(&dashboard).as_staff(&cookie).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"replica-lag\""), "no lag notice on the dashboard");
    assert!(page.body.contains("Số liệu đang chậm khoảng"), "{}", page.body);
    let health = app.get("/healthz").await.json();
    assert_eq!(health["replica"], "ok", "{health}");
    assert!(health["replica_lag_seconds"].as_f64().unwrap_or(0.0) > 5.0, "{health}");

    // replay resumes: the standby shows the answers, and the notice goes
    pair.standby.psql("postgres", "SELECT pg_wal_replay_resume()").unwrap();
    assert!(wait_replayed(&pair));
    let read = app.get(&stats).with_key(&key).await.json();
    assert_eq!(read["groups"][0]["responses"].as_i64(), Some(8), "{read}");
    let page = app.get(&dashboard).as_staff(&cookie).await;
    assert!(!page.body.contains("id=\"replica-lag\""), "a lag notice on an up-to-date replica");
    // the same figures the primary computes
    let replica_view = read.clone();
    let health = app.get("/healthz").await.json();
    assert_eq!(health["replica_lag_seconds"].as_f64(), Some(0.0), "{health}");

    // the replica stops (the primary no longer waits for it, as pg_auto_failover's
    // wait_primary state does): reads go to the primary, with the same figures, and writes go on
    pair.primary.release_sync_standby().unwrap();
    pair.standby.stop().unwrap();
    for t in &tokens[8..] {
        let r = app.post(&format!("/api/v1/responses/{t}")).payload("application/json", ANSWER).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let read = app.get(&stats).with_key(&key).await.json();
    assert_eq!(read["groups"][0]["responses"].as_i64(), Some(12), "{read}");
    assert_eq!(read["groups"][0]["invitations"], replica_view["groups"][0]["invitations"]);
    let health = app.get("/healthz").await;
    assert_eq!(health.status, 200, "the primary still answers: {}", health.body);
    assert_eq!(health.json()["replica"], "unreachable");
}

/// Runs one of `deploy/`'s scripts the way the runbook says: as the PostgreSQL user (when this
/// process is root, the clusters run as `postgres`).
fn deploy_script(name: &str, args: &[&str]) -> String {
    let script = format!("{}/deploy/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = if nix::unistd::Uid::effective().is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", &script]);
        c
    } else {
        std::process::Command::new(&script)
    };
    let out = cmd.args(args).current_dir("/").output().unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        out.status.success(),
        "{name} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A folder the PostgreSQL user may write (owned by it when this process is root).
fn postgres_folder(path: &std::path::Path) {
    std::fs::create_dir_all(path).unwrap();
    if nix::unistd::Uid::effective().is_root()
        && let Ok(Some(pg)) = nix::unistd::User::from_name("postgres")
    {
        std::os::unix::fs::chown(path, Some(pg.uid.as_raw()), Some(pg.gid.as_raw())).unwrap();
    }
}

#[actix_web::test]
async fn a_base_backup_and_the_wal_archive_restore_the_answers_and_statistics_of_a_point_in_time() {
    let root = std::env::temp_dir().join(format!(
        "sipas-restore-{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let (archive, backups, restored_dir) =
        (root.join("archive"), root.join("backups"), root.join("restored"));
    postgres_folder(&root);
    postgres_folder(&backups);
    postgres_folder(&restored_dir);
    let (app, cluster) = TestApp::on_archiving_cluster(&archive, &root.join("primary")).await;
    let seed = app.seed();
    let key = app.api_key(seed.unit);
    let tokens = issue(&app, &key, 300).await;
    for t in &tokens[..120] {
        assert_eq!(answer_on(&app, t).await, 201);
    }

    // the nightly base backup, as the runbook takes it
    let socket = cluster.socket_dir().display().to_string();
    let backup = actix_web::web::block({
        let (backups, socket) = (backups.display().to_string(), socket.clone());
        move || {
            deploy_script(
                "sipas-backup",
                &[&backups, "-h", &socket, "-p", "5432", "-U", sipas::db::cluster::DB_USER],
            )
        }
    })
    .await
    .unwrap();

    // answers after the backup, up to the point in time we will restore to
    for t in &tokens[120..200] {
        assert_eq!(answer_on(&app, t).await, 201);
    }
    let queries = stats_queries();
    let mut at_target = Vec::new();
    for q in &queries {
        at_target.push(app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await.json());
    }
    let stored_at_target = stored(&mut app.conn());
    assert_eq!(stored_at_target.len(), 200);
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let target = diesel::sql_query(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t",
    )
    .get_result::<Now>(&mut app.conn())
    .unwrap()
    .t;
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;

    // later answers, which the restore must not bring back; then the segment is archived
    for t in &tokens[200..260] {
        assert_eq!(answer_on(&app, t).await, 201);
    }
    let archived_before: String =
        cluster.psql("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").unwrap();
    let switched = cluster.psql("postgres", "SELECT pg_walfile_name(pg_switch_wal())").unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || cluster
            .psql("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            .is_ok_and(|w| w >= switched)),
        "the WAL segment {switched} was not archived (before: {archived_before})"
    );
    drop(app);
    drop(cluster); // the primary is gone

    // the restore, as the runbook does it: a new data folder, then PostgreSQL started on it
    let pgdata = restored_dir.join("pgdata");
    actix_web::web::block({
        let (backup, archive, pgdata, target) =
            (backup.clone(), archive.display().to_string(), pgdata.display().to_string(), target.clone());
        move || deploy_script("sipas-restore", &[&backup, &archive, &pgdata, &target])
    })
    .await
    .unwrap();
    let restored =
        sipas::db::cluster::Cluster::start(&sipas::db::cluster::ClusterOptions::new(&restored_dir))
            .unwrap_or_else(|e| panic!("the restored cluster does not start: {e}"));
    assert!(
        wait_for(Duration::from_secs(60), || restored
            .psql("postgres", "SELECT pg_is_in_recovery()")
            .is_ok_and(|v| v == "f")),
        "the restored cluster did not finish its recovery"
    );
    let app = TestApp::on_url(&restored.url(sipas::db::cluster::DB_NAME)).await;
    let stored_after = stored(&mut app.conn());
    assert_eq!(stored_after, stored_at_target, "the restored responses are not exactly those of {target}");
    for (q, then) in queries.iter().zip(&at_target) {
        let now = app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await.json();
        assert_eq!(&now, then, "the restored statistics differ from those of {target}: {q}");
    }
    sipas::stats::rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    for (q, then) in queries.iter().zip(&at_target) {
        let rebuilt = app.get(&format!("/api/v1/stats?{q}")).with_key(&key).await.json();
        assert_eq!(&rebuilt, then, "restored and rebuilt: {q}");
    }
    // the restored service takes answers again
    assert_eq!(answer_on(&app, &tokens[299]).await, 201);
    drop(app);
    drop(restored);
    let _ = std::fs::remove_dir_all(&root);
}

async fn answer_on(app: &TestApp, token: &str) -> u16 {
    app.post(&format!("/api/v1/responses/{token}")).payload("application/json", ANSWER).await.status
}
