//! Configuration, declared once: each field of [`Config`] names its environment variable, its
//! default, its range and (in its doc comment) its meaning, and clap reads them all. `sipas`
//! flattens it into its root command, so every subcommand sees the same settings; a bad value
//! stops start-up with a message naming the variable. `sipas config` lists the variables from this
//! struct, and a test below holds README's table and `.env.example` to it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue};
use clap::{ArgAction, Args, FromArgMatches, ValueEnum, value_parser};
use secrecy::SecretString;

use crate::kernel::net::{self, Cidr};

/// A variable that is set but not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("configuration variable {var}: {problem}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

/// The service's settings. Read from the environment by the `sipas` command line, or built by
/// tests with [`Config::from_lookup`] or `Config { …, ..Config::default() }`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Configuration (each also read from its environment variable)")]
pub struct Config {
    /// Any PostgreSQL; may name several hosts (host=a,b with target_session_attrs=read-write),
    /// and the pool connects to whichever is the primary. Unset: a private cluster under DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A hot standby that statistics, dashboards, exports and the public page read from; writes
    /// and reads of one's own write stay on DATABASE_URL (`db::run_read`).
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,
    /// The http(s) origin written into survey links and QR codes (what residents' phones reach).
    /// Unset: http://BIND_ADDR.
    // read it through `Config::public_base_url()`, which applies that default
    #[arg(long = "public-base-url", env = "PUBLIC_BASE_URL", value_parser = origin)]
    pub public_base_url: Option<String>,
    /// Where the managed PostgreSQL cluster lives when DATABASE_URL is unset.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// A folder of the commune's questionnaire translations (*.toml, see
    /// instrument::translation), loaded and validated at start-up. Unset: none.
    #[arg(long, env = "TRANSLATIONS_DIR")]
    pub translations_dir: Option<PathBuf>,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 16, value_parser = value_parser!(u32).range(1..=200))]
    pub db_pool_size: u32,
    /// Seconds a request waits for a pooled connection before it gets a 503.
    #[arg(long, env = "DB_TIMEOUT_SECS", default_value_t = 3, value_parser = value_parser!(u64).range(1..=120))]
    pub db_timeout_secs: u64,
    /// Writer threads storing survey answers in group-committed batches (responses::committer);
    /// each holds one pooled connection while it writes a batch.
    #[arg(long, env = "ANSWER_WRITERS", default_value_t = 2, value_parser = value_parser!(u32).range(1..=64))]
    pub answer_writers: u32,
    /// Most survey answers one writer commits in one transaction.
    #[arg(long, env = "ANSWER_BATCH", default_value_t = 64, value_parser = value_parser!(u32).range(1..=1000))]
    pub answer_batch: u32,
    /// Shortest rest, in seconds, of the roll-up compactor between two foldings of new answers
    /// into the statistics' roll-ups (stats::rollup).
    #[arg(
        long,
        env = "ROLLUP_COMPACT_SECONDS",
        default_value_t = 2,
        value_parser = value_parser!(u64).range(1..=3600)
    )]
    pub rollup_compact_seconds: u64,
    /// Days an invitation stays answerable.
    #[arg(long, env = "INVITATION_TTL_DAYS", default_value_t = 7, value_parser = value_parser!(i64).range(1..=366))]
    pub invitation_ttl_days: i64,
    /// Minutes after the first answer during which later screens can be added.
    #[arg(
        long,
        env = "ADDITIONS_WINDOW_MINUTES",
        default_value_t = 30,
        value_parser = value_parser!(i64).range(0..=24 * 60)
    )]
    pub additions_window_minutes: i64,
    /// Groups with fewer responses show their count but not their rates. Unset: the
    /// questionnaire's min_n.
    #[arg(long, env = "MIN_N", value_parser = value_parser!(u32).range(1..=1000))]
    pub min_n: Option<u32>,
    /// At least 32 characters; signs cookies and salts client hashes. Unset: one is generated and
    /// kept in the database, so every instance shares it. Never printed.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true, value_parser = secret)]
    pub secret_key: Option<SecretString>,
    /// How log lines are written: readable text or JSON lines.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter such as info or sipas=debug. Unset: info for serve, warn for one-off commands.
    #[arg(long, env = "RUST_LOG", value_parser = log_filter)]
    pub rust_log: Option<String>,
    /// Survey submissions one client address may make per 10 minutes (counted in the database).
    #[arg(
        long,
        env = "SUBMISSION_LIMIT",
        default_value_t = 200,
        value_parser = value_parser!(u32).range(1..=1_000_000)
    )]
    pub submission_limit: u32,
    /// Reverse proxies (CIDR ranges, comma-separated) whose X-Forwarded-For is believed; from
    /// anyone else it is ignored.
    // `::std::vec::Vec` keeps clap from reading a list as repeated flags: it is one value.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = net::parse_list)]
    pub trusted_proxies: ::std::vec::Vec<Cidr>,
    /// Networks (CIDR ranges) whose TCP peers may read GET /metrics; loopback always may.
    #[arg(long, env = "METRICS_NETWORKS", default_value = "", value_parser = net::parse_list)]
    pub metrics_networks: ::std::vec::Vec<Cidr>,
    /// The integrity checks' thresholds and the retention of what they keep.
    #[command(flatten)]
    pub integrity: Integrity,
    /// Working days (Monday to Friday) a follow-up has for its reply.
    #[arg(long, env = "FOLLOWUP_DAYS", default_value_t = 10, value_parser = value_parser!(u32).range(1..=365))]
    pub followup_days: u32,
    /// Officers' names in province exports and the periodic report (their codes always stay).
    #[arg(long, env = "EXPORT_OFFICER_NAMES", default_value_t = true, action = ArgAction::Set)]
    pub export_officer_names: bool,
}

