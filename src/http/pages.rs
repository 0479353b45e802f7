//! What every staff page shares (the dashboards', integrity's, reporting's and staff's own): the
//! layout's data, HTML rendering, and the page error (a redirect to sign in, or an HTML error page
//! with the right status).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::text;
use crate::auth::role::{Role, StaffCaller};
use crate::error::AppError;

/// The layout's data: who is signed in, the menu they may use, the CSRF token for the
/// sign-out form, and which menu entry is current.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub css: String,
    pub username: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub is_admin: bool,
    pub is_officer: bool,
    /// Province staff: their menu is the ranking and the upload, nothing of a commune.
    pub is_province: bool,
    pub current: &'static str,
}

impl Layout {
    pub fn new(staff: &StaffCaller, title: impl Into<String>, current: &'static str) -> Layout {
        Layout {
            title: title.into(),
            css: css_href(),
            username: staff.username.clone(),
            role_label: staff.role().label_vi(),
            csrf: staff.csrf.clone(),
            is_admin: staff.role() == Role::Admin,
            is_officer: staff.role() == Role::Officer,
            is_province: staff.role() == Role::Province,
            current,
        }
    }
}

/// The staff stylesheet's address with its version.
pub fn css_href() -> String {
    super::assets::href("staff.css")
}

/// Renders a template as an HTML response with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    let html = page.render().map_err(|e| PageError::App(AppError::internal(format!("template: {e}"))))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// A 303 to `to` (after a form post).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// How a page request ends when it does not show its page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then back to `next`.
    #[error("sign-in required")]
    Login { next: String },
    /// Signed in, but the role may not see this.
    #[error("forbidden")]
    Forbidden,
    /// A form without this session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// Nothing here.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    App(#[from] AppError),
}

#[derive(Template)]
#[template(path = "staff/error.html")]
struct ErrorPage<'a> {
    css: String,
    title: &'a str,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Login { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::Login { next } = self {
            let to = match same_origin_path(next) {
                Some(next) => format!("/login?next={}", urlencode(&next)),
                None => "/login".into(),
            };
            return see_other(&to);
        }
        let (title, message) = match self {
            PageError::Forbidden => (text::FORBIDDEN_TITLE, text::FORBIDDEN.to_string()),
            PageError::Csrf => (text::CSRF_TITLE, text::CSRF.to_string()),
            PageError::NotFound => (text::NOT_FOUND_TITLE, text::NOT_FOUND.to_string()),
            PageError::App(e) => (text::ERROR_TITLE, e.public_message()),
            PageError::Login { .. } => (text::ERROR_TITLE, String::new()),
        };
        let page = ErrorPage { css: css_href(), title, message };
        let body = page.render().unwrap_or_else(|_| title.to_string());
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, PageError::App(AppError::Unavailable(_))) {
            res.insert_header(("Retry-After", "5"));
        }
        res.content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)
    }
}

/// The local path to return to after signing in, or `None` when `next` would lead anywhere else.
///
/// `next` is parsed the way a browser resolves a link on this site (the WHATWG URL rules of the
/// `url` crate: tabs and newlines dropped, `\\` read as `/`, `..` resolved) and accepted only when
/// it stays on the same origin; what comes back is the parsed path and query, re-serialised, so
/// the `Location` header never carries a control character or a second authority. Prefix checks
/// are not enough: `/\t/evil.example` passes `starts_with('/')` but a browser follows it to
/// `//evil.example`.
pub fn same_origin_path(next: &str) -> Option<String> {
    const BASE: &str = "http://sipas.invalid/";
    if !next.starts_with('/') || next.len() > 512 {
        return None;
    }
    let base = url::Url::parse(BASE).ok()?;
    let parsed = base.join(next).ok()?;
    if parsed.origin() != base.origin() || !parsed.username().is_empty() || parsed.password().is_some() {
        return None;
    }
    let path = parsed.path();
    if path.starts_with("//") || path == "/login" || path.starts_with("/login/") {
        return None;
    }
    Some(match parsed.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    })
}

/// True for a local path to return to after signing in (never another site); see
/// [`same_origin_path`], whose normalised value is what should be used.
pub fn safe_next(next: &str) -> bool {
    same_origin_path(next).is_some()
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert!(safe_next("/dashboard?period=2026-Q1"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/\\evil.example"));
        assert!(!safe_next("/login"));
        // what a browser would follow off-site, once tabs and newlines are dropped
        assert!(!safe_next("/\t/evil.example"));
        assert!(!safe_next("/\n/evil.example"));
        assert!(!safe_next("/\r\n/evil.example/"));
        assert_eq!(same_origin_path("/%2F/evil.example").as_deref(), Some("/%2F/evil.example"));
        assert!(!safe_next("/../login"));
        assert_eq!(same_origin_path("/dashboard?x=a\nb").as_deref(), Some("/dashboard?x=ab"));
        assert_eq!(same_origin_path("/a/../dashboard").as_deref(), Some("/dashboard"));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("/dashboard?a=1&b=Hộ"), "%2Fdashboard%3Fa%3D1%26b%3DH%E1%BB%99");
    }
}
