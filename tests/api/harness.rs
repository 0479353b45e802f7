//! Test harness: each test gets its own database, cloned from a migrated template, on either
//! `TEST_DATABASE_URL` / `DATABASE_URL` (any PostgreSQL where we may create databases) or a
//! throwaway cluster started here from the machine's PostgreSQL binaries (Unix socket, no fsync)
//! and removed when the test process exits.

use std::cell::OnceCell;
use std::future::{Future, IntoFuture};
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::test as awt;
use diesel::prelude::*;
use rand::{Rng, RngExt};
use serde::Serialize;
use sipas::app::{self, AppState};
use sipas::config::Config;
use sipas::db::cluster::{Cluster, ClusterOptions};
use sipas::instrument::Instruments;
use sipas::kernel::survey_secrets;
use sipas::responses::committer::Committer;
use sipas::router::build_app;

/// Where the test databases live, set up once per test process.
struct Shared {
    /// URL of a maintenance database on the server (for CREATE/DROP DATABASE).
    admin_url: String,
    /// Builds a URL for a database name on the same server.
    url_prefix: UrlShape,
    template: String,
    /// Kept alive for the whole process; the watchdog stops it after the process exits.
    _cluster: Option<Cluster>,
}

enum UrlShape {
    /// `postgres://user@host:port/` + name (+ query)
    Tcp {
        base: String,
        query: String,
    },
    Socket(ClusterUrl),
}

struct ClusterUrl(Box<dyn Fn(&str) -> String + Send + Sync>);

impl UrlShape {
    fn url(&self, db: &str) -> String {
        match self {
            UrlShape::Tcp { base, query } => format!("{base}{db}{query}"),
            UrlShape::Socket(f) => (f.0)(db),
        }
    }
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let external = std::env::var("TEST_DATABASE_URL").ok().or_else(|| std::env::var("DATABASE_URL").ok());
        let (admin_url, url_prefix, cluster) = match external {
            Some(url) => {
                let (base, rest) = url
                    .rsplit_once('/')
                    .unwrap_or_else(|| panic!("TEST_DATABASE_URL `{url}` has no database"));
                let query = rest.find('?').map(|i| rest[i..].to_string()).unwrap_or_default();
                (url.clone(), UrlShape::Tcp { base: format!("{base}/"), query }, None)
            }
            None => {
                let dir = std::env::temp_dir().join(format!("sipas-test-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                let options =
                    ClusterOptions { durable: false, max_connections: 300, ..ClusterOptions::new(&dir) };
                let cluster =
                    Cluster::start(&options).unwrap_or_else(|e| panic!("cannot start a test cluster: {e}"));
                spawn_watchdog(&dir);
                let admin = cluster.url("postgres");
                let socket = cluster.socket_dir().to_path_buf();
                let shape = UrlShape::Socket(ClusterUrl(Box::new(move |db| {
                    format!(
                        "postgres://{}@/{db}?host={}&port=5432",
                        sipas::db::cluster::DB_USER,
                        socket.display()
                    )
                })));
                (admin, shape, Some(cluster))
            }
        };
        let template = format!("sipas_tmpl_{}_{}", std::process::id(), rand::rng().random_range(0..u32::MAX));
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("{admin_url}: {e}"));
        drop_stale_databases(&mut admin);
        diesel::sql_query(format!("CREATE DATABASE {template}")).execute(&mut admin).unwrap();
        let url = url_prefix.url(&template);
        let instruments = Instruments::load_published().unwrap();
        app::prepare(&url, &Config::default(), &instruments).unwrap();
        // a template must have no connections when it is copied
        diesel::sql_query(format!("ALTER DATABASE {template} WITH ALLOW_CONNECTIONS false"))
            .execute(&mut admin)
            .unwrap();
        Shared { admin_url, url_prefix, template, _cluster: cluster }
    })
}

