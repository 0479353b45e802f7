//! Who is calling, as extractors: [`Caller`] (an API key, or commune staff signed in),
//! [`AnyCaller`] (province staff too), [`ProvinceCaller`] (the province routes) and, for pages,
//! [`StaffPage`] (which redirects to the sign-in page instead of answering 401).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use super::role::{Role, StaffCaller};
use super::session::{self, PendingCookie};
use crate::app::AppState;
use crate::db;
use crate::error::AppError;
use crate::http::pages::PageError;

/// An authenticated caller of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A one-stop system holding an API key of `unit_code`.
    ApiKey { key_id: i64, unit_code: String },
    /// A staff member signed in through the web pages.
    Staff(StaffCaller),
}

impl Caller {
    /// The unit the caller acts for: the API key's unit, or the staff member's unit. An admin
    /// without a home unit has none and gets "", which matches no unit; code that reads figures
    /// should use [`Caller::unit_scope`], where an admin's `None` means every unit.
    pub fn unit_code(&self) -> &str {
        match self {
            Caller::ApiKey { unit_code, .. } => unit_code,
            Caller::Staff(s) => s.scope.unit().unwrap_or(""),
        }
    }

    /// The unit the caller is limited to, or `None` for an admin (every unit). Province staff
    /// get `Some("")`, which matches no unit: they act for no commune.
    pub fn unit_scope(&self) -> Option<&str> {
        match self {
            Caller::ApiKey { unit_code, .. } => Some(unit_code),
            Caller::Staff(s) if s.role() == Role::Admin => None,
            Caller::Staff(s) => Some(s.scope.unit().unwrap_or("")),
        }
    }

    /// The only officer whose results and follow-ups the caller may see: `Some` for an officer.
    pub fn officer_scope(&self) -> Option<&str> {
        match self {
            Caller::ApiKey { .. } => None,
            Caller::Staff(s) => s.scope.officer(),
        }
    }

    /// True when the caller may act for (issue for, read the figures of) this unit. An admin
    /// may act for every unit.
    pub fn may_act_for_unit(&self, unit: &str) -> bool {
        match self.unit_scope() {
            None => true,
            Some(own) => own == unit,
        }
    }

    /// True when the caller may see the results of this officer of this unit.
    pub fn may_see_officer(&self, officer: &str, officer_unit: &str) -> bool {
        self.may_act_for_unit(officer_unit) && self.officer_scope().is_none_or(|own| own == officer)
    }

    /// The staff member, or 403 for an API key.
    pub fn staff(&self) -> Result<&StaffCaller, AppError> {
        match self {
            Caller::Staff(s) => Ok(s),
            Caller::ApiKey { .. } => Err(AppError::forbidden("This needs a staff sign-in, not an API key.")),
        }
    }

    /// Refuses with 403 unless the caller is staff with one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<&StaffCaller, AppError> {
        let staff = self.staff()?;
        staff.require_role(roles)?;
        Ok(staff)
    }

    /// The unit a request acts for: `requested`, or the caller's own; refused (403) when the
    /// caller may not act for it.
    pub fn unit_for(&self, requested: Option<&str>) -> Result<String, AppError> {
        let unit = requested.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(self.unit_code());
        if unit.is_empty() {
            return Err(AppError::bad_request("missing_unit", "Name the unit with `unit=CODE`."));
        }
        if !self.may_act_for_unit(unit) {
            return Err(AppError::forbidden("You may not act for this unit."));
        }
        Ok(unit.to_string())
    }

    /// Refuses staff without one of `roles` with 403; an API key (a unit's one-stop system)
    /// passes.
    pub fn allow_staff(&self, roles: &[Role]) -> Result<(), AppError> {
        match self {
            Caller::Staff(s) => s.require_role(roles),
            Caller::ApiKey { .. } => Ok(()),
        }
    }

    /// How the caller is named in the audit log and on the rows it creates.
    pub fn actor(&self) -> String {
        match self {
            Caller::ApiKey { key_id, .. } => format!("api-key:{key_id}"),
            Caller::Staff(s) => s.actor(),
        }
    }
}

/// A caller acting for a commune: an API key, or commune staff or an admin signed in. Province
/// staff are refused here with 403 (they act for no commune); the province routes take
/// [`ProvinceCaller`], and `GET /api/v1/me` takes [`AnyCaller`].
impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let any = resolve_caller(req);
        Box::pin(async move {
            match any.await? {
                Caller::Staff(s) if s.role() == Role::Province => {
                    Err(AppError::forbidden("A province account imports exports and reads the ranking only."))
                }
                caller => Ok(caller),
            }
        })
    }
}

