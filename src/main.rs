//! The `sipas` command line: its clap types, and the dispatch to `sipas::cli` (what each command
//! does) after loading the configuration and starting telemetry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use sipas::config::{Config, ConfigError, LogFormat};
use sipas::{cli, masterdata::Kind, telemetry};

#[derive(Parser)]
#[command(name = "sipas", version, about = "SIPAS desk survey service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Every command reads the same settings (most need the database), so they sit on the root.
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (with its own PostgreSQL when DATABASE_URL is unset).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Import master data from a UTF-8 CSV file with a header row (all or nothing).
    Import {
        #[arg(value_enum)]
        kind: Kind,
        file: PathBuf,
    },
    /// Manage API keys of one-stop systems.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// The unit's Ed25519 key that signs its province exports.
    #[command(subcommand, name = "export-key")]
    ExportKey(ExportKeyCommand),
    /// Check questionnaire files (a version, or a translation of one).
    #[command(subcommand)]
    Instrument(InstrumentCommand),
    /// Manage staff accounts (the password comes from SIPAS_PASSWORD or standard input).
    #[command(subcommand)]
    User(UserCommand),
    /// Print the configuration variables the service reads.
    Config,
    /// Maintain the statistics roll-ups.
    #[command(subcommand)]
    Rollup(RollupCommand),
    /// Print the statistics the API would answer (and time them).
    Stats {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "none")]
        group_by: String,
        /// Further query parameters as NAME=VALUE (unit, procedure, field, officer, channel, include_flagged).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Scan the raw answers instead of reading the roll-ups.
        #[arg(long)]
        naive: bool,
        /// Run the query this many times and report timings on standard error.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
    },
    /// Fill the database with realistic synthetic data for demos and benchmarks.
    Demo {
        /// How many responses to generate.
        #[arg(long, default_value_t = 20_000)]
        responses: u64,
        /// Seed of the random generator (the same seed gives the same data).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Purge client and device hashes and case links past their retention now (sipas serve does
    /// it hourly).
    Purge,
    /// Cases handled per officer and day, from the one-stop system (for offer rates).
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Export a period's aggregates for the province (JSON, CSV or XLSX).
    Export {
        /// 2026-Q1, 2026-H1 or 2026.
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "json")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The unit (needed when the database holds several).
        #[arg(long)]
        unit: Option<String>,
        /// How statements are scored: share45 (levels 4–5) or mean100 (the mean as 0–100).
        #[arg(long, default_value = "share45")]
        formula: String,
    },
    /// Write the periodic report (báo cáo định kỳ) of a period as a printable HTML page.
    Report {
        #[arg(long)]
        period: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        unit: Option<String>,
        /// How statements are scored: share45 (levels 4–5) or mean100 (the mean as 0–100).
        #[arg(long, default_value = "share45")]
        formula: String,
    },
    /// Province mode: import communes' exports and rank them.
    #[command(subcommand)]
    Province(ProvinceCommand),
    /// Settings of a unit.
    #[command(subcommand)]
    Unit(UnitCommand),
}