/// Stops the throwaway cluster and removes its folder once this test process has exited (a
/// static is never dropped, so the process cannot do it itself).
fn spawn_watchdog(dir: &std::path::Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         pid=$(head -1 '{d}/pgdata/postmaster.pid' 2>/dev/null); [ -n \"$pid\" ] && kill -QUIT \"$pid\"; \
         sleep 1; rm -rf '{d}'",
        pid = std::process::id(),
        d = dir.display()
    );
    let spawned = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("warning: no watchdog for the test cluster: {e}");
    }
}

/// Drops databases left behind by test processes that no longer exist (external servers only
/// keep them; a throwaway cluster is new every run).
fn drop_stale_databases(admin: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Db {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let dbs: Vec<Db> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'sipas\\_t%'")
        .load(admin)
        .unwrap_or_default();
    for db in dbs {
        let pid = db.datname.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid
            .is_some_and(|p| p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.datname))
                .execute(admin);
        }
    }
}

/// One test's database and application state. Dropping it drops the database.
pub struct TestApp {
    pub state: AppState,
    /// The answer writers of this test's application.
    pub answers: Committer,
    pub db_name: String,
    pub url: String,
    /// The in-process application, built from `state` by the first request (see [`TestApp::service`]).
    service: OnceCell<Service>,
}

/// The in-process application behind one [`TestApp`]: sends a request, reads the whole answer.
type Service = Rc<dyn Fn(actix_http::Request) -> Pin<Box<dyn Future<Output = Reply>>>>;

