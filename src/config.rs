//! Configuration, read once from the environment at start-up. Every variable is listed in the
//! README and `.env.example`; a bad value stops start-up with a message naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::kernel::net::Cidr;

/// A variable that is set but not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("configuration variable {var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

/// The service's settings. Built by [`Config::from_env`] in `main`, or by tests with any values.
#[derive(Debug, Clone)]
pub struct Config {
    /// Any PostgreSQL; when `None`, the service manages its own cluster under `data_dir`.
    pub database_url: Option<String>,
    /// An optional hot standby that statistics, dashboards, exports and the public page read
    /// from (`db::run_read`); writes and reads of one's own write stay on `database_url`.
    pub database_read_url: Option<String>,
    pub bind_addr: SocketAddr,
    /// The origin written into survey links and QR codes, without a trailing slash.
    pub public_base_url: String,
    pub data_dir: PathBuf,
    /// A folder of the commune's questionnaire translations (`*.toml`, see
    /// `instrument::translation`), loaded and validated at start-up; `None`: none.
    pub translations_dir: Option<PathBuf>,
    /// Largest number of pooled database connections.
    pub db_pool_size: u32,
    /// How long a request waits for a pooled connection before it gets a 503.
    pub db_timeout_secs: u64,
    /// Writer threads storing answers in group-committed batches (`responses::committer`); each
    /// holds one pooled connection while it writes a batch.
    pub answer_writers: u32,
    /// Most answers one writer commits in one transaction.
    pub answer_batch: u32,
    /// Shortest rest of the roll-up compactor between two compactions (`stats::rollup`).
    pub rollup_compact_seconds: u64,
    pub invitation_ttl_days: i64,
    pub additions_window_minutes: i64,
    /// Groups with fewer responses show their count but not their rates. `None`: the
    /// instrument's `min_n`.
    pub min_n: Option<u32>,
    /// Secret for signing cookies and salting client hashes. `None`: one is generated and kept
    /// in the database, so every instance shares it.
    pub secret_key: Option<String>,
    /// Write logs as JSON lines instead of readable text.
    pub log_json: bool,
    /// Survey submissions one client address may make per 10 minutes.
    pub submission_limit: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<Cidr>,
    /// The commune's own networks: an answer sent from one is flagged `desk_network`.
    pub desk_networks: Vec<Cidr>,
    /// Networks whose TCP peers may read `GET /metrics` (besides loopback, always allowed).
    pub metrics_networks: Vec<Cidr>,
    /// The commune's guest network for residents: not suspicious, but its address is no device.
    pub guest_networks: Vec<Cidr>,
    /// An answer sent sooner than this after its survey page was first shown (after issue, when
    /// no page was shown) is flagged `too_fast`.
    pub min_seconds_to_answer: i64,
    /// One device answering more invitations than this in a local day flags all of them.
    pub max_tokens_per_device_per_day: u32,
    /// Working days (Monday to Friday) a follow-up has for its reply.
    pub followup_days: u32,
    /// Days client and device hashes are kept before the retention job clears them.
    pub integrity_retention_days: i64,
    /// Days the link between an invitation and its case number is kept.
    pub case_link_retention_days: i64,
    /// Officers' names in province exports and the periodic report (their codes always stay).
    pub export_officer_names: bool,
}

impl Default for Config {
    fn default() -> Self {
        let bind_addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
        Config {
            database_url: None,
            database_read_url: None,
            bind_addr,
            public_base_url: format!("http://{bind_addr}"),
            data_dir: PathBuf::from("./data"),
            translations_dir: None,
            db_pool_size: 16,
            db_timeout_secs: 3,
            answer_writers: 2,
            answer_batch: 64,
            rollup_compact_seconds: 2,
            invitation_ttl_days: 7,
            additions_window_minutes: 30,
            min_n: None,
            secret_key: None,
            log_json: false,
            submission_limit: 200,
            trusted_proxies: Vec::new(),
            metrics_networks: Vec::new(),
            desk_networks: Vec::new(),
            guest_networks: Vec::new(),
            min_seconds_to_answer: 2,
            max_tokens_per_device_per_day: 3,
            followup_days: 10,
            integrity_retention_days: 30,
            case_link_retention_days: 180,
            export_officer_names: true,
        }
    }
}

