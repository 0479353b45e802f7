//! Who is calling: API keys of one-stop systems (a bearer key scoped to one unit), or staff
//! signed in through the web pages (a session cookie, see `crate::staff::session`).
//!
//! Roles are enforced here for the API and the pages alike: an admin acts for every unit, a
//! leader for their unit, an officer for their unit and sees only their own officer code, and
//! province staff for no unit (they import exports and read the ranking only). Who may call
//! which route is decided in one table, [`access`].

pub mod access;
pub mod apikeys;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use crate::app::AppState;
use crate::db;
use crate::error::AppError;
use crate::staff::model::{Role, Scope};

/// An authenticated caller of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A one-stop system holding an API key of `unit_code`.
    ApiKey { key_id: i64, unit_code: String },
    /// A staff member signed in through the web pages.
    Staff(StaffCaller),
}

/// A signed-in staff member, as re-read from the `users` table on this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCaller {
    pub user_id: i64,
    pub username: String,
    pub scope: Scope,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

impl StaffCaller {
    pub fn role(&self) -> Role {
        self.scope.role()
    }

    /// Refuses with 403 unless the role is one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(AppError::forbidden("Your role does not allow this page or action."))
        }
    }

    /// The actor written to the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user_id)
    }
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
        let session = crate::staff::auth::resolve(req);
        let cross_site = crate::staff::auth::cross_site_write(req);
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
        let state = state.ok_or_else(|| AppError::Internal("application state is missing".into()))?;
        let key = key?;
        let found = db::run(&state.pool, move |conn| Ok(apikeys::authenticate(conn, &key)?)).await?;
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
