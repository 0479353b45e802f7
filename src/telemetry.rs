//! Logging: `tracing` with a subscriber filtered by `RUST_LOG` (default `info`), as readable text
//! or JSON lines. Each request runs in a span carrying its request id (tracing-actix-web).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) do nothing. `filter` is `RUST_LOG`
/// (checked by `Config`); `default_level` applies when it is unset (`info` for the service, `warn`
/// for one-off commands).
pub fn init(json: bool, filter: Option<&str>, default_level: &str) {
    let filter = EnvFilter::new(filter.unwrap_or(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result =
        if json { builder.json().flatten_event(true).try_init() } else { builder.compact().try_init() };
    // an already installed subscriber (a test that set one up) is fine
    drop(result);
}

/// The request span. Unlike tracing-actix-web's default it records the route pattern
/// (`/s/{token}`), never the raw path, query, client address or user agent: survey tokens, typed
/// codes and residents' addresses stay out of the logs.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_string());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            request_id = %uuid::Uuid::new_v4(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
