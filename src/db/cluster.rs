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
}

impl ClusterOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ClusterOptions {
            dir: dir.into(),
            durable: true,
            stop_on_drop: true,
            stop_adopted: false,
            max_connections: 100,
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
        let mut cluster = Cluster {
            options: options.clone(),
            bin_dir,
            pgdata,
            socket_dir,
            run_as,
            stop_on_drop: false,
            stopped: false,
        };
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
