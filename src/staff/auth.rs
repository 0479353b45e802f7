//! Resolving the staff member behind a request, for the API's `Caller` and for the pages'
//! [`StaffPage`] extractor (which redirects to the sign-in page instead of answering 401).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use super::pages::PageError;
use super::session::{self, PendingCookie};
use super::store;
use crate::app::AppState;
use crate::auth::StaffCaller;
use crate::db;
use crate::error::AppError;
use crate::staff::model::Role;

/// The staff member signed in on this request, re-checked against the `users` table (a
/// deactivated account, or one whose sessions were ended, is out at once). Leaves a refreshed
/// cookie for the response when the idle time-out should slide.
pub fn resolve(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Option<StaffCaller>, AppError>>>> {
    let req = req.clone();
    Box::pin(async move {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Err(AppError::Internal("application state is missing".into()));
        };
        let key = session::cookie_key(&state.secret);
        let now = chrono::Utc::now().timestamp();
        let Some(data) = session::read_session(&req, &key, now) else { return Ok(None) };
        let (uid, epoch) = (data.uid, data.epoch);
        let user = db::run(&state.pool, move |conn| Ok(store::session_user(conn, uid, epoch)?)).await?;
        let Some(user) = user else { return Ok(None) };
        if data.needs_refresh(now) {
            let fresh = session::SessionData { seen: now, ..data.clone() };
            let cookie = session::session_cookie(&key, &fresh, session::secure(&state));
            req.extensions_mut().insert(PendingCookie(cookie));
        }
        Ok(Some(StaffCaller {
            user_id: user.id,
            username: user.username,
            scope: user.scope,
            csrf: data.csrf,
        }))
    })
}

/// True for a state-changing request that a browser says comes from another site. Session
/// cookies are SameSite=Lax already; this refuses what a lax cookie still lets through.
pub fn cross_site_write(req: &HttpRequest) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let fetch_site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|s| s == "cross-site" || s == "same-site") {
        return true;
    }
    let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    let host = req.connection_info().host().to_string();
    let own = |o: &str| o.split_once("://").is_some_and(|(_, rest)| rest == host);
    let public = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.public_base_url == origin);
    origin != "null" && !(own(origin) || public)
}

/// A signed-in staff member, for pages: anonymous visitors are sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct StaffPage(pub StaffCaller);

impl StaffPage {
    /// Refuses with a 403 page unless the role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        self.0.require_role(roles).map_err(|_| PageError::Forbidden)
    }

    /// Refuses with 400 unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if session::tokens_match(token, &self.0.csrf) { Ok(()) } else { Err(PageError::Csrf) }
    }
}

impl FromRequest for StaffPage {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let session = resolve(req);
        let next = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        let cross_site = cross_site_write(req);
        Box::pin(async move {
            match session.await {
                Ok(Some(_)) if cross_site => Err(PageError::Csrf),
                Ok(Some(staff)) => Ok(StaffPage(staff)),
                Ok(None) => Err(PageError::Login { next }),
                Err(e) => Err(PageError::App(e)),
            }
        })
    }
}
