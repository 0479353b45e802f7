//! The middleware every request passes through, as plain async functions that
//! `router::build_app` mounts with [`actix_web::middleware::from_fn`].

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use crate::app::AppState;
use crate::error::AppError;

/// The authorisation matrix (`auth::access`): a method and route without a row is never served,
/// whoever asks.
pub async fn access_check<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let pattern = req.match_pattern();
    if crate::auth::access::check(req.method(), pattern.as_deref()) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    tracing::warn!(
        http.route = pattern.as_deref().unwrap_or(""),
        http.method = %req.method(),
        "refused: the method and route are not in the access table"
    );
    let refusal = AppError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This address does not take that method.",
    )
    .error_response();
    Ok(req.into_response(refusal).map_into_right_body())
}

/// Writes the refreshed session cookie the session extractor left for the response.
pub async fn write_pending_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    crate::auth::session::write_pending(&mut res);
    Ok(res)
}

/// Counts the request in the metrics and logs one line for it, inside the request span (which
/// carries its id). Routes are patterns (`/s/{token}`), never raw paths.
pub async fn observe_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state.metrics.observe(&route, &method, res.status().as_u16(), elapsed);
    }
    tracing::info!(
        http.route = %route,
        http.method = %method,
        http.status = res.status().as_u16(),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}
