//! A private PostgreSQL cluster run from the machine's own PostgreSQL binaries (`initdb`,
//! `pg_ctl`), listening only on a Unix socket. `sipas serve` uses it when `DATABASE_URL` is
//! unset; the test harness uses it for a throwaway cluster. PostgreSQL refuses to run as root,
//! so when this process is root the cluster runs as the `postgres` user.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::unistd::{Uid, User};
use std::os::unix::fs::chown;

/// The port number only names the socket file; nothing listens on TCP.
const PORT: u16 = 5432;
/// The superuser and database the service uses inside its private cluster.
pub const DB_USER: &str = "sipas";
pub const DB_NAME: &str = "sipas";

/// What went wrong while preparing or starting the cluster; each says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "DATABASE_URL is not set, so sipas wanted to run its own PostgreSQL, but no PostgreSQL server programs (initdb, pg_ctl) were found on PATH or under /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin, /opt/homebrew/bin. Fix it by one of: install PostgreSQL 15 or later (Debian/Ubuntu: apt-get install postgresql); set DATABASE_URL to an existing PostgreSQL; or run `docker compose up`."
    )]
    NoBinaries,
    #[error(
        "sipas runs as root and PostgreSQL refuses to run as root; it runs its cluster as the `postgres` user, but this machine has none. Create one (useradd --system postgres), run sipas as an ordinary user, or set DATABASE_URL."
    )]
    NoPostgresUser,
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("cannot prepare {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// Options for [`Cluster::start`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Folder holding the cluster (`pgdata/`), its log and its socket.
    pub dir: PathBuf,
    /// `false` for throwaway test clusters: no fsync, faster by far, unsafe for real data.
    pub durable: bool,
    /// Stop the cluster when the [`Cluster`] value is dropped, if this process started it.
    pub stop_on_drop: bool,
    /// Also stop, on drop, a cluster that was already running and was adopted (`sipas serve`
    /// does, to clean up after a killed predecessor; one-off commands must not stop a cluster a
    /// running service uses).
    pub stop_adopted: bool,
    /// `max_connections` of the cluster.
    pub max_connections: u32,
    /// Archive every finished WAL segment into this folder (`archive_mode = on`), for restores
    /// to a point in time from a base backup (see `deploy/`).
    pub archive_dir: Option<PathBuf>,
}

impl ClusterOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ClusterOptions {
            dir: dir.into(),
            durable: true,
            stop_on_drop: true,
            stop_adopted: false,
            max_connections: 100,
            archive_dir: None,
        }
    }
}

/// A running private cluster. Stops it on drop when asked to.
#[derive(Debug)]
pub struct Cluster {
    options: ClusterOptions,
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<User>,
    stop_on_drop: bool,
    stopped: bool,
}

impl Cluster {
    /// Creates the cluster on first use, starts it (or adopts one already running from the same
    /// folder), and makes sure the service's database exists.
    pub fn start(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let mut cluster = Self::prepare(options)?;
        if !cluster.pgdata.join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        let adopted = cluster.is_running();
        if !adopted {
            cluster.pg_ctl_start(options)?;
        }
        cluster.stop_on_drop = options.stop_on_drop && (!adopted || options.stop_adopted);
        cluster.ensure_database(DB_NAME)?;
        Ok(cluster)
    }

    /// A streaming hot standby of `primary` in `options.dir`: a base backup taken with
    /// `pg_basebackup -R` (which makes it a standby), streaming under `application_name`, so the
    /// primary can name it in `synchronous_standby_names` (see [`Cluster::require_sync_standby`]).
    pub fn start_standby(
        options: &ClusterOptions,
        primary: &Cluster,
        application_name: &str,
    ) -> Result<Cluster, ClusterError> {
        let mut cluster = Self::prepare(options)?;
        if !cluster.pgdata.join("PG_VERSION").exists() {
            let out = cluster
                .command("pg_basebackup")
                .arg("-D")
                .arg(&cluster.pgdata)
                .arg("-h")
                .arg(&primary.socket_dir)
                .args(["-p", &PORT.to_string(), "-U", DB_USER, "-R", "-X", "stream", "-c", "fast"])
                .output();
            check("pg_basebackup", out)?;
            // pg_basebackup -R wrote primary_conninfo; the later line names this standby
            let conninfo = format!(
                "\nprimary_conninfo = 'host={} port={PORT} user={DB_USER} application_name={application_name}'\n",
                primary.socket_dir.display()
            );
            let auto = cluster.pgdata.join("postgresql.auto.conf");
            let mut text = std::fs::read_to_string(&auto)
                .map_err(|error| ClusterError::Io { path: auto.display().to_string(), error })?;
            text.push_str(&conninfo);
            std::fs::write(&auto, text)
                .map_err(|error| ClusterError::Io { path: auto.display().to_string(), error })?;
        }
        if !cluster.is_running() {
            cluster.pg_ctl_start(options)?;
        }
        cluster.stop_on_drop = options.stop_on_drop;
        Ok(cluster)
    }

