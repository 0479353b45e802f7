//! The `sipas` command line: parse, load configuration, start telemetry, dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sipas::{commands, config::Config, masterdata::Kind, telemetry};

#[derive(Parser)]
#[command(name = "sipas", version, about = "SIPAS desk survey service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Check questionnaire files.
    #[command(subcommand)]
    Instrument(InstrumentCommand),
    /// Print the configuration variables the service reads.
    Config,
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
enum InstrumentCommand {
    /// Validate a questionnaire TOML file before publishing it.
    Check { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Config = cli.command {
        for (name, meaning) in sipas::config::VARIABLES {
            println!("{name:26} {meaning}");
        }
        return ExitCode::SUCCESS;
    }
    if let Command::Instrument(InstrumentCommand::Check { file }) = &cli.command {
        return report(commands::instrument_check(file));
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sipas: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_json, if matches!(cli.command, Command::Serve) { "info" } else { "warn" });
    let result = match cli.command {
        Command::Serve => {
            actix_web::rt::System::new().block_on(commands::serve(config)).map(|()| String::new())
        }
        Command::Migrate => commands::migrate(&config).map(|()| "migrations are up to date".to_string()),
        Command::Import { kind, file } => commands::import(&config, kind, &file),
        Command::ApiKey(ApiKeyCommand::Create { unit, name }) => {
            commands::api_key_create(&config, &unit, &name)
        }
        Command::ApiKey(ApiKeyCommand::Revoke { id }) => commands::api_key_revoke(&config, id),
        Command::Instrument(_) | Command::Config => Ok(String::new()),
    };
    report(result)
}

fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sipas: {e}");
            ExitCode::FAILURE
        }
    }
}
