//! Staff web: sign-in and sessions, roles, account and master-data pages for admins, and the
//! audit log page. The dashboards live in `crate::dashboard` and use the same sign-in.
//!
//! Routes: `GET /` (the home page: residents to `/c`, staff to sign in), `GET|POST /login`, `POST /logout`, `GET|POST /admin/users`,
//! `GET /admin/users/{id}`, `POST /admin/users/{id}/{scope,active,password,unlock}`,
//! `GET /admin/masterdata`, `POST /admin/masterdata/import`, `POST /admin/officers/{code}/active`,
//! `POST /admin/api-keys`, `POST /admin/api-keys/{id}/revoke`, `GET /admin/audit`,
//! `GET /api/v1/me`.

pub mod admin;
pub mod login;
pub mod model;
pub mod password;
pub mod store;
pub mod users;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::{AnyCaller, Caller};
use crate::error::AppError;

/// The home page at `/`, in Vietnamese: residents go to type their code, staff to sign in (or
/// to their pages when already signed in).
#[derive(Template)]
#[template(path = "staff/home.html")]
struct HomePage {
    css: String,
    signed_in: Option<String>,
}

/// `GET /`: the home page.
async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let staff = crate::auth::extract::resolve(&req).await?;
    let page = HomePage { css: crate::http::pages::css_href(), signed_in: staff.map(|s| s.username) };
    let body = page.render().map_err(|e| AppError::internal(format!("template: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .service(
            web::resource("/login").route(web::get().to(login::show)).route(web::post().to(login::submit)),
        )
        .route("/logout", web::post().to(login::logout))
        .service(
            web::resource("/admin/users")
                .route(web::get().to(users::list))
                .route(web::post().to(users::create)),
        )
        .route("/admin/users/{id}", web::get().to(users::show))
        .route("/admin/users/{id}/scope", web::post().to(users::change_scope))
        .route("/admin/users/{id}/active", web::post().to(users::set_active))
        .route("/admin/users/{id}/password", web::post().to(users::reset_password))
        .route("/admin/users/{id}/unlock", web::post().to(users::unlock))
        .route("/admin/masterdata", web::get().to(admin::masterdata))
        .service(
            web::resource("/admin/masterdata/import")
                .app_data(crate::error::form_config(admin::IMPORT_LIMIT))
                .route(web::post().to(admin::import)),
        )
        .route("/admin/officers/{code}/active", web::post().to(admin::officer_active))
        .route("/admin/api-keys", web::post().to(admin::create_key))
        .route("/admin/api-keys/{id}/revoke", web::post().to(admin::revoke_key))
        .route("/admin/audit", web::get().to(admin::audit))
        .route("/api/v1/me", web::get().to(me));
}

/// `GET /api/v1/me`: who the API thinks the caller is, and what it may see.
async fn me(AnyCaller(caller): AnyCaller) -> HttpResponse {
    let (kind, username, role) = match &caller {
        Caller::ApiKey { .. } => ("api_key", None, None),
        Caller::Staff(s) => ("staff", Some(s.username.clone()), Some(s.role().as_str())),
    };
    HttpResponse::Ok().json(serde_json::json!({
        "kind": kind,
        "actor": caller.actor(),
        "username": username,
        "role": role,
        "unit_scope": caller.unit_scope(),
        "officer_scope": caller.officer_scope(),
    }))
}