/// The integrity checks (`integrity::checks`) and how long their evidence is kept.
#[derive(Debug, Clone, Args)]
pub struct Integrity {
    /// The commune's own networks (CIDR ranges: desk PCs, staff Wi-Fi); an answer sent from one
    /// is flagged desk_network.
    #[arg(long, env = "DESK_NETWORKS", default_value = "", value_parser = net::parse_list)]
    pub desk_networks: ::std::vec::Vec<Cidr>,
    /// The commune's guest Wi-Fi for residents (CIDR ranges): not suspicious, but its address is
    /// never taken for a device.
    #[arg(long, env = "GUEST_NETWORKS", default_value = "", value_parser = net::parse_list)]
    pub guest_networks: ::std::vec::Vec<Cidr>,
    /// An answer sent sooner than this many seconds after its survey page was first shown (after
    /// issue, when no page was shown) is flagged too_fast.
    #[arg(
        long,
        env = "MIN_SECONDS_TO_ANSWER",
        default_value_t = 2,
        value_parser = value_parser!(i64).range(0..=3600)
    )]
    pub min_seconds_to_answer: i64,
    /// One device answering more invitations than this in a local day flags all of them.
    #[arg(
        long,
        env = "MAX_TOKENS_PER_DEVICE_PER_DAY",
        default_value_t = 3,
        value_parser = value_parser!(u32).range(1..=10_000)
    )]
    pub max_tokens_per_device_per_day: u32,
    /// Days client and device hashes are kept before the retention job clears them.
    #[arg(
        long = "integrity-retention-days",
        env = "INTEGRITY_RETENTION_DAYS",
        default_value_t = 30,
        value_parser = value_parser!(i64).range(1..=3650)
    )]
    pub retention_days: i64,
    /// Days the link between an invitation and its case number is kept.
    #[arg(
        long,
        env = "CASE_LINK_RETENTION_DAYS",
        default_value_t = 180,
        value_parser = value_parser!(i64).range(1..=3650)
    )]
    pub case_link_retention_days: i64,
}

/// `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    /// Every default, as if no variable were set.
    #[expect(
        clippy::expect_used,
        reason = "the defaults are valid; `defaults_apply_when_nothing_is_set` shows it"
    )]
    fn default() -> Self {
        Config::from_lookup(|_| None).expect("the defaults are valid")
    }
}

