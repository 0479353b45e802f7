//! `GET /login`, `POST /login`, `POST /logout`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::password;
use super::store::{self, LoginOutcome};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::session::{self, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SessionData};
use crate::db;
use crate::http::client::Client;
use crate::http::pages::{PageError, css_href, render, same_origin_path, see_other};
use crate::http::text;
use crate::kernel::audit::audit;
use crate::kernel::hashing::{keyed_hash, random_token};

#[derive(Template)]
#[template(path = "staff/login.html")]
struct LoginPage {
    css: String,
    title: &'static str,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn next_or_default(next: Option<&str>) -> String {
    next.and_then(same_origin_path).unwrap_or_else(|| "/dashboard".to_string())
}

/// A login page with a fresh double-submit token (or the one the browser already holds).
fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    next: String,
    username: String,
    error: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let key = session::cookie_key(&state.secret);
    let csrf = session::read_private(req, &key, LOGIN_CSRF_COOKIE).unwrap_or_else(|| random_token(32));
    let page =
        LoginPage { css: css_href(), title: text::LOGIN_TITLE, csrf: csrf.clone(), next, username, error };
    let mut res = render(status, &page)?;
    let _ = res.add_cookie(&session::login_csrf_cookie(&key, &csrf, session::secure(state)));
    Ok(res)
}

/// `GET /login`
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let next = next_or_default(query.next.as_deref());
    // already signed in: straight on
    if crate::auth::extract::resolve(&req).await?.is_some() {
        return Ok(see_other(&next));
    }
    login_page(&state, &req, StatusCode::OK, next, String::new(), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: checks the double-submit token, then the password (slowly, with per-account
/// and per-client throttling), and starts a session.
#[tracing::instrument(name = "staff sign-in", skip_all)]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: Client,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let key = session::cookie_key(&state.secret);
    let expected = session::read_private(&req, &key, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !session::tokens_match(&form.csrf, &expected) {
        return Err(PageError::Csrf);
    }
    let next = next_or_default(Some(&form.next));
    let username = form.username.trim().to_string();
    if username.is_empty() || form.password.is_empty() {
        return login_page(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            next,
            username,
            Some(text::LOGIN_MISSING),
        );
    }
    let client = client_hash(&state.secret, &client);
    let now = chrono::Utc::now();
    let (name, pw) = (username.clone(), form.password);
    let outcome = db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        Ok(conn.transaction(|conn| store::attempt_login(conn, &name, &pw, &client, now, password::verify))?)
    })
    .await?;
    match outcome {
        LoginOutcome::SignedIn(user) => {
            tracing::info!(user.id = user.id, "signed in");
            let data = SessionData::new(user.id, user.session_epoch, now.timestamp());
            let secure = session::secure(&state);
            // province staff have no dashboard: their start page is the upload page (it links to the ranking)
            let next = if user.scope.role() == crate::auth::role::Role::Province && next == "/dashboard" {
                "/province/upload".to_string()
            } else {
                next
            };
            let mut res = see_other(&next);
            let _ = res.add_cookie(&session::session_cookie(&key, &data, secure));
            let _ = res.add_cookie(&session::removal(LOGIN_CSRF_COOKIE, secure));
            Ok(res)
        }
        LoginOutcome::Refused => {
            login_page(&state, &req, StatusCode::UNAUTHORIZED, next, username, Some(text::LOGIN_REFUSED))
        }
        LoginOutcome::ClientBlocked { .. } => {
            login_page(&state, &req, StatusCode::TOO_MANY_REQUESTS, next, username, Some(text::LOGIN_BLOCKED))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: ends the session on the server, not only in this browser: the account's
/// session epoch moves on, so a copy of the cookie (or the account's session on another device)
/// is refused from the next request on (finding 6 of SECURITY.md).
pub async fn logout(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    staff.check_csrf(&form.csrf)?;
    let actor = staff.0.actor();
    let id = staff.0.user_id;
    db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        Ok(conn.transaction(|conn| {
            store::end_sessions(conn, id)?;
            audit(conn, &actor, "logout", &actor, serde_json::json!({}))
        })?)
    })
    .await?;
    let mut res = see_other("/login");
    let _ = res.add_cookie(&session::removal(SESSION_COOKIE, session::secure(&state)));
    Ok(res)
}

/// A salted hash of the client's address, for throttling sign-in without keeping the address.
/// The address is the one submissions use ([`Client`]): the TCP peer, or the `X-Forwarded-For`
/// client when the peer is one of `TRUSTED_PROXIES`.
fn client_hash(secret: &[u8], client: &Client) -> String {
    keyed_hash(secret, &["login", &client.address()])
}
