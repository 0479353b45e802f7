//! The wiring: middleware, extractor error shapes and every capability's routes. Production
//! (`sipas serve`) and the integration tests build the application through the same
//! [`build_app`].

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::app::AppState;
use crate::error;
use crate::http::middleware;
use crate::responses::committer::Committer;

/// Largest JSON body accepted by default (answers have their own, smaller limit).
pub const JSON_LIMIT: usize = 64 * 1024;
/// Largest HTML form body.
pub const FORM_LIMIT: usize = 16 * 1024;

/// The whole application: the shared state and the answer writers as their own `web::Data`,
/// middleware, extractor error shapes, and every capability's routes.
pub fn build_app(
    state: AppState,
    answers: Committer,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(answers))
        .app_data(error::json_config(JSON_LIMIT))
        .app_data(error::query_config())
        .app_data(error::path_config())
        .app_data(error::form_config(FORM_LIMIT))
        .configure(crate::http::assets::routes)
        .configure(crate::health::routes)
        .configure(crate::openapi::routes)
        .configure(crate::stats::routes)
        .configure(crate::invitations::routes)
        .configure(crate::responses::routes)
        .configure(crate::survey::routes)
        .configure(crate::staff::routes)
        .configure(crate::dashboard::routes)
        .configure(crate::integrity::routes)
        .configure(crate::followups::routes)
        .configure(crate::reporting::routes)
        .default_service(web::to(error::not_found))
        .wrap(from_fn(middleware::access_check))
        .wrap(ErrorHandlers::new().default_handler(error::fill_empty_error_body))
        .wrap(from_fn(middleware::write_pending_cookie))
        .wrap(Compress::default())
        .wrap(security_headers())
        .wrap(from_fn(middleware::answer_headers))
        .wrap(from_fn(middleware::observe_request))
        .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
}

/// Headers every answer carries. Pages load only their own CSS and scripts (no inline code, no
/// third-party origin), cannot be framed, and never send the survey address as a referrer.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Starts serving on an already bound listener; the server stops gracefully on SIGINT/SIGTERM.
pub fn run(listener: TcpListener, state: AppState, answers: Committer) -> std::io::Result<Server> {
    let server = HttpServer::new(move || build_app(state.clone(), answers.clone()))
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
    Ok(server)
}