/// Any authenticated caller, province staff included.
#[derive(Debug, Clone)]
pub struct AnyCaller(pub Caller);

impl FromRequest for AnyCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let any = resolve_caller(req);
        Box::pin(async move { any.await.map(AnyCaller) })
    }
}

/// A caller of the province routes (import, ranking): province staff or an admin, signed in.
/// An API key is refused with 403 whatever its unit: a commune's key must not import other
/// communes' figures or read the province's ranking.
#[derive(Debug, Clone)]
pub struct ProvinceCaller(pub StaffCaller);

/// The roles that may use the province routes.
pub const PROVINCE_ROLES: &[Role] = &[Role::Province, Role::Admin];

impl FromRequest for ProvinceCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let any = resolve_caller(req);
        Box::pin(async move {
            match any.await? {
                Caller::Staff(s) => {
                    s.require_role(PROVINCE_ROLES)?;
                    Ok(ProvinceCaller(s))
                }
                Caller::ApiKey { .. } => Err(AppError::forbidden(
                    "The province routes need a province staff sign-in; API keys are for communes.",
                )),
            }
        })
    }
}

/// Who is calling, whatever the role: an API key, a staff session, or 401.
fn resolve_caller(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Caller, AppError>>>> {
    if req.headers().get(header::AUTHORIZATION).is_none() {
        // no API key: a staff session, or nobody
        let session = resolve(req);
        let cross_site = cross_site_write(req);
        return Box::pin(async move {
            match session.await? {
                Some(_) if cross_site => {
                    Err(AppError::forbidden("A signed-in change must come from this service's own pages."))
                }
                Some(staff) => Ok(Caller::Staff(staff)),
                None => Err(AppError::unauthorized(
                    "Send an API key as `Authorization: Bearer <key>`, or sign in at /login.",
                )),
            }
        });
    }
    let key = bearer_key(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state is missing"))?;
        let key = key?;
        let found = db::run(&state.pool, move |conn| Ok(super::apikeys::authenticate(conn, &key)?)).await?;
        found
            .map(|(key_id, unit_code)| Caller::ApiKey { key_id, unit_code })
            .ok_or_else(|| AppError::unauthorized("The API key is unknown or revoked."))
    })
}

fn bearer_key(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("Send an API key as `Authorization: Bearer <key>`."))?;
    let value =
        value.to_str().map_err(|_| AppError::unauthorized("The Authorization header is not readable."))?;
    let (scheme, key) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(AppError::unauthorized("Send an API key as `Authorization: Bearer <key>`."));
    }
    Ok(key.trim().to_string())
}

/// The staff member signed in on this request, re-checked against the `users` table (a
/// deactivated account, or one whose sessions were ended, is out at once). Leaves a refreshed
/// cookie for the response when the idle time-out should slide.
pub fn resolve(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Option<StaffCaller>, AppError>>>> {
    let req = req.clone();
    Box::pin(async move {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Err(AppError::internal("application state is missing"));
        };
        let key = session::cookie_key(&state.secret);
        let now = chrono::Utc::now().timestamp();
        let Some(data) = session::read_session(&req, &key, now) else { return Ok(None) };
        let (uid, epoch) = (data.uid, data.epoch);
        let user =
            db::run(&state.pool, move |conn| Ok(super::store::session_user(conn, uid, epoch)?)).await?;
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
    // the host the browser addressed: `X-Forwarded-Host` (and `Forwarded`) only from a trusted
    // proxy, since anyone else could name the foreign origin there (finding 14)
    let state = req.app_data::<web::Data<AppState>>();
    let peer_trusted = req.peer_addr().is_some_and(|p| {
        state.is_some_and(|s| crate::kernel::net::any_contains(&s.config.trusted_proxies, p.ip()))
    });
    let host = if peer_trusted {
        req.connection_info().host().to_string()
    } else {
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| req.uri().host().unwrap_or(""))
            .to_string()
    };
    let own = |o: &str| o.split_once("://").is_some_and(|(_, rest)| rest == host);
    let public = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.public_base_url() == origin);
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

    /// The unit a page acts for: the staff member's own, or the one an admin names.
    pub fn unit_for(&self, requested: Option<&str>) -> Result<String, PageError> {
        match (self.0.role(), self.0.scope.unit(), requested.map(str::trim).filter(|u| !u.is_empty())) {
            (Role::Admin, _, Some(u)) => Ok(u.to_string()),
            (_, Some(own), _) => Ok(own.to_string()),
            _ => Err(PageError::App(AppError::bad_request(
                "missing_unit",
                "Choose a unit: add ?unit=CODE to the address.",
            ))),
        }
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