#[derive(Subcommand)]
enum ProvinceCommand {
    /// Verify and store communes' JSON exports; one refused file imports nothing.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The registry of communes' public export keys.
    #[command(subcommand)]
    Key(ProvinceKeyCommand),
    /// Rank the communes of a period by SIPAS index.
    Ranking {
        #[arg(long)]
        period: String,
        /// json, csv, xlsx or html.
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportKeyCommand {
    /// Create the unit's export key; prints its public half and key id for the province.
    Create {
        #[arg(long)]
        unit: String,
    },
    /// Replace the unit's export key with a new one (the old one no longer signs).
    Rotate {
        #[arg(long)]
        unit: String,
    },
    /// Print the unit's current public key and key id.
    Show {
        #[arg(long)]
        unit: String,
    },
}

#[derive(Subcommand)]
enum ProvinceKeyCommand {
    /// Register a commune's public key (base64, as `sipas export-key show` prints it).
    Register {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        public_key: String,
        /// The key id the commune sent with it (checked against the public key).
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Revoke a registered key: no export it signed is accepted any more.
    Revoke { key_id: String },
    /// List the registered keys.
    List {
        #[arg(long)]
        unit: Option<String>,
    },
}

#[derive(Subcommand)]
enum UnitCommand {
    /// Switch a unit's public results page (/public/CODE) on or off.
    #[command(name = "public-page")]
    PublicPage {
        unit: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Import a UTF-8 CSV with the header `date,officer_code,cases` (all or nothing).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum RollupCommand {
    /// Recompute every roll-up from the raw answers and invitations.
    Rebuild,
    /// Fold pending roll-up deltas into the daily and monthly counts now.
    Compact,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key for a unit; the key is printed alone on the last line.
    Create {
        #[arg(long)]
        unit: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a key by its id.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; read the password from SIPAS_PASSWORD or the first line of standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: sipas::auth::Role,
        /// The officer code (officers only).
        #[arg(long)]
        officer: Option<String>,
        /// The unit (required for leaders and officers).
        #[arg(long)]
        unit: Option<String>,
    },
}

#[derive(Subcommand)]
enum InstrumentCommand {
    /// Validate a questionnaire TOML file before publishing it.
    Check { file: PathBuf },
}

fn main() -> ExitCode {
    let parsed = Config::ignore_empty_variables(Cli::command())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => match ConfigError::from_clap(&e) {
            Some(bad) => {
                eprintln!("sipas: {bad}");
                return ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    if let Command::Config = cli.command {
        println!("{}", cli::config_variables());
        return ExitCode::SUCCESS;
    }
    if let Command::Instrument(InstrumentCommand::Check { file }) = &cli.command {
        return cli::exit(cli::masterdata::instrument_check(file));
    }
    let config = cli.config;
    telemetry::init(
        config.log_format == LogFormat::Json,
        config.rust_log.as_deref(),
        if matches!(cli.command, Command::Serve) { "info" } else { "warn" },
    );
    let result = match cli.command {
        Command::Serve => {
            actix_web::rt::System::new().block_on(cli::serve::serve(config)).map(|()| String::new())
        }
        Command::Migrate => cli::serve::migrate(&config),
        Command::Import { kind, file } => cli::masterdata::import(&config, kind, &file),
        Command::ApiKey(ApiKeyCommand::Create { unit, name }) => cli::keys::create(&config, &unit, &name),
        Command::ApiKey(ApiKeyCommand::Revoke { id }) => cli::keys::revoke(&config, id),
        Command::ExportKey(ExportKeyCommand::Create { unit }) => cli::signing::create(&config, &unit, false),
        Command::ExportKey(ExportKeyCommand::Rotate { unit }) => cli::signing::create(&config, &unit, true),
        Command::ExportKey(ExportKeyCommand::Show { unit }) => cli::signing::show(&config, &unit),
        Command::Province(ProvinceCommand::Key(ProvinceKeyCommand::Register {
            unit,
            public_key,
            key_id,
        })) => cli::signing::register(&config, &unit, &public_key, key_id.as_deref()),
        Command::Province(ProvinceCommand::Key(ProvinceKeyCommand::Revoke { key_id })) => {
            cli::signing::revoke(&config, &key_id)
        }
        Command::Province(ProvinceCommand::Key(ProvinceKeyCommand::List { unit })) => {
            cli::signing::list(&config, unit.as_deref())
        }
        Command::User(UserCommand::Create { username, role, officer, unit }) => {
            cli::users::create(&config, &username, role, unit, officer)
        }
        Command::Instrument(_) | Command::Config => Ok(String::new()),
        Command::Rollup(RollupCommand::Rebuild) => cli::stats::rebuild(&config),
        Command::Rollup(RollupCommand::Compact) => cli::stats::compact(&config),
        Command::Stats { from, to, group_by, mut params, naive, repeat } => {
            params.extend([("from".into(), from), ("to".into(), to), ("group_by".into(), group_by)]);
            cli::stats::stats(&config, &params, naive, repeat)
        }
        Command::Demo { responses, seed } => cli::demo::run(&config, responses, seed),
        Command::Purge => cli::integrity::purge(&config),
        Command::Cases(CasesCommand::Import { file }) => cli::integrity::import_cases(&config, &file),
        Command::Export { period, format, out, unit, formula } => {
            cli::reporting::export(&config, &period, &format, out.as_deref(), unit.as_deref(), &formula)
        }
        Command::Report { period, out, unit, formula } => {
            cli::reporting::periodic_report(&config, &period, out.as_deref(), unit.as_deref(), &formula)
        }
        Command::Province(ProvinceCommand::Import { files }) => {
            cli::reporting::province_import(&config, &files)
        }
        Command::Province(ProvinceCommand::Ranking { period, format, out }) => {
            cli::reporting::province_ranking(&config, &period, &format, out.as_deref())
        }
        Command::Unit(UnitCommand::PublicPage { unit, state }) => {
            cli::reporting::public_page(&config, &unit, state == "on")
        }
    };
    cli::exit(result)
}