/// Master data every test can rely on after [`TestApp::seed`].
#[derive(Debug, Clone)]
pub struct Seed {
    /// The commune under test and its desk officers.
    pub unit: &'static str,
    pub officers: [&'static str; 2],
    /// A second commune with one officer.
    pub other_unit: &'static str,
    pub other_officer: &'static str,
    /// Procedures: birth registration (civil status), marriage (civil status), certified copy
    /// (certification), land (land).
    pub procedures: [&'static str; 4],
}

pub const SEED: Seed = Seed {
    unit: "CHIEMHOA",
    officers: ["CB01", "CB02"],
    other_unit: "KIMBINH",
    other_officer: "KB01",
    procedures: ["1.001193", "1.000894", "2.000815", "1.004227"],
};

/// A raw invitation row made by [`TestApp::insert_invitation`].
#[derive(Debug, Clone)]
pub struct TestInvitation {
    pub id: i64,
    pub token: String,
    pub code: String,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    /// A fresh database; `adjust` changes the default configuration first.
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let shared = shared();
        let db_name = format!("sipas_t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&shared.admin_url).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {db_name} TEMPLATE {}", shared.template))
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("cannot clone the template: {e}"));
        let url = shared.url_prefix.url(&db_name);
        let mut config = Config { db_pool_size: 8, db_timeout_secs: 5, ..Config::default() };
        adjust(&mut config);
        config.database_url = Some(url.clone());
        let instruments = Instruments::load(config.translations_dir.as_deref()).unwrap();
        let secret = app::prepare(&url, &config, &instruments).unwrap();
        let state = AppState::build(&url, config, instruments, secret);
        let answers = Committer::for_state(&state);
        TestApp { state, answers, db_name, url, service: OnceCell::new() }
    }

    /// A direct connection to this test's database.
    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    /// Runs the integrity job that `sipas serve` runs every second (`integrity::spread`) until its
    /// queue is empty: the earlier answers that later ones showed to be part of a burst or of one
    /// device's day gain their flags. Returns how many responses gained a reason.
    pub fn spread_flags(&self) -> usize {
        sipas::integrity::spread::drain(&mut self.conn(), &self.state.instruments).unwrap()
    }

    /// What the invitations table keeps of a survey token: its keyed hash under this app's secret.
    pub fn token_hash(&self, token: &str) -> String {
        survey_secrets::token_hash(&self.state.secret, token)
    }

    /// Imports the [`SEED`] master data through the real import path.
    pub fn seed(&self) -> Seed {
        use sipas::masterdata::{Kind, parse, store::import};
        let mut conn = self.conn();
        let files = [
            (
                Kind::Units,
                "code,name,province_code\nCHIEMHOA,UBND xã Chiêm Hóa,08\nKIMBINH,UBND xã Kim Bình,08\n",
            ),
            (
                Kind::Officers,
                "code,name,unit_code\nCB01,Nguyễn Thị Lan,CHIEMHOA\nCB02,Hoàng Văn Minh,CHIEMHOA\nKB01,Ma Thị Hoa,KIMBINH\n",
            ),
            (
                Kind::Procedures,
                "code,name,field_code,field_name\n\
                 1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch\n\
                 1.000894,Đăng ký kết hôn,HOTICH,Hộ tịch\n\
                 2.000815,Chứng thực bản sao từ bản chính giấy tờ,CHUNGTHUC,Chứng thực\n\
                 1.004227,Đăng ký biến động quyền sử dụng đất,DATDAI,Đất đai\n",
            ),
        ];
        for (kind, text) in files {
            let rows = parse(kind, text.as_bytes()).unwrap();
            import(&mut conn, &rows, "test").unwrap();
        }
        // every seeded commune signs its exports, and the province has registered its key
        for unit in [SEED.unit, SEED.other_unit] {
            self.register_key(&self.export_key(unit, false));
        }
        SEED
    }

    /// Creates (or with `rotate`, replaces) the unit's export signing key, as
    /// `sipas export-key create|rotate` does, and returns what the commune sends the province.
    pub fn export_key(&self, unit: &str, rotate: bool) -> sipas::reporting::signing::PublicKeyInfo {
        sipas::reporting::signing::create_key(&mut self.conn(), &self.state.secret, unit, rotate, "test")
            .unwrap()
    }

    /// Signs an export document again with the unit's current key, as a commune's insider holding
    /// that key could after changing it (the hash must be recomputed first).
    pub fn sign_as(&self, doc: &mut serde_json::Value, unit: &str) {
        let signer = sipas::reporting::signing::signer(&mut self.conn(), &self.state.secret, unit)
            .unwrap()
            .unwrap()
            .expect("the unit has an export key");
        let canonical = sipas::reporting::content::canonical(&doc["content"]);
        doc["signature"] = serde_json::to_value(signer.sign(canonical.as_bytes())).unwrap();
    }

    /// The province registers a commune's public key, as `sipas province key register` does.
    pub fn register_key(&self, key: &sipas::reporting::signing::PublicKeyInfo) {
        sipas::reporting::signing::register(
            &mut self.conn(),
            &key.unit,
            &key.public_key,
            Some(&key.key_id),
            "test",
        )
        .unwrap();
    }

    /// A new API key of `unit`.
    pub fn api_key(&self, unit: &str) -> String {
        sipas::auth::apikeys::create(&mut self.conn(), unit, "test", "test").unwrap().1
    }

    /// A staff account made directly in the store, whose password hash matches no password, and a
    /// live session for it minted as a sign-in would: returns the `Cookie` header value
    /// (`sipas_session=…`) and the session's CSRF token.
    pub fn session(&self, username: &str, scope: &sipas::auth::Scope) -> (String, String) {
        use sipas::auth::session;
        const NO_PASSWORD: &str = "$argon2id$v=19$m=19456,t=2,p=1$bm8tcGFzc3dvcmQ$bm8tcGFzc3dvcmQ";
        let id = sipas::staff::store::create(&mut self.conn(), username, NO_PASSWORD, scope, "test").unwrap();
        let data = session::SessionData::new(id, 0, chrono::Utc::now().timestamp());
        let cookie = session::session_cookie(&session::cookie_key(&self.state.secret), &data, false);
        (format!("{}={}", cookie.name(), cookie.value()), data.csrf)
    }

    /// A province staff account and its session's `Cookie` header value.
    pub fn province_session(&self) -> String {
        self.session("province", &sipas::auth::Scope::Province).0
    }

    /// Inserts an invitation row directly (for tests that do not exercise issuing), issued now
    /// and valid for the configured number of days.
    pub fn insert_invitation(&self, unit: &str, officer: &str, procedure: &str) -> TestInvitation {
        use sipas::schema::invitations as inv;
        let current = self.state.instruments.current();
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let code: String = (0..8).map(|_| char::from(b'A' + rand::rng().random_range(0..26u8))).collect();
        let now = chrono::Utc::now();
        let secret = &self.state.secret;
        let mut conn = self.conn();
        let id = diesel::insert_into(inv::table)
            .values((
                inv::token_hash.eq(survey_secrets::token_hash(secret, &token)),
                inv::code_hash.eq(survey_secrets::code_hash(secret, &code)),
                inv::unit_code.eq(unit),
                inv::officer_code.eq(officer),
                inv::procedure_code.eq(procedure),
                inv::channel.eq("desk"),
                inv::instrument_id.eq(&current.meta.id),
                inv::instrument_version.eq(&current.meta.version),
                inv::issued_at.eq(now),
                inv::expires_at.eq(now + chrono::Duration::days(self.state.config.invitation_ttl_days)),
                inv::issued_by.eq("test"),
            ))
            .returning(inv::id)
            .get_result(&mut conn)
            .unwrap();
        diesel::update(inv::table.find(id))
            .set(inv::sealed.eq(survey_secrets::seal(secret, id, &token, &code)))
            .execute(&mut conn)
            .unwrap();
        TestInvitation { id, token, code }
    }

    /// Boots the real HTTP server on a free loopback port; returns its base URL.
    pub fn spawn_server(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = sipas::router::run(listener, self.state.clone(), self.answers.clone()).unwrap();
        actix_web::rt::spawn(server);
        format!("http://{addr}")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.db_name.is_empty() {
            return; // on a cluster of its own, which goes away with it
        }
        let shared = shared();
        if let Ok(mut admin) = PgConnection::establish(&shared.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db_name))
                .execute(&mut admin);
        }
    }
}