impl Config {
    /// The origin written into survey links and QR codes, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{}", self.bind_addr))
    }

    /// Reads the variables through `get` instead of the process environment (for tests); unset
    /// and empty mean "use the default", as they do for the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let command = Self::command().mut_args(|arg| arg.env(None));
        let mut argv = vec!["sipas".to_string()];
        for (var, long) in Self::variables().into_iter().map(|v| (v.name, v.long)) {
            if let Some(value) = get(&var).filter(|v| !v.is_empty()) {
                argv.push(format!("--{long}={value}"));
            }
        }
        let refused = |e: clap::Error| {
            ConfigError::from_clap(&e)
                .unwrap_or_else(|| ConfigError { var: "?".into(), problem: e.to_string() })
        };
        Config::from_arg_matches(&command.try_get_matches_from(argv).map_err(refused)?).map_err(refused)
    }

    /// Every variable the service reads, in declaration order: what `sipas config` prints.
    pub fn variables() -> Vec<Variable> {
        Self::command()
            .get_arguments()
            .filter_map(|arg| {
                Some(Variable {
                    name: arg.get_env()?.to_string_lossy().into_owned(),
                    long: arg.get_long()?.to_string(),
                    meaning: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
                    default: arg.get_default_values().first().map(|d| d.to_string_lossy().into_owned()),
                })
            })
            .collect()
    }

    /// Makes unset and empty mean the same for the process environment, as they do for
    /// [`Config::from_lookup`]: clap would parse an empty variable (compose passes
    /// `SECRET_KEY: ${SECRET_KEY:-}`), so an argument whose variable is empty forgets it.
    pub fn ignore_empty_variables(command: clap::Command) -> clap::Command {
        command.mut_args(|arg| {
            let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|v| v.is_empty());
            if empty { arg.env(None) } else { arg }
        })
    }

    fn command() -> clap::Command {
        Self::augment_args(clap::Command::new("sipas"))
    }
}

/// One configuration variable, as [`Config::variables`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable, e.g. `DB_POOL_SIZE`.
    pub name: String,
    /// The command-line flag without its dashes, e.g. `db-pool-size`.
    pub long: String,
    /// The first paragraph of the field's doc comment.
    pub meaning: String,
    /// The default; `None` when unset means something else (or nothing).
    pub default: Option<String>,
}

impl ConfigError {
    /// The variable and the problem of a clap error about one of [`Config`]'s arguments; `None`
    /// for any other error (help, an unknown subcommand, …). A hidden value (the secret, database
    /// URLs) is never repeated.
    pub fn from_clap(error: &clap::Error) -> Option<ConfigError> {
        let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else { return None };
        let long = arg.split_whitespace().next()?.strip_prefix("--")?;
        let command = Config::command();
        let arg = command.get_arguments().find(|a| a.get_long() == Some(long))?;
        let var = arg.get_env()?.to_string_lossy().into_owned();
        let value = match error.get(ContextKind::InvalidValue) {
            Some(ContextValue::String(v)) if !arg.is_hide_env_values_set() => format!("`{v}`: "),
            _ => String::new(),
        };
        let problem = match (std::error::Error::source(error), error.get(ContextKind::ValidValue)) {
            (Some(source), _) => format!("{value}{source}"),
            (None, Some(ContextValue::Strings(valid))) => format!("{value}not one of {}", valid.join(", ")),
            _ => format!("{value}{}", error.kind()),
        };
        Some(ConfigError { var, problem })
    }
}

/// `PUBLIC_BASE_URL`: an http(s) origin, its trailing slash dropped.
fn origin(s: &str) -> Result<String, String> {
    let u = s.trim().trim_end_matches('/').to_string();
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    if rest.is_none_or(|r| r.is_empty() || r.contains(['?', '#', ' '])) {
        return Err("not an http(s) origin such as https://khaosat.example.gov.vn".into());
    }
    Ok(u)
}

fn secret(s: &str) -> Result<SecretString, String> {
    if s.len() < 32 {
        return Err("must be at least 32 characters".into());
    }
    Ok(SecretString::from(s))
}