    /// The folders, their owner, and the binaries: everything but `initdb` and the start.
    fn prepare(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let bin_dir = find_binaries().ok_or(ClusterError::NoBinaries)?;
        let run_as = if Uid::effective().is_root() {
            Some(User::from_name("postgres").ok().flatten().ok_or(ClusterError::NoPostgresUser)?)
        } else {
            None
        };
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |error| ClusterError::Io { path, error }
        };
        std::fs::create_dir_all(&options.dir).map_err(io(&options.dir))?;
        let dir = options.dir.canonicalize().map_err(io(&options.dir))?;
        let pgdata = dir.join("pgdata");
        // The socket path must fit in sun_path (108 bytes); fall back to a short folder.
        let socket_dir = if dir.as_os_str().len() <= 80 {
            dir.clone()
        } else {
            let short =
                std::env::temp_dir().join(format!("sipas-{:016x}", fnv(dir.as_os_str().as_encoded_bytes())));
            std::fs::create_dir_all(&short).map_err(io(&short))?;
            short
        };
        if let Some(user) = &run_as {
            if let Some(blocked) = dir.ancestors().skip(1).find(|a| !traversable_by(a, user)) {
                return Err(ClusterError::Io {
                    path: dir.display().to_string(),
                    error: std::io::Error::other(format!(
                        "the `postgres` user cannot reach it because {} is closed to other users; \
                         set DATA_DIR to a folder it can reach (such as /var/lib/sipas) or run `chmod o+x {}`",
                        blocked.display(),
                        blocked.display()
                    )),
                });
            }
            for d in [&dir, &socket_dir] {
                chown(d.as_path(), Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(io(d))?;
                // the postgres user must reach the folder; others need not read it
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).map_err(io(d))?;
            }
        }
        if let Some(archive) = &options.archive_dir {
            std::fs::create_dir_all(archive).map_err(io(archive))?;
            if let Some(user) = &run_as {
                chown(archive.as_path(), Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                    .map_err(io(archive))?;
            }
        }
        let cluster = Cluster {
            options: options.clone(),
            bin_dir,
            pgdata,
            socket_dir,
            run_as,
            stop_on_drop: false,
            stopped: false,
        };
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        // initdb and pg_ctl fail if they cannot read the current folder
        cmd.current_dir(self.pgdata.parent().unwrap_or(Path::new("/")));
        cmd.env("LC_ALL", "C").env_remove("PGDATA").env_remove("PGHOST").env_remove("PGPORT");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            cmd.env("HOME", &user.dir);
        }
        cmd
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", DB_USER, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"])
            .output();
        check("initdb", out)
    }

    fn pg_ctl_start(&self, options: &ClusterOptions) -> Result<(), ClusterError> {
        let mut settings = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c port={PORT} -c unix_socket_permissions=0700 -c max_connections={}",
            self.socket_dir.display(),
            options.max_connections
        );
        if !options.durable {
            settings.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if let Some(archive) = &options.archive_dir {
            // the same command as deploy/postgresql-ha.conf: never overwrite an archived segment
            settings.push_str(&format!(
                " -c archive_mode=on -c archive_command='test ! -f {0}/%f && cp %p {0}/%f'",
                archive.display()
            ));
        }
        let log = self.pgdata.parent().unwrap_or(Path::new(".")).join("postgres.log");
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o"])
            .arg(settings)
            .arg("start")
            .output();
        check("pg_ctl start", out).map_err(|e| match e {
            ClusterError::Command { action, detail } => {
                ClusterError::Command { action, detail: format!("{detail} (see {})", log.display()) }
            }
            other => other,
        })
    }

    /// True when a postmaster is running on this cluster's data folder.
    pub fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("status")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn ensure_database(&self, name: &str) -> Result<(), ClusterError> {
        let psql = |sql: &str| {
            let out = self
                .command("psql")
                .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(&self.socket_dir)
                .args(["-p", &PORT.to_string(), "-U", DB_USER, "-d", "postgres", "-c", sql])
                .output();
            match out {
                Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
                other => check("psql", other).map(|_| String::new()),
            }
        };
        if psql(&format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"))? != "1" {
            psql(&format!("CREATE DATABASE {name}"))?;
        }
        Ok(())
    }

    /// A connection URL for one of the cluster's databases.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{DB_USER}@/{database}?host={}&port={PORT}", self.socket_dir.display())
    }

    /// The folder of the Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Stops the cluster (fast shutdown: running sessions are ended, committed data is kept).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.stopped {
            return Ok(());
        }
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "30", "stop"])
            .output();
        self.stopped = true;
        check("pg_ctl stop", out)
    }

    /// Starts a cluster this value stopped, with the same settings (fault-injection tests).
    pub fn resume(&mut self) -> Result<(), ClusterError> {
        let options = self.options.clone();
        self.pg_ctl_start(&options)?;
        self.stopped = false;
        Ok(())
    }

    /// Restarts the cluster in place (fault-injection tests).
    pub fn restart(&self) -> Result<(), ClusterError> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "60", "restart"])
            .output();
        check("pg_ctl restart", out)
    }
}

