//! One error type for every request path, mapped to HTTP once. Every error body has the shape
//! `{"error": "<machine_code>", "message": "<human sentence>"}`; actix's own extractor errors are
//! mapped into it too (see [`json_config`] and friends).

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;

/// The cause of an internal error, kept whole (its chain of sources is logged), and shared so
/// that one error can answer every submission of a failed batch.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// An error a request can end with.
#[derive(Clone, thiserror::Error)]
pub enum AppError {
    /// The caller's fault: a 4xx with a machine code and a sentence for a person.
    #[error("{code}: {message}")]
    Client { status: StatusCode, code: &'static str, message: String },
    /// The database cannot be reached or the pool is exhausted: 503, the client may retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else: 500, and the body says only "internal error". The detail is logged once,
    /// by the request span, with its chain of causes (see the `Debug` form).
    #[error("internal error: {0}")]
    Internal(Cause),
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Client { status, code, message } => f
                .debug_struct("Client")
                .field("status", status)
                .field("code", code)
                .field("message", message)
                .finish(),
            AppError::Unavailable(m) => f.debug_tuple("Unavailable").field(m).finish(),
            AppError::Internal(e) => {
                write!(f, "Internal({e}")?;
                let mut source = e.source();
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                write!(f, ")")
            }
        }
    }
}

/// The JSON body of every error.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A machine code, stable across versions (`not_found`, `invalid_body`, `token_spent`, …).
    pub error: String,
    /// A sentence for a person; it names the field or item at fault.
    pub message: String,
}

/// The refusals of a route that reads a JSON body (what [`json_config`] answers), for the
/// OpenAPI document: list it in a handler's `#[utoipa::path(responses(…))]`.
#[derive(utoipa::IntoResponses)]
pub enum JsonBodyRefusals {
    /// `malformed_json`: the body is not valid JSON.
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// `payload_too_large`: the body is over the route's limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// `unsupported_media_type`: the body is not sent as `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// Well-formed but invalid (`invalid_body` for a missing, unknown or mistyped field, or the
    /// route's own code); the message names the field or item.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// `unauthorized` (401): no API key or staff session, or one that is unknown, revoked or expired.
#[derive(utoipa::IntoResponses)]
#[response(status = 401)]
pub struct Unauthorized(pub ErrorBody);

/// `forbidden` (403): the caller may not act for this unit or see these figures.
#[derive(utoipa::IntoResponses)]
#[response(status = 403)]
pub struct Forbidden(pub ErrorBody);

/// A 404: there is nothing at this address (an unknown token, code or id).
#[derive(utoipa::IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub ErrorBody);

/// `invalid_query` and the route's own codes (400): the query string is not valid; the message
/// names the parameter.
#[derive(utoipa::IntoResponses)]
#[response(status = 400)]
pub struct BadQuery(pub ErrorBody);

/// `unavailable` (503, with `Retry-After`): the database cannot be reached right now.
#[derive(utoipa::IntoResponses)]
#[response(status = 503)]
pub struct Unavailable(pub ErrorBody);

impl AppError {
    /// A 500 caused by `e` (an error, or a sentence for the log).
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let cause: Box<dyn std::error::Error + Send + Sync> = e.into();
        AppError::Internal(Arc::from(cause))
    }

    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Client { status, code, message: message.into() }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, message)
    }
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::GONE, code, message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::client(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }

    /// The machine code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Client { code, .. } => code,
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The sentence of the body; never a detail of a server-side failure.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Client { message, .. } => message.clone(),
            AppError::Unavailable(_) => {
                "The service cannot reach its database right now; please try again in a moment.".into()
            }
            AppError::Internal(_) => "internal error".into(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Client { status, .. } => *status,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, AppError::Unavailable(_)) {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(ErrorBody { error: self.code().to_string(), message: self.public_message() })
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => AppError::Unavailable(e.to_string()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Unavailable(e.to_string())
            }
            Error::DatabaseError(_, info) if is_outage(info.message()) => {
                AppError::Unavailable(e.to_string())
            }
            Error::BrokenTransactionManager => AppError::Unavailable(e.to_string()),
            // a NUL character that reached a statement: the caller's text, not a failure of the
            // service; the statement (and its transaction) did nothing (SECURITY.md, finding 8)
            Error::DatabaseError(_, info) if is_nul_text(info.message()) => {
                AppError::bad_request("invalid_text", "Text may not contain NUL characters.")
            }
            _ => AppError::internal(e),
        }
    }
}

