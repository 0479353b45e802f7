//! The foundation: health, errors, migrations, the questionnaire, master-data import, API keys,
//! and the embedded default that runs the service from nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use diesel::prelude::*;

use crate::fixtures::count;
use crate::harness::{SEED, TestApp, http, wait_for};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sipas")
}

/// Runs `sipas` with the test's database; returns (success, stdout, stderr).
fn sipas(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out =
        Command::new(bin()).args(args).env("DATABASE_URL", &app.url).env_remove("RUST_LOG").output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[actix_web::test]
async fn healthz_answers_200_in_json_when_the_database_is_reachable() {
    let app = TestApp::new().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["database"], "ok");
}

#[actix_web::test]
async fn healthz_answers_503_when_the_database_cannot_be_reached() {
    let mut app = TestApp::with_config(|c| c.db_timeout_secs = 1).await;
    app.state.pool = sipas::db::build_pool("postgres://nobody@127.0.0.1:1/none", 2, Duration::from_secs(1));
    let res = app.get("/healthz").await;
    assert_eq!(res.status, 503);
}

#[actix_web::test]
async fn unknown_addresses_get_a_json_404_and_security_headers() {
    let app = TestApp::new().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status, 404);
    let csp = res.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(res.headers.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"));
    let body = res.json();
    assert_eq!(body["error"], "not_found");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::new().await;
    app.get("/healthz").await;
    // only the monitoring system's own network reads the metrics (finding 14)
    for peer in ["203.0.113.9:5000", "[2001:db8::1]:5000"] {
        let refused = app.get("/metrics").peer(peer).await;
        assert_eq!(refused.status, 404, "{peer}");
        assert_eq!(refused.json()["error"], "not_found");
    }
    let forwarded = app.get("/metrics").peer("203.0.113.9:5000").header("x-forwarded-for", "127.0.0.1").await;
    assert_eq!(forwarded.status, 404);
    let res = app.get("/metrics").peer("127.0.0.1:9100").await;
    assert_eq!(res.status, 200);
    let text = res.body;
    assert!(
        text.contains(r#"sipas_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("sipas_db_pool_connections"), "{text}");
}

#[actix_web::test]
async fn the_openapi_document_is_served_and_documents_the_error_shape() {
    let app = TestApp::new().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["schemas"]["Error"]["required"], serde_json::json!(["error", "message"]));
    for path in ["/api/v1/invitations", "/api/v1/responses/{token}", "/api/v1/stats", "/healthz"] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
}

#[actix_web::test]
async fn migrations_run_all_up_all_down_and_all_up_again() {
    let app = TestApp::new().await;
    let mut conn = app.conn();
    let reverted = sipas::db::revert_all(&mut conn).unwrap();
    assert!(reverted >= 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'"
        ),
        0
    );
    let applied = sipas::db::migrate(&mut conn).unwrap();
    assert_eq!(applied, reverted);
    assert!(count(&mut conn, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'responses'") == 1);
}

#[actix_web::test]
async fn the_questionnaire_version_is_recorded_with_its_hash() {
    let app = TestApp::new().await;
    let current = app.state.instruments.current().clone();
    let mut conn = app.conn();
    use sipas::schema::instrument_versions as iv;
    let (sha, unverified): (String, bool) = iv::table
        .find((&current.meta.id, &current.meta.version))
        .select((iv::sha256, iv::has_unverified_items))
        .first(&mut conn)
        .unwrap();
    assert_eq!(sha, current.sha256);
    assert!(unverified);
}

#[actix_web::test]
async fn an_edited_published_version_stops_start_up() {
    let app = TestApp::new().await;
    let mut conn = app.conn();
    diesel::sql_query(format!("UPDATE instrument_versions SET sha256 = '{}'", "0".repeat(64)))
        .execute(&mut conn)
        .unwrap();
    let (ok, _, err) = sipas(&app, &["migrate"]);
    assert!(!ok);
    assert!(err.contains("must never be edited"), "{err}");
}

#[actix_web::test]
async fn a_broken_instrument_file_is_refused_naming_the_item_and_the_problem() {
    let published = include_str!("../../instruments/sipas-desk-2026.1.toml");
    let broken = published.replacen(
        "shown_if = { item = \"E5.GATE\", code = 1 }",
        "shown_if = { item = \"E5.GATES\", code = 1 }",
        1,
    );
    let (_dir, path) = write_temp("draft.toml", &broken);
    let out = Command::new(bin()).args(["instrument", "check"]).arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("item E5.1: `shown_if` names unknown item `E5.GATES`"), "{err}");
    let (_dir2, good) = write_temp("good.toml", published);
    let out = Command::new(bin()).args(["instrument", "check"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[actix_web::test]
async fn a_procedures_csv_with_a_bad_code_on_line_3_is_refused_and_stores_nothing() {
    let app = TestApp::new().await;
    let (_dir, path) = write_temp(
        "procedures.csv",
        "code,name,field_code,field_name\n1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch\n1.0011,Đăng ký kết hôn,HOTICH,Hộ tịch\n",
    );
    let (ok, _, err) = sipas(&app, &["import", "procedures", path.to_str().unwrap_or_default()]);
    assert!(!ok);
    assert!(err.contains("line 3, column 1 (code)"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let mut conn = app.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM procedures"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM fields"), 0);
}

#[actix_web::test]
async fn importing_again_updates_by_code_and_officers_need_an_existing_unit() {
    let app = TestApp::new().await;
    app.seed();
    let (_dir, units) =
        write_temp("units.csv", "code,name,province_code\nCHIEMHOA,UBND xã Chiêm Hóa (mới),08\n");
    let (ok, out, err) = sipas(&app, &["import", "units", units.to_str().unwrap_or_default()]);
    assert!(ok, "{err}");
    assert!(out.contains("0 new, 1 updated"), "{out}");
    let mut conn = app.conn();
    let name: String = sipas::schema::units::table
        .find("CHIEMHOA")
        .select(sipas::schema::units::name)
        .first(&mut conn)
        .unwrap();
    assert_eq!(name, "UBND xã Chiêm Hóa (mới)");

    let (_dir, officers) =
        write_temp("officers.csv", "code,name,unit_code\nCB09,Lý Văn Tú,CHIEMHOA\nCB10,Vi Thị Mai,NOWHERE\n");
    let (ok, _, err) = sipas(&app, &["import", "officers", officers.to_str().unwrap_or_default()]);
    assert!(!ok);
    assert!(err.contains("line 3, column 3 (unit_code): unit `NOWHERE` does not exist"), "{err}");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM officers WHERE code = 'CB09'"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log WHERE action = 'masterdata.import'"), 4);
}

#[actix_web::test]
async fn an_api_key_is_printed_once_stored_as_a_hash_and_can_be_revoked() {
    let app = TestApp::new().await;
    app.seed();
    let (ok, out, err) = sipas(&app, &["api-key", "create", "--unit", SEED.unit, "--name", "một cửa"]);
    assert!(ok, "{err}");
    let key = out.lines().last().unwrap_or_default().to_string();
    assert!(key.starts_with("sipas_"), "{out}");
    let mut conn = app.conn();
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM api_keys WHERE key_hash = '{}'",
                sipas::auth::apikeys::hash(&key)
            )
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM api_keys WHERE key_hash LIKE '%{key}%' OR name = '{key}'")
        ),
        0
    );
    let found = sipas::auth::apikeys::authenticate(&mut conn, &key).unwrap();
    let (id, unit) = found.expect("the new key authenticates");
    assert_eq!(unit, SEED.unit);
    let (ok, _, err) = sipas(&app, &["api-key", "revoke", &id.to_string()]);
    assert!(ok, "{err}");
    assert_eq!(sipas::auth::apikeys::authenticate(&mut conn, &key).unwrap(), None);
    let (ok, _, err) = sipas(&app, &["api-key", "create", "--unit", "NOWHERE"]);
    assert!(!ok && err.contains("NOWHERE"), "{err}");
}

