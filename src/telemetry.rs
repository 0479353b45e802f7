//! Logging: `tracing` with a subscriber filtered by `RUST_LOG` (default `info`), as readable text
//! or JSON lines. Each request runs in a span carrying its request id (tracing-actix-web).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) do nothing. `default_level` applies
/// when `RUST_LOG` is unset (`info` for the service, `warn` for one-off commands).
pub fn init(json: bool, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result =
        if json { builder.json().flatten_event(true).try_init() } else { builder.compact().try_init() };
    // an already installed subscriber (a test that set one up) is fine
    drop(result);
}
