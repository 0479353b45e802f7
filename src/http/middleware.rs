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
    if has_nul(req.query_string()) {
        // PostgreSQL text cannot hold NUL, and no parameter of the service needs one: refused
        // before any handler can pass it on (SECURITY.md, finding 8)
        let refusal =
            AppError::bad_request("invalid_text", "The address may not contain NUL characters (%00).")
                .error_response();
        return Ok(req.into_response(refusal).map_into_right_body());
    }
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

/// True when a raw query string carries a NUL, percent-encoded or not.
fn has_nul(query: &str) -> bool {
    query.contains('\0') || query.as_bytes().windows(3).any(|w| w == b"%00")
}

/// Headers that depend on the answer or the deployment (finding 14 of SECURITY.md): JSON is
/// never cached (`Cache-Control: no-store`, unless the handler chose a policy, as the public
/// OpenAPI document does), and over https browsers are told to stay on https
/// (`Strict-Transport-Security`, one year).
pub async fn answer_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    use actix_web::http::header::{self, HeaderValue};
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.public_base_url.starts_with("https://"));
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("application/schema+json"));
    if json && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    Ok(res)
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
