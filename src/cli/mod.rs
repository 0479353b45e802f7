//! What each `sipas` subcommand does; `main.rs` only parses the command line and calls these.
//! Every command returns what it prints, or an error that [`exit`] prints and turns into the
//! exit status.

pub mod db;
pub mod demo;
pub mod integrity;
pub mod keys;
pub mod masterdata;
pub mod reporting;
pub mod serve;
pub mod signing;
pub mod stats;
pub mod users;

use std::process::ExitCode;

/// `sipas config`: the configuration variables the service reads.
pub fn config_variables() -> String {
    crate::config::Config::variables()
        .iter()
        .map(|v| match v.default.as_deref().filter(|d| !d.is_empty()) {
            Some(default) => format!("{:30} {} (default {default})", v.name, v.meaning),
            None => format!("{:30} {}", v.name, v.meaning),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints a command's output (or its error, on standard error) and gives the exit status.
pub fn exit(result: Result<String, String>) -> ExitCode {
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