/// Every variable the service reads, with its meaning; printed by `sipas config` and kept in
/// step with `.env.example`.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "DATABASE_URL",
        "PostgreSQL URL, may name several hosts (host=a,b with target_session_attrs=read-write); unset = a private cluster under DATA_DIR",
    ),
    (
        "DATABASE_READ_URL",
        "a hot standby for statistics, dashboards, exports and the public page (default: DATABASE_URL)",
    ),
    ("BIND_ADDR", "address to listen on (default 127.0.0.1:8080)"),
    ("PUBLIC_BASE_URL", "origin written into survey links and QR codes (default http://BIND_ADDR)"),
    ("DATA_DIR", "where the managed PostgreSQL cluster lives (default ./data)"),
    (
        "TRANSLATIONS_DIR",
        "folder of questionnaire translations (*.toml) loaded and validated at start-up (default none)",
    ),
    ("DB_POOL_SIZE", "largest number of database connections (default 16)"),
    ("DB_TIMEOUT_SECS", "seconds to wait for a connection before answering 503 (default 3)"),
    (
        "ANSWER_WRITERS",
        "threads storing survey answers in group-committed batches, each using one connection while it writes (default 2)",
    ),
    ("ANSWER_BATCH", "most survey answers committed in one transaction (default 64)"),
    (
        "ROLLUP_COMPACT_SECONDS",
        "seconds between foldings of new answers into the statistics' roll-ups, at least (default 2)",
    ),
    ("INVITATION_TTL_DAYS", "days an invitation stays answerable (default 7)"),
    (
        "ADDITIONS_WINDOW_MINUTES",
        "minutes after the first answer during which screens can be added (default 30)",
    ),
    ("MIN_N", "smallest group whose rates are shown (default: the instrument's, 5)"),
    (
        "SECRET_KEY",
        "at least 32 characters; signs cookies and salts client hashes (default: generated and kept in the database)",
    ),
    ("LOG_FORMAT", "text or json (default text)"),
    ("SUBMISSION_LIMIT", "survey submissions one client address may make per 10 minutes (default 200)"),
    ("TRUSTED_PROXIES", "CIDR ranges of reverse proxies whose X-Forwarded-For is believed (default none)"),
    (
        "METRICS_NETWORKS",
        "CIDR ranges whose direct peers may read /metrics; loopback always may (default none)",
    ),
    (
        "DESK_NETWORKS",
        "CIDR ranges of the commune's own networks; answers from them are flagged (default none)",
    ),
    (
        "GUEST_NETWORKS",
        "CIDR ranges of the commune's guest Wi-Fi for residents; not suspicious (default none)",
    ),
    (
        "MIN_SECONDS_TO_ANSWER",
        "answers sooner than this after the survey page was shown are flagged too_fast (default 2)",
    ),
    (
        "MAX_TOKENS_PER_DEVICE_PER_DAY",
        "one device answering more invitations in a local day flags them all (default 3)",
    ),
    ("FOLLOWUP_DAYS", "working days a follow-up has for its reply (default 10)"),
    ("INTEGRITY_RETENTION_DAYS", "days client and device hashes are kept (default 30)"),
    ("CASE_LINK_RETENTION_DAYS", "days the invitation-to-case-number link is kept (default 180)"),
    (
        "EXPORT_OFFICER_NAMES",
        "true or false: officers' names in province exports and reports; codes always stay (default true)",
    ),
    ("RUST_LOG", "log filter, e.g. info or sipas=debug (default info)"),
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get`; unset and empty mean "use the default".
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let d = Config::default();
        let bind_addr = parse_var(&get, "BIND_ADDR", d.bind_addr, "an address such as 127.0.0.1:8080")?;
        let public_base_url = match get("PUBLIC_BASE_URL") {
            None => format!("http://{bind_addr}"),
            Some(u) => {
                let u = u.trim_end_matches('/').to_string();
                let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
                if rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#', ' '])) {
                    return Err(ConfigError {
                        var: "PUBLIC_BASE_URL",
                        problem: format!(
                            "`{u}` is not an http(s) origin such as https://khaosat.example.gov.vn"
                        ),
                    });
                }
                u
            }
        };
        let secret_key = get("SECRET_KEY");
        if secret_key.as_ref().is_some_and(|k| k.len() < 32) {
            return Err(ConfigError { var: "SECRET_KEY", problem: "must be at least 32 characters".into() });
        }
        let log_json = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ConfigError {
                    var: "LOG_FORMAT",
                    problem: format!("`{other}` is neither text nor json"),
                });
            }
        };
        let config = Config {
            database_url: get("DATABASE_URL"),
            database_read_url: get("DATABASE_READ_URL"),
            bind_addr,
            public_base_url,
            data_dir: get("DATA_DIR").map(PathBuf::from).unwrap_or(d.data_dir),
            translations_dir: get("TRANSLATIONS_DIR").map(PathBuf::from),
            db_pool_size: parse_var(&get, "DB_POOL_SIZE", d.db_pool_size, "a whole number from 1 to 200")?,
            db_timeout_secs: parse_var(
                &get,
                "DB_TIMEOUT_SECS",
                d.db_timeout_secs,
                "a whole number of seconds",
            )?,
            answer_writers: parse_var(
                &get,
                "ANSWER_WRITERS",
                d.answer_writers,
                "a whole number from 1 to 64",
            )?,
            answer_batch: parse_var(&get, "ANSWER_BATCH", d.answer_batch, "a whole number from 1 to 1000")?,
            rollup_compact_seconds: parse_var(
                &get,
                "ROLLUP_COMPACT_SECONDS",
                d.rollup_compact_seconds,
                "a whole number of seconds from 1 to 3600",
            )?,
            invitation_ttl_days: parse_var(
                &get,
                "INVITATION_TTL_DAYS",
                d.invitation_ttl_days,
                "a whole number of days",
            )?,
            additions_window_minutes: parse_var(
                &get,
                "ADDITIONS_WINDOW_MINUTES",
                d.additions_window_minutes,
                "a whole number of minutes",
            )?,
            min_n: get("MIN_N")
                .map(|v| {
                    v.parse().map_err(|_| ConfigError {
                        var: "MIN_N",
                        problem: format!("`{v}` is not a whole number"),
                    })
                })
                .transpose()?,
            secret_key,
            log_json,
            submission_limit: parse_var(
                &get,
                "SUBMISSION_LIMIT",
                d.submission_limit,
                "a whole number of submissions",
            )?,
            trusted_proxies: parse_cidrs(&get, "TRUSTED_PROXIES")?,
            desk_networks: parse_cidrs(&get, "DESK_NETWORKS")?,
            metrics_networks: parse_cidrs(&get, "METRICS_NETWORKS")?,
            guest_networks: parse_cidrs(&get, "GUEST_NETWORKS")?,
            min_seconds_to_answer: parse_var(
                &get,
                "MIN_SECONDS_TO_ANSWER",
                d.min_seconds_to_answer,
                "a whole number of seconds",
            )?,
            max_tokens_per_device_per_day: parse_var(
                &get,
                "MAX_TOKENS_PER_DEVICE_PER_DAY",
                d.max_tokens_per_device_per_day,
                "a whole number of invitations",
            )?,
            followup_days: parse_var(&get, "FOLLOWUP_DAYS", d.followup_days, "a whole number of days")?,
            integrity_retention_days: parse_var(
                &get,
                "INTEGRITY_RETENTION_DAYS",
                d.integrity_retention_days,
                "a whole number of days",
            )?,
            case_link_retention_days: parse_var(
                &get,
                "CASE_LINK_RETENTION_DAYS",
                d.case_link_retention_days,
                "a whole number of days",
            )?,
            export_officer_names: parse_var(
                &get,
                "EXPORT_OFFICER_NAMES",
                d.export_officer_names,
                "true or false",
            )?,
        };
        check_range("DB_POOL_SIZE", config.db_pool_size as i64, 1, 200)?;
        check_range("DB_TIMEOUT_SECS", config.db_timeout_secs as i64, 1, 120)?;
        check_range("ANSWER_WRITERS", config.answer_writers as i64, 1, 64)?;
        check_range("ANSWER_BATCH", config.answer_batch as i64, 1, 1000)?;
        check_range("ROLLUP_COMPACT_SECONDS", config.rollup_compact_seconds as i64, 1, 3600)?;
        check_range("INVITATION_TTL_DAYS", config.invitation_ttl_days, 1, 366)?;
        check_range("ADDITIONS_WINDOW_MINUTES", config.additions_window_minutes, 0, 24 * 60)?;
        check_range("MIN_N", config.min_n.unwrap_or(1) as i64, 1, 1000)?;
        check_range("SUBMISSION_LIMIT", config.submission_limit as i64, 1, 1_000_000)?;
        check_range("MIN_SECONDS_TO_ANSWER", config.min_seconds_to_answer, 0, 3600)?;
        check_range("MAX_TOKENS_PER_DEVICE_PER_DAY", config.max_tokens_per_device_per_day as i64, 1, 10_000)?;
        check_range("FOLLOWUP_DAYS", config.followup_days as i64, 1, 365)?;
        check_range("INTEGRITY_RETENTION_DAYS", config.integrity_retention_days, 1, 3650)?;
        check_range("CASE_LINK_RETENTION_DAYS", config.case_link_retention_days, 1, 3650)?;
        Ok(config)
    }
}

fn parse_var<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError { var, problem: format!("`{v}` is not {expected}") }),
    }
}

fn parse_cidrs(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Vec<Cidr>, ConfigError> {
    match get(var) {
        None => Ok(Vec::new()),
        Some(v) => crate::kernel::net::parse_list(&v).map_err(|problem| ConfigError { var, problem }),
    }
}

fn check_range(var: &'static str, value: i64, min: i64, max: i64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError { var, problem: format!("{value} is outside {min} to {max}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(c.invitation_ttl_days, 7);
        assert!(c.database_url.is_none());
    }

    #[test]
    fn the_public_base_url_follows_bind_addr_unless_set() {
        let c = config(&[("BIND_ADDR", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.public_base_url, "http://0.0.0.0:9000");
        let c = config(&[("PUBLIC_BASE_URL", "https://ks.chiemhoa.gov.vn/")]).unwrap();
        assert_eq!(c.public_base_url, "https://ks.chiemhoa.gov.vn");
    }

    #[test]
    fn the_submission_limit_and_proxy_trust_are_read_and_checked() {
        let c = config(&[("SUBMISSION_LIMIT", "50"), ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).unwrap();
        assert_eq!((c.submission_limit, c.trusted_proxies.len()), (50, 2));
        let d = config(&[]).unwrap();
        assert_eq!((d.submission_limit, d.trusted_proxies.len()), (200, 0));
        assert_eq!(config(&[("SUBMISSION_LIMIT", "0")]).map(|_| ()).unwrap_err().var, "SUBMISSION_LIMIT");
        assert_eq!(config(&[("TRUSTED_PROXIES", "yes")]).map(|_| ()).unwrap_err().var, "TRUSTED_PROXIES");
    }

    #[test]
    fn integrity_settings_have_defaults_and_are_checked() {
        let d = config(&[]).unwrap();
        assert!(d.desk_networks.is_empty());
        assert_eq!((d.min_seconds_to_answer, d.max_tokens_per_device_per_day, d.followup_days), (2, 3, 10));
        assert!(d.guest_networks.is_empty());
        assert_eq!(config(&[("GUEST_NETWORKS", "10.20.0.0/16")]).unwrap().guest_networks.len(), 1);
        assert_eq!((d.integrity_retention_days, d.case_link_retention_days), (30, 180));
        let c = config(&[("DESK_NETWORKS", "192.168.1.0/24"), ("FOLLOWUP_DAYS", "5")]).unwrap();
        assert_eq!((c.desk_networks.len(), c.followup_days), (1, 5));
        for var in [
            "DESK_NETWORKS",
            "GUEST_NETWORKS",
            "MIN_SECONDS_TO_ANSWER",
            "MAX_TOKENS_PER_DEVICE_PER_DAY",
            "FOLLOWUP_DAYS",
        ] {
            assert_eq!(config(&[(var, "-1/x")]).map(|_| ()).unwrap_err().var, var);
        }
        assert_eq!(
            config(&[("INTEGRITY_RETENTION_DAYS", "0")]).map(|_| ()).unwrap_err().var,
            "INTEGRITY_RETENTION_DAYS"
        );
    }

    #[test]
    fn a_bad_variable_is_named_in_the_error() {
        assert_eq!(config(&[("BIND_ADDR", "localhost")]).map(|_| ()).unwrap_err().var, "BIND_ADDR");
        assert_eq!(
            config(&[("INVITATION_TTL_DAYS", "0")]).map(|_| ()).unwrap_err().var,
            "INVITATION_TTL_DAYS"
        );
        assert_eq!(config(&[("PUBLIC_BASE_URL", "ftp://x")]).map(|_| ()).unwrap_err().var, "PUBLIC_BASE_URL");
        assert_eq!(config(&[("SECRET_KEY", "short")]).map(|_| ()).unwrap_err().var, "SECRET_KEY");
        assert_eq!(config(&[("LOG_FORMAT", "xml")]).map(|_| ()).unwrap_err().var, "LOG_FORMAT");
    }
}
