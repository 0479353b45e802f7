//! The `sipas` command line: parse, load configuration, start telemetry, dispatch.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sipas::{commands, config::Config, telemetry};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sipas: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_json);
    let result = match cli.command {
        Command::Serve => actix_web::rt::System::new().block_on(commands::serve(config)),
        Command::Migrate => commands::migrate(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sipas: {e}");
            ExitCode::FAILURE
        }
    }
}