impl TestApp {
    /// A test database on a cluster of its own (durable settings), for tests that restart or
    /// stop the database; the cluster stops when the returned [`Cluster`] is dropped.
    pub async fn on_own_cluster(adjust: impl FnOnce(&mut Config)) -> (TestApp, Cluster) {
        let dir = std::env::temp_dir().join(format!(
            "sipas-own-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let options = ClusterOptions { max_connections: 50, ..ClusterOptions::new(&dir) };
        let cluster = Cluster::start(&options).unwrap_or_else(|e| panic!("cannot start a cluster: {e}"));
        let url = cluster.url(sipas::db::cluster::DB_NAME);
        let mut config = Config { db_pool_size: 8, db_timeout_secs: 2, ..Config::default() };
        adjust(&mut config);
        config.database_url = Some(url.clone());
        let instruments = Instruments::load(config.translations_dir.as_deref()).unwrap();
        let secret = app::prepare(&url, &config, &instruments).unwrap();
        let state = AppState::build(&url, config, instruments, secret);
        let answers = Committer::for_state(&state);
        (TestApp { state, answers, db_name: String::new(), url, service: OnceCell::new() }, cluster)
    }
}

/// A primary and its synchronous streaming standby, each a cluster of its own (durable
/// settings), for failover and replica drills; both stop and their folders go when dropped.
pub struct Replicated {
    pub primary: Cluster,
    pub standby: Cluster,
    /// The standby alone: what `DATABASE_READ_URL` names.
    pub standby_url: String,
    /// The primary alone (a direct connection for checks).
    pub primary_url: String,
    dirs: Vec<std::path::PathBuf>,
}

/// The application name the standby streams under (named in `synchronous_standby_names`).
pub const STANDBY_NAME: &str = "sipas_standby";

impl Drop for Replicated {
    fn drop(&mut self) {
        let _ = self.standby.stop();
        let _ = self.primary.stop();
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl TestApp {
    /// A test database on a primary with a synchronous hot standby (`pg_basebackup -R`, every
    /// commit flushed on the standby before it is acknowledged) and WAL archiving. The service's
    /// `DATABASE_URL` names both hosts with `target_session_attrs=read-write`; with `read_replica`
    /// its `DATABASE_READ_URL` names the standby.
    pub async fn on_replicated_cluster(
        read_replica: bool,
        adjust: impl FnOnce(&mut Config),
    ) -> (TestApp, Replicated) {
        let tag = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let primary_dir = std::env::temp_dir().join(format!("sipas-p-{tag}"));
        let standby_dir = std::env::temp_dir().join(format!("sipas-s-{tag}"));
        let options = ClusterOptions {
            max_connections: 120,
            archive_dir: Some(primary_dir.join("archive")),
            ..ClusterOptions::new(&primary_dir)
        };
        let primary = Cluster::start(&options).unwrap_or_else(|e| panic!("cannot start the primary: {e}"));
        let standby = Cluster::start_standby(
            &ClusterOptions { max_connections: 120, ..ClusterOptions::new(&standby_dir) },
            &primary,
            STANDBY_NAME,
        )
        .unwrap_or_else(|e| panic!("cannot start the standby: {e}"));
        primary.require_sync_standby(STANDBY_NAME).unwrap_or_else(|e| panic!("{e}"));
        let db = sipas::db::cluster::DB_NAME;
        let user = sipas::db::cluster::DB_USER;
        let url = format!(
            "postgres://{user}@/{db}?host={},{}&port=5432&target_session_attrs=read-write",
            primary.socket_dir().display(),
            standby.socket_dir().display()
        );
        let standby_url = standby.url(db);
        let primary_url = primary.url(db);
        let mut config = Config { db_pool_size: 16, db_timeout_secs: 2, ..Config::default() };
        adjust(&mut config);
        config.database_url = Some(url.clone());
        config.database_read_url = read_replica.then(|| standby_url.clone());
        let instruments = Instruments::load_published().unwrap();
        let secret = app::prepare(&url, &config, &instruments).unwrap();
        let state = AppState::build(&url, config, instruments, secret);
        let answers = Committer::for_state(&state);
        let app =
            TestApp { state, answers, db_name: String::new(), url: url.clone(), service: OnceCell::new() };
        let pair =
            Replicated { primary, standby, standby_url, primary_url, dirs: vec![primary_dir, standby_dir] };
        (app, pair)
    }
}

impl TestApp {
    /// A test database on a cluster of its own that archives its WAL into `archive` (the
    /// restore drill); the cluster stops when the returned [`Cluster`] is dropped.
    pub async fn on_archiving_cluster(
        archive: &std::path::Path,
        dir: &std::path::Path,
    ) -> (TestApp, Cluster) {
        let options = ClusterOptions {
            max_connections: 50,
            archive_dir: Some(archive.to_path_buf()),
            ..ClusterOptions::new(dir)
        };
        let cluster = Cluster::start(&options).unwrap_or_else(|e| panic!("cannot start a cluster: {e}"));
        let app = Self::on_url(&cluster.url(sipas::db::cluster::DB_NAME)).await;
        (app, cluster)
    }

    /// The application on an existing, migrated database (a restored copy, say).
    pub async fn on_url(url: &str) -> TestApp {
        let mut config =
            Config { db_pool_size: 8, db_timeout_secs: 2, submission_limit: 100_000, ..Config::default() };
        config.database_url = Some(url.to_string());
        let instruments = Instruments::load_published().unwrap();
        let secret = app::prepare(url, &config, &instruments).unwrap();
        let state = AppState::build(url, config, instruments, secret);
        let answers = Committer::for_state(&state);
        TestApp { state, answers, db_name: String::new(), url: url.to_string(), service: OnceCell::new() }
    }
}

// ------------------------------------------------------------------ requests in process

/// One answer of the application, read whole: status, headers and body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as text (binary bodies: see `bytes`).
    pub body: String,
    pub bytes: Vec<u8>,
    /// The request as the application saw it (its resource map lists every registered route).
    pub request: actix_web::HttpRequest,
}

impl Reply {
    async fn read<B: MessageBody>(res: ServiceResponse<B>) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let request = res.request().clone();
        let bytes = awt::read_body(res).await.to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Reply { status, headers, body, bytes, request }
    }

    /// The body as JSON; a body that is not JSON fails the test.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value, or "" without it.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The `Location` header of a redirect.
    pub fn location(&self) -> Option<String> {
        self.headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// A cookie the answer sets.
    pub fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| Cookie::parse_encoded(v.to_string()).ok())
            .find(|c| c.name() == name)
    }
}

/// A staff session to send with a request: a cookie the application set, or a `Cookie` header
/// value `sipas_session=…` as [`TestApp::session`] mints it.
pub trait SessionCookie {
    fn to_cookie(&self) -> Cookie<'static>;
}

impl SessionCookie for Cookie<'_> {
    fn to_cookie(&self) -> Cookie<'static> {
        self.clone().into_owned()
    }
}

