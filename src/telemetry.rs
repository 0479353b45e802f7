//! Logging: `tracing` with a subscriber filtered by `RUST_LOG` (default `info`), as readable text
//! or JSON lines. Each request runs in a span carrying its request id (tracing-actix-web).

use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

/// Where actix's HTTP/1 connection loop logs. It writes a request it cannot parse (a client's
/// garbage) as `ERROR stream error: request parse error: …`, an error of the operator's that is
/// none: see [`Relay`].
const DISPATCHER: &str = "actix_http::h1::dispatcher";

/// Installs the global subscriber once; later calls (tests) do nothing. `filter` is `RUST_LOG`
/// (checked by `Config`); `default_level` applies when it is unset (`info` for the service, `warn`
/// for one-off commands).
pub fn init(json: bool, filter: Option<&str>, default_level: &str) {
    let filter = EnvFilter::new(filter.unwrap_or(default_level));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> =
        if json { fmt.json().flatten_event(true).boxed() } else { fmt.compact().boxed() };
    let result = tracing_subscriber::registry()
        .with(fmt.with_filter(filter.and(filter_fn(|m| !relayed(m)))))
        .with(Relay.with_filter(filter_fn(relayed)))
        .try_init();
    // an already installed subscriber (a test that set one up) is fine
    drop(result);
}

/// The events [`Relay`] writes again, in place of themselves.
fn relayed(m: &Metadata<'_>) -> bool {
    m.target() == DISPATCHER && *m.level() == Level::ERROR
}

/// Writes actix's connection-loop errors again at the level they deserve: a request actix could
/// not parse was refused with a 400 before any handler ran, so it is one `info` line like every
/// other refused request (`http.status` 400, `error.code` `malformed_request`, the parser's words
/// in `error.detail`); a connection that broke otherwise is a `warn`; anything else stays an
/// `error`. Nothing is dropped, and the request's bytes are never logged (actix's message names
/// only what was wrong).
struct Relay;

impl<S: Subscriber> Layer<S> for Relay {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let text = message.0;
        if let Some(detail) = text.strip_prefix("stream error: ") {
            if detail.starts_with("request parse error") {
                tracing::info!(
                    http.status = 400,
                    error.code = "malformed_request",
                    error.detail = detail,
                    "request"
                );
            } else {
                tracing::warn!(error.detail = detail, "connection failed");
            }
        } else {
            tracing::error!(error.detail = %text, "actix connection error");
        }
    }
}

/// The `message` field of an event.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
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