#[actix_web::test]
async fn audit_rows_cannot_be_changed_or_deleted_even_by_the_service_user() {
    let app = TestApp::new().await;
    app.seed();
    let mut conn = app.conn();
    for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let e = diesel::sql_query(sql).execute(&mut conn).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    // three master-data imports, two export keys created and their two registrations
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_log"), 7);
}

#[actix_web::test]
async fn the_real_server_boots_on_a_free_port() {
    let app = TestApp::new().await;
    let base = app.spawn_server();
    let addr = base.trim_start_matches("http://").to_string();
    let (status, body) =
        actix_web::web::block(move || http(&addr, "GET", "/healthz", &[], "")).await.unwrap();
    assert_eq!(status, 200, "{body}");
}

fn postgres_running_in(dir: &Path) -> bool {
    let pid_file = dir.join("postgres/pgdata/postmaster.pid");
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// The README's run command on a machine with nothing configured: the service creates its own
/// PostgreSQL cluster, serves, stops it on SIGTERM, and reuses the data on the next start.
#[test]
fn the_embedded_default_runs_stops_cleanly_and_keeps_its_data() {
    let data = std::env::temp_dir().join(format!("sipas-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18555);
    let addr = format!("127.0.0.1:{port}");
    let serve = || {
        Command::new(bin())
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("DATA_DIR", &data)
            .env("BIND_ADDR", &addr)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let stop = |child: &mut std::process::Child| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let exited = wait_for(Duration::from_secs(20), || child.try_wait().ok().flatten().is_some());
        assert!(exited, "sipas did not stop within 20 s of SIGTERM");
    };

    let mut first = serve();
    assert!(
        wait_for(Duration::from_secs(60), || http(&addr, "GET", "/healthz", &[], "").0 == 200),
        "no 200 from /healthz"
    );
    stop(&mut first);
    assert!(!postgres_running_in(&data), "PostgreSQL was left running after SIGTERM");

    let units = data.join("units.csv");
    std::fs::write(&units, "code,name,province_code\nCHIEMHOA,UBND xã Chiêm Hóa,08\n").unwrap();
    let import = |expect: &str| {
        let out = Command::new(bin())
            .args(["import", "units"])
            .arg(&units)
            .env_remove("DATABASE_URL")
            .env("DATA_DIR", &data)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(expect), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    };
    import("1 new, 0 updated");

    let mut second = serve();
    assert!(
        wait_for(Duration::from_secs(60), || http(&addr, "GET", "/healthz", &[], "").0 == 200),
        "no 200 after restart"
    );
    stop(&mut second);
    assert!(!postgres_running_in(&data));
    // the unit imported between the two runs is still there: the data was reused
    import("0 new, 1 updated");
    assert!(!postgres_running_in(&data));
    let _ = std::fs::remove_dir_all(&data);
}

#[actix_web::test]
async fn request_logs_name_the_route_never_the_token_or_the_client() {
    let app = TestApp::new().await;
    let seed = app.seed();
    let invitation = app.insert_invitation(seed.unit, seed.officers[0], seed.procedures[0]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18557);
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(bin())
        .arg("serve")
        .env("DATABASE_URL", &app.url)
        .env("BIND_ADDR", &addr)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let token = invitation.token.clone();
    let logs = actix_web::web::block(move || {
        assert!(wait_for(Duration::from_secs(30), || http(&addr, "GET", "/healthz", &[], "").0 == 200));
        let (status, _) = http(&addr, "GET", &format!("/s/{token}?lang=en"), &[], "");
        assert_eq!(status, 200);
        http(&addr, "GET", "/nowhere/SECRETPATH", &[], "");
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stderr).to_string()
    })
    .await
    .unwrap();
    assert!(logs.contains("/s/{token}"), "the route pattern is logged: {logs}");
    assert!(!logs.contains(&invitation.token), "a survey token leaked into the logs");
    assert!(
        !logs.contains("SECRETPATH") && !logs.contains("client_ip") && !logs.contains("user_agent"),
        "{logs}"
    );
}

/// A refused request is the client's business: one `info` line with its route, status and
/// machine code, never a warning carrying the error twice (a flood of refused answers once wrote
/// a WARN line each, 130,000 in ten seconds); a visitor sent to the sign-in is no error either, nor
/// a request actix cannot parse (it wrote `ERROR stream error: request parse error` for each).
#[actix_web::test]
async fn refused_requests_log_one_info_line_each_with_their_code_and_no_warning() {
    use std::io::BufRead;
    use std::sync::{Arc, Mutex};

    let app = TestApp::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let url = app.url.clone();
    let (before, lines) = actix_web::web::block(move || {
        let mut child = Command::new(bin())
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("BIND_ADDR", &addr)
            .env("RUST_LOG", "info")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = lines.clone();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            })
        };
        assert!(wait_for(Duration::from_secs(30), || http(&addr, "GET", "/healthz", &[], "").0 == 200));
        // the line of the last health check is written after its answer: count from after it
        wait_for(Duration::from_secs(10), || {
            lines.lock().unwrap().iter().any(|l| l.contains(r#""http.status":200"#))
        });
        let before = lines.lock().unwrap().len();
        let json = [("Content-Type", "application/json")];
        for _ in 0..200 {
            let answer = r#"{"answers": {"CASE.OVERALL": 5}}"#;
            assert_eq!(http(&addr, "POST", "/api/v1/responses/AAAAAAAAAAAAAAAAAAAAAA", &json, answer).0, 404);
        }
        for _ in 0..50 {
            let text = [("Content-Type", "text/plain")];
            assert_eq!(
                http(&addr, "POST", "/api/v1/responses/AAAAAAAAAAAAAAAAAAAAAA", &text, "hello").0,
                415
            );
        }
        assert_eq!(http(&addr, "GET", "/dashboard", &[], "").0, 303);
        assert_eq!(http(&addr, "DELETE", "/healthz", &[], "").0, 405);
        // requests actix cannot parse (a space in a header name) are refused before any handler
        for _ in 0..20 {
            assert_eq!(http(&addr, "GET", "/healthz", &[("Bad Header", "x")], "").0, 400);
        }
        // the last request's line is written before the process stops
        wait_for(Duration::from_secs(10), || lines.lock().unwrap().len() >= before + 272);
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        let lines = lines.lock().unwrap().clone();
        (before, lines)
    })
    .await
    .unwrap();

    let after: Vec<serde_json::Value> = lines[before..]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let loud: Vec<&serde_json::Value> =
        after.iter().filter(|l| l["level"] == "WARN" || l["level"] == "ERROR").collect();
    assert!(loud.is_empty(), "refused requests logged warnings or errors: {loud:?}");
    let count = |status: u64, code: &str| {
        after
            .iter()
            .filter(|l| {
                l["level"] == "INFO"
                    && l["message"] == "request"
                    && l["http.status"] == status
                    && l["error.code"] == code
            })
            .count()
    };
    assert_eq!(count(404, "unknown_token"), 200, "{after:?}");
    assert_eq!(count(415, "unsupported_media_type"), 50);
    assert_eq!(count(303, "sign_in"), 1);
    assert_eq!(count(405, "method_not_allowed"), 1);
    assert_eq!(count(400, "malformed_request"), 20, "{after:?}");
    let requests = after.iter().filter(|l| l.get("http.status").is_some()).count();
    assert_eq!(requests, 272, "one line per request: {after:?}");
    let unknown = after.iter().find(|l| l["http.status"] == 404).unwrap();
    assert_eq!(unknown["http.route"], "/api/v1/responses/{token}", "the route pattern, never the token");
}

/// `src/schema.rs` is what diesel's `print-schema` writes from the migrations, and the code
/// compiles against it alone: a migration that changed a column without it (or the other way
/// round) would compile and fail on the first query. This compares the file with the database the
/// migrations build: every table, its primary key, and each column's name, order, type and
/// nullability.
#[actix_web::test]
async fn the_schema_file_matches_the_tables_the_migrations_build() {
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        udt_name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        nullable: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        primary: bool,
    }
    fn diesel_type(udt: &str) -> String {
        let base = |t: &str| match t {
            "int2" => "Int2",
            "int4" => "Int4",
            "int8" => "Int8",
            "text" => "Text",
            "bool" => "Bool",
            "bytea" => "Bytea",
            "date" => "Date",
            "timestamptz" => "Timestamptz",
            "jsonb" => "Jsonb",
            "float8" => "Float8",
            "uuid" => "Uuid",
            other => panic!("no diesel type known here for {other}"),
        };
        match udt.strip_prefix('_') {
            Some(element) => format!("Array<Nullable<{}>>", base(element)),
            None => base(udt).to_string(),
        }
    }
    type Tables = std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>;
    let app = TestApp::new().await;
    let mut conn = app.conn();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, c.is_nullable = 'YES' AS nullable, \
                EXISTS (SELECT 1 FROM information_schema.key_column_usage k \
                        JOIN information_schema.table_constraints t USING (constraint_schema, constraint_name) \
                        WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema \
                          AND k.table_name = c.table_name AND k.column_name = c.column_name) AS primary \
         FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '__diesel_schema_migrations' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .load(&mut conn)
    .unwrap();
    let mut database = Tables::new();
    for c in &columns {
        let (key, cols) = database.entry(c.table_name.clone()).or_default();
        if c.primary {
            key.push(c.column_name.clone());
        }
        let ty = diesel_type(&c.udt_name);
        cols.push(format!(
            "{} -> {}",
            c.column_name,
            if c.nullable { format!("Nullable<{ty}>") } else { ty }
        ));
    }
    // the file: `    name (key, ...) {` opens a table, `        column -> Type,` lists its columns
    let mut file = Tables::new();
    let mut current: Option<String> = None;
    for line in include_str!("../../src/schema.rs").lines() {
        let trimmed = line.trim();
        if let Some(name) = current.clone() {
            if trimmed == "}" {
                current = None;
            } else if !trimmed.starts_with('#') && !trimmed.starts_with("//") {
                file.get_mut(&name).unwrap().1.push(trimmed.trim_end_matches(',').to_string());
            }
        } else if line.starts_with("    ") && !line.starts_with("     ") && trimmed.ends_with(") {") {
            let (name, key) = trimmed.trim_end_matches(") {").split_once(" (").unwrap();
            let mut key: Vec<String> = key.split(',').map(|k| k.trim().to_string()).collect();
            // the database lists key columns in table order, print-schema in key order
            key.sort();
            file.insert(name.to_string(), (key, Vec::new()));
            current = Some(name.to_string());
        }
    }
    for (key, _) in database.values_mut() {
        key.sort();
    }
    assert!(file.len() >= 30, "{} tables read from src/schema.rs", file.len());
    for (name, (key, cols)) in &database {
        let Some((file_key, file_cols)) = file.get(name) else {
            panic!("table {name} is missing from src/schema.rs");
        };
        assert_eq!(file_key, key, "the primary key of {name}");
        assert_eq!(file_cols, cols, "the columns of {name}");
    }
    let extra: Vec<&String> = file.keys().filter(|t| !database.contains_key(*t)).collect();
    assert!(extra.is_empty(), "tables in src/schema.rs that the migrations do not build: {extra:?}");
}