impl SessionCookie for str {
    fn to_cookie(&self) -> Cookie<'static> {
        Cookie::parse(self.to_string()).unwrap_or_else(|e| panic!("`{self}` is not a cookie: {e}"))
    }
}

impl SessionCookie for String {
    fn to_cookie(&self) -> Cookie<'static> {
        self.as_str().to_cookie()
    }
}

/// A request to the application under test, sent when awaited.
#[must_use = "a request does nothing until it is awaited"]
pub struct Call<'a> {
    app: &'a TestApp,
    req: awt::TestRequest,
}

impl Call<'_> {
    /// Sends the staff session's cookie.
    #[expect(
        clippy::wrong_self_convention,
        reason = "a builder step that reads as the request: `.as_staff(&cookie)`"
    )]
    pub fn as_staff(mut self, session: &(impl SessionCookie + ?Sized)) -> Self {
        self.req = self.req.cookie(session.to_cookie());
        self
    }

    /// Authenticates with an API key (`Authorization: Bearer …`).
    pub fn with_key(self, key: &str) -> Self {
        self.header("authorization", &format!("Bearer {key}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.insert_header((name.to_string(), value.to_string()));
        self
    }

    pub fn cookie(mut self, cookie: Cookie<'static>) -> Self {
        self.req = self.req.cookie(cookie);
        self
    }

    /// Sends from this client address (`ip:port`).
    pub fn peer(mut self, addr: &str) -> Self {
        self.req = self.req.peer_addr(addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}")));
        self
    }

    /// A body of any bytes under a content type.
    pub fn payload(self, content_type: &str, body: impl Into<actix_web::web::Bytes>) -> Self {
        self.header("content-type", content_type).body(body)
    }

    /// A body of any bytes, without a content type.
    pub fn body(mut self, body: impl Into<actix_web::web::Bytes>) -> Self {
        self.req = self.req.set_payload(body);
        self
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Reply;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply> + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { (self.app.service().await)(self.req.to_request()).await })
    }
}

