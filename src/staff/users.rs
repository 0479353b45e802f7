//! Account pages for admins: list, create, change role and scope, deactivate, reset a
//! password, lift a lock. Every change is audited by the store.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::model::Account;
use super::password;
use super::store::{self, AccountError};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::{Role, Scope};
use crate::db;
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::http::text;
use crate::kernel::time::local_datetime;
use crate::masterdata::store::{self as directory, OfficerRow, UnitRow};

/// One account as a row of the list.
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub role_label: &'static str,
    pub unit: String,
    pub officer: String,
    pub active: bool,
    pub locked: bool,
    pub locked_until: String,
    pub failed_logins: i32,
    pub last_login: String,
}

impl AccountView {
    fn new(a: &Account) -> AccountView {
        let now = Utc::now();
        AccountView {
            id: a.id,
            username: a.username.clone(),
            role: a.scope.role(),
            role_label: a.scope.role().label_vi(),
            unit: a.scope.unit().unwrap_or("").to_string(),
            officer: a.scope.officer().unwrap_or("").to_string(),
            active: a.active,
            locked: a.locked_at(now),
            locked_until: a.locked_until.filter(|t| *t > now).map(local_datetime).unwrap_or_default(),
            failed_logins: a.failed_logins,
            last_login: a.last_login_at.map(local_datetime).unwrap_or_default(),
        }
    }
}

pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    Role::ALL.iter().map(|r| RoleOption { value: r.as_str(), label: r.label_vi() }).collect()
}

#[derive(Template)]
#[template(path = "staff/users.html")]
struct UsersPage {
    layout: Layout,
    accounts: Vec<AccountView>,
    units: Vec<UnitRow>,
    officers: Vec<OfficerRow>,
    roles: Vec<RoleOption>,
    error: Option<String>,
    notice: Option<&'static str>,
    form: NewUserForm,
    min_len: usize,
}

#[derive(Template)]
#[template(path = "staff/user_edit.html")]
struct UserPage {
    layout: Layout,
    account: AccountView,
    units: Vec<UnitRow>,
    officers: Vec<OfficerRow>,
    roles: Vec<RoleOption>,
    error: Option<String>,
    notice: Option<&'static str>,
    min_len: usize,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct NewUserForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub officer: String,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some(text::USER_CREATED),
        "saved" => Some(text::USER_SAVED),
        "password" => Some(text::USER_PASSWORD_RESET),
        "unlocked" => Some(text::USER_UNLOCKED),
        _ => None,
    }
}

const ADMIN: &[Role] = &[Role::Admin];

async fn users_page(
    state: &AppState,
    staff: &StaffPage,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
    form: NewUserForm,
) -> Result<HttpResponse, PageError> {
    let (accounts, units, officers) = db::run(&state.pool, |conn| {
        Ok((store::list(conn)?, directory::units(conn)?, directory::officers(conn, None)?))
    })
    .await?;
    let page = UsersPage {
        layout: Layout::new(&staff.0, text::USERS_TITLE, "users"),
        accounts: accounts.iter().map(AccountView::new).collect(),
        units,
        officers,
        roles: role_options(),
        error,
        notice,
        form: NewUserForm { password: String::new(), ..form },
        min_len: password::MIN_LEN,
    };
    render(status, &page)
}

/// `GET /admin/users`
pub async fn list(
    state: web::Data<AppState>,
    staff: StaffPage,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    users_page(&state, &staff, StatusCode::OK, None, notice(query.done.as_deref()), NewUserForm::default())
        .await
}

fn parse_scope(role: &str, unit: &str, officer: &str) -> Result<Scope, String> {
    let role: Role = role.parse().map_err(|_| text::BAD_ROLE.to_string())?;
    // the form always sends both selects; only the ones the role uses count
    let officer = (role == Role::Officer).then(|| officer.to_string());
    // a province account belongs to no unit, whatever the unit select says
    let unit = (role != Role::Province).then(|| unit.to_string());
    Scope::new(role, unit, officer).map_err(|e| match e {
        crate::auth::role::ScopeError::LeaderWithoutUnit => {
            "Lãnh đạo cần chọn đơn vị (a leader needs a unit).".into()
        }
        crate::auth::role::ScopeError::OfficerIncomplete => {
            "Cán bộ cần chọn đơn vị và mã cán bộ (an officer needs a unit and an officer code).".into()
        }
        crate::auth::role::ScopeError::OfficerCodeNotAllowed
        | crate::auth::role::ScopeError::ProvinceWithUnit => e.to_string(),
    })
}

