//! Building the application: shared state, middleware, routes. Production (`sipas serve`) and the
//! integration tests build it through the same [`build_app`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::db::Pool;
use crate::error;
use crate::health::{self, metrics::Metrics};
use crate::instrument::Instruments;
use crate::invitations;

/// Largest JSON body accepted by default (answers have their own, smaller limit).
pub const JSON_LIMIT: usize = 64 * 1024;
/// Largest HTML form body.
pub const FORM_LIMIT: usize = 16 * 1024;

/// What every handler can reach. Cheap to clone; nothing in it is per-instance state that two
/// instances would need to agree on (that lives in the database).
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub instruments: Arc<Instruments>,
    pub metrics: Metrics,
    /// Signs cookies and salts client hashes; shared by every instance through the database
    /// unless `SECRET_KEY` sets it.
    pub secret: Arc<Vec<u8>>,
    /// Stores survey answers in group-committed batches (see `responses::committer`).
    pub answers: crate::responses::committer::Committer,
}

/// The whole application: middleware, extractor error shapes, and every capability's routes.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics = state.metrics.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(error::json_config(JSON_LIMIT))
        .app_data(error::query_config())
        .app_data(error::path_config())
        .app_data(error::form_config(FORM_LIMIT))
        .configure(health::routes)
        .configure(crate::stats::routes)
        .configure(invitations::routes)
        .configure(crate::responses::routes)
        .configure(crate::survey::routes)
        .configure(crate::staff::routes)
        .configure(crate::dashboard::routes)
        .configure(crate::integrity::routes)
        .configure(crate::reporting::routes)
        .default_service(web::to(error::not_found))
        .wrap_fn(|req, srv| {
            // the authorisation matrix (crate::auth::access): a route without a row is never served
            use actix_web::dev::Service as _;
            let pattern = req.match_pattern();
            if crate::auth::access::check(req.method(), pattern.as_deref()) {
                let fut = srv.call(req);
                return Box::pin(async move { fut.await.map(ServiceResponse::map_into_left_body) })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>;
            }
            tracing::warn!(
                http.route = pattern.as_deref().unwrap_or(""),
                http.method = %req.method(),
                "refused: the method and route are not in the access table"
            );
            let refusal = actix_web::ResponseError::error_response(&error::AppError::client(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This address does not take that method.",
            ));
            let res = req.into_response(refusal).map_into_right_body();
            Box::pin(async move { Ok(res) })
        })
        .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(error::fill_empty_error_body))
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service as _;
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                crate::staff::session::write_pending(&mut res);
                Ok(res)
            }
        })
        .wrap(Compress::default())
        .wrap(security_headers())
        .wrap_fn(move |req, srv| {
            use actix_web::dev::Service as _;
            let started = Instant::now();
            let method = req.method().to_string();
            let metrics = metrics.clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
                let elapsed = started.elapsed();
                metrics.observe(&route, &method, res.status().as_u16(), elapsed);
                // one line per request, inside the request span (which carries its id)
                tracing::info!(
                    http.route = %route,
                    http.method = %method,
                    http.status = res.status().as_u16(),
                    duration_ms = elapsed.as_secs_f64() * 1000.0,
                    "request"
                );
                Ok(res)
            }
        })
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
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let server =
        HttpServer::new(move || build_app(state.clone())).listen(listener)?.shutdown_timeout(10).run();
    Ok(server)
}