fn log_filter(s: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(s).map(|_| s.to_string()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_base_url(), "http://127.0.0.1:8080");
        assert_eq!(c.invitation_ttl_days, 7);
        assert!(c.database_url.is_none());
        assert_eq!((c.log_format, c.export_officer_names, c.min_n), (LogFormat::Text, true, None));
    }

    #[test]
    fn the_public_base_url_follows_bind_addr_unless_set() {
        let c = config(&[("BIND_ADDR", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.public_base_url(), "http://0.0.0.0:9000");
        let c = config(&[("PUBLIC_BASE_URL", "https://ks.chiemhoa.gov.vn/")]).unwrap();
        assert_eq!(c.public_base_url(), "https://ks.chiemhoa.gov.vn");
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
        assert!(d.integrity.desk_networks.is_empty());
        assert_eq!(
            (d.integrity.min_seconds_to_answer, d.integrity.max_tokens_per_device_per_day, d.followup_days),
            (2, 3, 10)
        );
        assert!(d.integrity.guest_networks.is_empty());
        assert_eq!(config(&[("GUEST_NETWORKS", "10.20.0.0/16")]).unwrap().integrity.guest_networks.len(), 1);
        assert_eq!((d.integrity.retention_days, d.integrity.case_link_retention_days), (30, 180));
        let c = config(&[("DESK_NETWORKS", "192.168.1.0/24"), ("FOLLOWUP_DAYS", "5")]).unwrap();
        assert_eq!((c.integrity.desk_networks.len(), c.followup_days), (1, 5));
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
        assert_eq!(config(&[("RUST_LOG", "sipas=loud")]).map(|_| ()).unwrap_err().var, "RUST_LOG");
        let e = config(&[("DB_POOL_SIZE", "500")]).map(|_| ()).unwrap_err();
        assert_eq!(e.to_string(), "configuration variable DB_POOL_SIZE: `500`: 500 is not in 1..=200");
    }

    #[test]
    fn the_secret_key_is_kept_but_never_printed() {
        let key = "k".repeat(40);
        let c = config(&[("SECRET_KEY", &key)]).unwrap();
        assert_eq!(c.secret_key.as_ref().map(|k| k.expose_secret().to_string()), Some(key.clone()));
        assert!(!format!("{c:?}").contains(&key));
        let e = config(&[("SECRET_KEY", "kkkkkkkk")]).map(|_| ()).unwrap_err();
        assert!(!e.to_string().contains("kkkkkkkk"), "{e}");
    }

    /// README's configuration table: variable → its default cell.
    fn readme_table() -> BTreeMap<String, String> {
        let readme = include_str!("../README.md");
        let section = readme.split("\n## Configuration\n").nth(1).unwrap().split("\n## ").next().unwrap();
        section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.strip_prefix("| `")?.split(" | ").collect();
                let name = cells.first()?.strip_suffix('`')?;
                Some((name.to_string(), cells.last()?.trim_end_matches(" |").to_string()))
            })
            .collect()
    }

    /// `.env.example`: variable → its value (`None` when it is only shown commented out).
    fn env_example() -> BTreeMap<String, Option<String>> {
        include_str!("../.env.example")
            .lines()
            .filter_map(|line| {
                let (commented, line) = match line.strip_prefix('#') {
                    Some(rest) => (true, rest.trim_start()),
                    None => (false, line),
                };
                let (name, value) = line.split_once('=')?;
                name.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
                    .then(|| (name.to_string(), (!commented && !value.is_empty()).then(|| value.to_string())))
            })
            .collect()
    }

    #[test]
    fn readme_and_env_example_list_exactly_the_variables_with_their_defaults() {
        let variables = Config::variables();
        let names: BTreeSet<String> = variables.iter().map(|v| v.name.clone()).collect();
        let table = readme_table();
        let example = env_example();
        let in_table: BTreeSet<String> = table.keys().cloned().collect();
        let in_example: BTreeSet<String> = example.keys().cloned().collect();
        for (file, listed) in [("README.md", in_table), (".env.example", in_example)] {
            let missing: Vec<_> = names.difference(&listed).collect();
            let stale: Vec<_> = listed.difference(&names).collect();
            assert!(
                missing.is_empty() && stale.is_empty(),
                "{file}: missing {missing:?}, not read {stale:?}"
            );
        }
        for v in &variables {
            if let Some(default) = v.default.as_deref().filter(|d| !d.is_empty()) {
                assert!(table[&v.name].contains(&format!("`{default}`")), "README's default of {}", v.name);
                if let Some(value) = &example[&v.name] {
                    assert_eq!(value, default, ".env.example's value of {}", v.name);
                }
            }
        }
    }
}