impl TestApp {
    /// The application built from `state` with production's `build_app`, once per test (a change
    /// to `state` must come before the first request).
    pub async fn service(&self) -> Service {
        if let Some(service) = self.service.get() {
            return service.clone();
        }
        let app = Rc::new(awt::init_service(build_app(self.state.clone(), self.answers.clone())).await);
        let service: Service = Rc::new(move |req| {
            let app = app.clone();
            Box::pin(async move { Reply::read(awt::call_service(&*app, req).await).await })
        });
        self.service.get_or_init(|| service).clone()
    }

    pub fn request(&self, method: &str, path: &str) -> Call<'_> {
        let method = method.parse().unwrap_or_else(|e| panic!("{method}: {e}"));
        Call { app: self, req: awt::TestRequest::default().method(method).uri(path) }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        Call { app: self, req: awt::TestRequest::get().uri(path) }
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        Call { app: self, req: awt::TestRequest::post().uri(path) }
    }

    pub fn post_json(&self, path: &str, body: &impl Serialize) -> Call<'_> {
        Call { app: self, req: awt::TestRequest::post().uri(path).set_json(body) }
    }

    /// Posts an HTML form (`application/x-www-form-urlencoded`); names may repeat.
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Call<'_> {
        Call { app: self, req: awt::TestRequest::post().uri(path).set_form(pairs) }
    }
}