/// `POST /admin/users`
pub async fn create(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let username = form.username.trim().to_string();
    let checked = parse_scope(&form.role, &form.unit, &form.officer).and_then(|scope| {
        password::check_policy(&username, &form.password).map_err(|e| e.to_string())?;
        Ok(scope)
    });
    let scope = match checked {
        Ok(scope) => scope,
        Err(message) => {
            return users_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None, form)
                .await;
        }
    };
    let pw = form.password.clone();
    let actor = staff.0.actor();
    let name = username.clone();
    let created = db::run(&state.pool, move |conn| {
        let hash = password::hash(&pw).map_err(crate::error::AppError::internal)?;
        Ok(store::create(conn, &name, &hash, &scope, &actor))
    })
    .await?;
    match created {
        Ok(_) => Ok(see_other("/admin/users?done=created")),
        Err(AccountError::Db(e)) => Err(PageError::App(e.into())),
        Err(e) => {
            users_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), None, form)
                .await
        }
    }
}

async fn user_page(
    state: &AppState,
    staff: &StaffPage,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let (account, units, officers) = db::run(&state.pool, move |conn| {
        Ok((store::get(conn, id)?, directory::units(conn)?, directory::officers(conn, None)?))
    })
    .await?;
    let account = account.ok_or(PageError::NotFound)?;
    let page = UserPage {
        layout: Layout::new(&staff.0, format!("Tài khoản {}", account.username), "users"),
        account: AccountView::new(&account),
        units,
        officers,
        roles: role_options(),
        error,
        notice,
        min_len: password::MIN_LEN,
    };
    render(status, &page)
}

/// `GET /admin/users/{id}`
pub async fn show(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    user_page(&state, &staff, path.into_inner(), StatusCode::OK, None, notice(query.done.as_deref())).await
}

/// The result of one account change: back to the account page, or the page with the error.
async fn finish(
    state: &AppState,
    staff: &StaffPage,
    id: i64,
    result: Result<(), AccountError>,
    done: &str,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}?done={done}"))),
        Err(AccountError::UnknownAccount(_)) => Err(PageError::NotFound),
        Err(AccountError::Db(e)) => Err(PageError::App(e.into())),
        Err(e) => {
            user_page(state, staff, id, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), None).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ScopeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    officer: String,
}

/// `POST /admin/users/{id}/scope`: role, unit and officer code; the account's sessions end.
pub async fn change_scope(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    form: web::Form<ScopeForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let scope = match parse_scope(&form.role, &form.unit, &form.officer) {
        Ok(s) => s,
        Err(message) => {
            return user_page(&state, &staff, id, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None)
                .await;
        }
    };
    let (actor_id, actor) = (staff.0.user_id, staff.0.actor());
    let result =
        db::run(&state.pool, move |conn| Ok(store::change_scope(conn, id, &scope, actor_id, &actor))).await?;
    finish(&state, &staff, id, result, "saved").await
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

/// `POST /admin/users/{id}/active`: `active=true` or `false`; deactivating ends its sessions.
pub async fn set_active(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    form: web::Form<ActiveForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let active = form.active == "true";
    let (actor_id, actor) = (staff.0.user_id, staff.0.actor());
    let result =
        db::run(&state.pool, move |conn| Ok(store::set_active(conn, id, active, actor_id, &actor))).await?;
    finish(&state, &staff, id, result, "saved").await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/{id}/password`: a new password, checked against the policy.
pub async fn reset_password(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let pw = form.into_inner().password;
    let actor = staff.0.actor();
    let result = db::run(&state.pool, move |conn| {
        let Some(account) = store::get(conn, id)? else { return Ok(Err(AccountError::UnknownAccount(id))) };
        if let Err(e) = password::check_policy(&account.username, &pw) {
            return Ok(Ok(Err(e.to_string())));
        }
        let hash = password::hash(&pw).map_err(crate::error::AppError::internal)?;
        Ok(store::reset_password(conn, id, &hash, &actor).map(Ok))
    })
    .await?;
    match result {
        Ok(Err(policy)) => {
            user_page(&state, &staff, id, StatusCode::UNPROCESSABLE_ENTITY, Some(policy), None).await
        }
        Ok(Ok(())) => finish(&state, &staff, id, Ok(()), "password").await,
        Err(e) => finish(&state, &staff, id, Err(e), "password").await,
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/users/{id}/unlock`: lifts a lock from wrong passwords.
pub async fn unlock(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = staff.0.actor();
    let result = db::run(&state.pool, move |conn| Ok(store::unlock(conn, id, &actor))).await?;
    finish(&state, &staff, id, result, "unlocked").await
}