impl Cluster {
    /// The data folder (`pgdata/`).
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// Runs SQL with psql as the superuser in `database`; returns what it printed (unaligned,
    /// tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, ClusterError> {
        let out = self
            .command("psql")
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &PORT.to_string(), "-U", DB_USER, "-d", database, "-c", sql])
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
            other => check("psql", other).map(|_| String::new()),
        }
    }

    /// Makes every commit wait until the standby `application_name` has flushed it
    /// (`synchronous_standby_names`, `synchronous_commit = on`), and waits until that standby is
    /// streaming as the synchronous one.
    pub fn require_sync_standby(&self, application_name: &str) -> Result<(), ClusterError> {
        self.psql(
            "postgres",
            &format!("ALTER SYSTEM SET synchronous_standby_names = '\"{application_name}\"'"),
        )?;
        self.psql("postgres", "ALTER SYSTEM SET synchronous_commit = 'on'")?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        let query = format!(
            "SELECT count(*) FROM pg_stat_replication WHERE application_name = '{application_name}' \
             AND sync_state = 'sync' AND state = 'streaming'"
        );
        for _ in 0..300 {
            if self.psql("postgres", &query)? == "1" {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(ClusterError::Command {
            action: "waiting for the synchronous standby".into(),
            detail: format!("{application_name} is not streaming as the synchronous standby after 30 s"),
        })
    }

    /// Commits stop waiting for a standby (`synchronous_standby_names = ''`): what the failover
    /// manager does when the standby is lost, so the primary goes on alone.
    pub fn release_sync_standby(&self) -> Result<(), ClusterError> {
        self.psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = ''")?;
        self.psql("postgres", "SELECT pg_reload_conf()").map(|_| ())
    }

    /// `kill -9` of the postmaster, as when its machine dies: nothing is shut down cleanly
    /// (failover drills).
    pub fn kill_postmaster(&mut self) -> Result<(), ClusterError> {
        let pidfile = self.pgdata.join("postmaster.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
            .ok_or_else(|| ClusterError::Command {
                action: "kill -9".into(),
                detail: format!("no postmaster pid in {}", pidfile.display()),
            })?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
            .map_err(|e| ClusterError::Command { action: "kill -9".into(), detail: e.to_string() })?;
        self.stopped = true;
        Ok(())
    }

    /// Promotes a standby to primary (`pg_ctl promote`, waiting until it accepts writes): what
    /// the failover manager does when the primary is lost.
    pub fn promote(&self) -> Result<(), ClusterError> {
        let out =
            self.command("pg_ctl").arg("-D").arg(&self.pgdata).args(["-w", "-t", "60", "promote"]).output();
        check("pg_ctl promote", out)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.stop_on_drop
            && let Err(e) = self.stop()
        {
            tracing::error!(error = %e, "could not stop the private PostgreSQL cluster");
        }
    }
}

fn check(action: &str, out: std::io::Result<Output>) -> Result<(), ClusterError> {
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(ClusterError::Command {
            action: action.into(),
            detail: format!(
                "{} {}",
                String::from_utf8_lossy(&o.stderr).trim(),
                String::from_utf8_lossy(&o.stdout).trim()
            )
            .trim()
            .to_string(),
        }),
        Err(e) => Err(ClusterError::Command { action: action.into(), detail: e.to_string() }),
    }
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: PATH first, then the usual install
/// folders (the newest version under `/usr/lib/postgresql`).
pub fn find_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| ["initdb", "pg_ctl", "postgres", "psql"].iter().all(|p| dir.join(p).is_file());
    let from_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dir| {
            // Debian links initdb into PATH from the version's folder; follow it to find pg_ctl's siblings
            let initdb = dir.join("initdb");
            initdb.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf))
        });
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versioned.sort_by_key(|p| {
        p.parent()
            .and_then(Path::file_name)
            .and_then(OsStr::to_str)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versioned.reverse();
    let fixed =
        ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from);
    from_path.chain(versioned).chain(fixed).find(|d| has_all(d))
}

/// True when `user` may pass through folder `dir` (owner, or "x" for others; groups ignored).
fn traversable_by(dir: &Path, user: &User) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).is_ok_and(|m| m.mode() & 0o001 != 0 || m.uid() == user.uid.as_raw())
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}