/// A minimal HTTP/1.0 client, enough to drive a real server from a test without a client
/// library: returns (status, body); status 0 when the connection failed.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return (0, String::new()) };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut request =
        format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Waits until `check` holds or `timeout` passes (for effects of another process).
pub fn wait_for(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

// ------------------------------------------------------------------ printing in Chromium

/// The headless browser the print tests use (Debian's `chromium`).
pub fn chromium() -> String {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return name.to_string();
        }
    }
    panic!(
        "the print tests use headless Chromium: install it (Debian: apt-get install -y chromium poppler-utils)"
    );
}

/// A PDF printed by Chromium, as pdfinfo and pdftotext read it.
pub struct PrintedPdf {
    pub pages: u32,
    /// Page width and height in points (A4: 595.28 × 841.89).
    pub width: f64,
    pub height: f64,
    /// The text, page by page (separated by form feeds).
    pub text: String,
}

impl PrintedPdf {
    pub fn page_size(&self) -> (u32, f64, f64) {
        (self.pages, self.width, self.height)
    }
}

/// Prints `url` (http:// or file://) to PDF in headless Chromium. With `SIPAS_KEEP_PDF=DIR` the
/// PDF is also copied to `DIR/keep_as` to be looked at.
pub async fn print_to_pdf(url: String, keep_as: &'static str) -> PrintedPdf {
    use std::process::Command;
    actix_web::rt::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("out.pdf");
        let out = Command::new("timeout")
            .arg("90")
            .arg(chromium())
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer"])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg("--virtual-time-budget=5000")
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(pdf.exists(), "chromium wrote no PDF: {}", String::from_utf8_lossy(&out.stderr));
        if let Ok(keep) = std::env::var("SIPAS_KEEP_PDF") {
            let _ = std::fs::copy(&pdf, std::path::Path::new(&keep).join(keep_as));
        }
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap_or_else(|e| panic!("poppler-utils (pdfinfo, pdftotext): {e}"));
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let info = run(Command::new("pdfinfo").arg(&pdf));
        let text = run(Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-"));
        let field = |name: &str| {
            info.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default().to_string()
        };
        // "Page size:      226.77 x 425.2 pts"
        let size = field("Page size:");
        let mut dims = size.split_whitespace().filter_map(|w| w.parse::<f64>().ok());
        PrintedPdf {
            pages: field("Pages:").parse().unwrap_or(0),
            width: dims.next().unwrap_or(0.0),
            height: dims.next().unwrap_or(0.0),
            text,
        }
    })
    .await
    .unwrap()
}

/// Tokens whose response is stored, with how many answers it holds: the tokens opened from their
/// seals with the secret the database behind `conn` keeps (the tests set no `SECRET_KEY`).
pub fn answers_per_token(conn: &mut PgConnection) -> std::collections::HashMap<String, i64> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        sealed: Vec<u8>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    #[derive(QueryableByName)]
    struct Secret {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let secret = diesel::sql_query("SELECT value FROM service_settings WHERE name = 'secret_key'")
        .get_result::<Secret>(conn)
        .unwrap()
        .value;
    let secret = hex::decode(&secret).unwrap_or_else(|_| secret.into_bytes());
    diesel::sql_query(
        "SELECT i.id, i.sealed, count(a.item_code) AS n FROM invitations i \
         JOIN responses r ON r.invitation_id = i.id JOIN answers a ON a.response_id = r.id \
         GROUP BY i.id",
    )
    .load::<Row>(conn)
    .unwrap()
    .into_iter()
    .map(|r| {
        let (token, _) = survey_secrets::open(&secret, r.id, &r.sealed)
            .unwrap_or_else(|| panic!("invitation {} is not sealed under the database's secret", r.id));
        (token, r.n)
    })
    .collect()
}
