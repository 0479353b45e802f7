//! The middleware every request passes through, as plain async functions that
//! `router::build_app` mounts with [`actix_web::middleware::from_fn`].

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::app::AppState;
use crate::error::AppError;
use crate::http::pages::PageError;

/// The authorisation matrix (`auth::access`): a method and route without a row is never served,
/// whoever asks (the request's one log line says `method_not_allowed`).
pub async fn access_check<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let pattern = req.match_pattern();
    if has_nul(req.query_string()) {
        // PostgreSQL text cannot hold NUL, and no parameter of the service needs one: refused
        // before any handler can pass it on (SECURITY.md, finding 8)
        let refusal = actix_web::HttpResponse::from_error(AppError::bad_request(
            "invalid_text",
            "The address may not contain NUL characters (%00).",
        ));
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    if crate::auth::access::check(req.method(), pattern.as_deref()) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let refusal = actix_web::HttpResponse::from_error(AppError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This address does not take that method.",
    ));
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
        .is_some_and(|s| s.config.public_base_url().starts_with("https://"));
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
///
/// The line is at `info` for every answer below 500, refusals included, with the refusal's
/// machine code (`error.code`: `unknown_token`, `unsupported_media_type`, `sign_in` for a page
/// that sends a visitor to the sign-in…): a refused request is the client's business, and a flood
/// of them must not bury the warnings. A 5xx is one `error` line carrying the cause's chain.
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
    let status = res.status();
    let error = res.response().error();
    // an answer actix made without an error of ours (its own 405, 413): the code its body got
    let code = error.map(error_code).or_else(|| {
        (status.is_client_error() || status.is_server_error()).then(|| crate::error::code_for_status(status))
    });
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(
            http.route = %route,
            http.method = %method,
            http.status = status.as_u16(),
            error.code = code,
            error.detail = error.map(|e| format!("{e:?}")),
            duration_ms,
            "request failed"
        );
    } else {
        tracing::info!(
            http.route = %route,
            http.method = %method,
            http.status = status.as_u16(),
            error.code = code,
            duration_ms,
            "request"
        );
    }
    Ok(res)
}

/// The machine code of an error a handler or an extractor answered with.
fn error_code(e: &Error) -> &'static str {
    if let Some(e) = e.as_error::<AppError>() {
        return e.code();
    }
    match e.as_error::<PageError>() {
        Some(PageError::Login { .. }) => "sign_in",
        Some(PageError::Forbidden) => "forbidden",
        Some(PageError::Csrf) => "csrf",
        Some(PageError::NotFound) => "not_found",
        Some(PageError::App(e)) => e.code(),
        None => "other",
    }
}