/// PostgreSQL's refusal of a NUL character in text (SQLSTATE 22021, which diesel does not expose).
fn is_nul_text(message: &str) -> bool {
    message.contains("invalid byte sequence") && message.contains("0x00")
}

/// Messages PostgreSQL and libpq give while the server restarts, shuts down, cancels a statement
/// that ran too long, drops the connection, or turns out to be a standby: the request may be retried, so they are 503s.
/// (diesel does not expose the SQLSTATE, so the text is what there is.)
fn is_outage(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not connect",
        "connection to server",
        "the database system is",
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
        "could not receive data",
        "could not send data",
        "SSL connection has been closed",
        // a write reaching a standby (a connection opened before a failover, or a URL without
        // target_session_attrs=read-write): retried, it goes to the primary
        "in a read-only transaction",
        "recovery is in progress",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::internal(e.to_string())
    }
}

/// JSON bodies: malformed JSON is 400, a body over the limit 413, a wrong content type 415.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _req: &HttpRequest| {
        use actix_web::error::JsonPayloadError as J;
        let app = match &err {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The request body is larger than {limit} bytes."),
            ),
            J::ContentType => AppError::client(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            ),
            J::Deserialize(e) if e.is_data() => AppError::unprocessable(
                "invalid_body",
                format!("The JSON body does not have the expected fields: {e}"),
            ),
            _ => {
                AppError::bad_request("malformed_json", format!("The request body is not valid JSON: {err}"))
            }
        };
        app.into()
    })
}

/// Query strings: a bad one is 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::bad_request("invalid_query", format!("The query string is not valid: {err}")).into()
    })
}

/// Path segments that do not parse are 404: such an address does not exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| {
        AppError::not_found("not_found", "There is nothing at this address.").into()
    })
}

/// HTML form bodies: garbage is 400, too large 413.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default().limit(limit).error_handler(move |err, _req| {
        use actix_web::error::UrlencodedError as U;
        match err {
            U::Overflow { .. } => AppError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The form is larger than {limit} bytes."),
            ),
            other => AppError::bad_request("invalid_form", format!("The form could not be read: {other}")),
        }
        .into()
    })
}

/// The machine code of a bodiless error response (actix's own 405, 413, …), as
/// [`fill_empty_error_body`] writes it and the request's log line names it.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Gives an error response that left its body empty (actix's own 405 for a method a route does
/// not take, for instance) the standard JSON shape, so that no error reaches a client bodiless.
pub fn fill_empty_error_body<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::body::{BodySize, EitherBody};
    use actix_web::middleware::ErrorHandlerResponse;
    if !matches!(res.response().body().size(), BodySize::None | BodySize::Sized(0)) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = code_for_status(status);
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method.".to_string(),
        s if s.is_server_error() => "internal error".to_string(),
        s => s.canonical_reason().unwrap_or("The request was refused.").to_string(),
    };
    let body = serde_json::to_string(&ErrorBody { error: code.into(), message }).unwrap_or_default();
    let (req, mut response) = res.into_parts();
    response.headers_mut().insert(
        actix_web::http::header::CONTENT_TYPE,
        actix_web::http::header::HeaderValue::from_static("application/json"),
    );
    let response = response.set_body(body).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response).map_body(|_, b| EitherBody::right(b)),
    ))
}

/// The fallback for unknown routes and methods.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::not_found("not_found", "There is nothing at this address."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_say_only_internal_error() {
        let e = AppError::internal("password=secret in a query");
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(e.error_response().into_body()).await.unwrap_or_default();
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.error, "internal");
        assert_eq!(body.message, "internal error");
    }

    #[test]
    fn an_internal_error_keeps_its_causes_for_the_log_and_copies_whole() {
        #[derive(Debug, thiserror::Error)]
        #[error("the export could not be written")]
        struct Outer(#[source] std::io::Error);
        let e = AppError::internal(Outer(std::io::Error::other("disk full")));
        assert_eq!(format!("{e:?}"), "Internal(the export could not be written: disk full)");
        assert_eq!(format!("{:?}", e.clone()), format!("{e:?}"));
    }

    #[test]
    fn a_server_shutting_down_is_unavailable_not_internal() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("terminating connection due to administrator command".to_string()),
        );
        assert_eq!(AppError::from(e).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("division by zero".to_string()),
        );
        assert_eq!(AppError::from(e).status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_closed_connection_is_unavailable_not_internal() {
        let e = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_string()),
        );
        assert_eq!(AppError::from(e).status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
