//! Staff sessions in cookies, so that no instance keeps state: the session is encrypted and
//! authenticated (AES-256-GCM, the `cookie` crate's private jar) with a key derived from the
//! service secret, and re-checked against the `users` table on every request.
//!
//! Session cookie `sipas_session` holds [`SessionData`] as JSON: user id, the account's session
//! epoch (bumped to end every session of an account), when it was issued (absolute time-out),
//! when it was last seen (idle time-out, sliding) and the CSRF token of the session's forms.
//! The login form, used before any session exists, is protected by a double-submit cookie
//! `sipas_login_csrf` (also encrypted) whose value the form repeats.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use crate::app::AppState;
use crate::kernel::hashing::random_token;

pub const SESSION_COOKIE: &str = "sipas_session";
pub const LOGIN_CSRF_COOKIE: &str = "sipas_login_csrf";
/// A session unused this long ends (sliding).
pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;
/// The cookie is re-issued (sliding the idle time-out) at most this often.
pub const REFRESH_AFTER_SECS: i64 = 60;

/// What the session cookie carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// `users.id`
    pub uid: i64,
    /// `users.session_epoch` at sign-in
    pub epoch: i32,
    /// issued at, Unix seconds
    pub iat: i64,
    /// last seen, Unix seconds
    pub seen: i64,
    /// the CSRF token of this session's forms
    pub csrf: String,
}

impl SessionData {
    pub fn new(uid: i64, epoch: i32, now: i64) -> SessionData {
        SessionData { uid, epoch, iat: now, seen: now, csrf: random_token(32) }
    }

    /// True while neither time-out has passed.
    pub fn is_live(&self, now: i64) -> bool {
        now - self.seen < IDLE_TIMEOUT_SECS && now - self.iat < ABSOLUTE_TIMEOUT_SECS && self.iat <= now + 60
    }

    /// True when the cookie should be re-issued to slide the idle time-out.
    pub fn needs_refresh(&self, now: i64) -> bool {
        now - self.seen >= REFRESH_AFTER_SECS
    }
}

/// The cookie key: 64 bytes derived from the service secret, separate from its other uses.
pub fn cookie_key(secret: &[u8]) -> Key {
    let mut h = Sha512::new();
    h.update(b"sipas staff session cookie key v1\0");
    h.update(secret);
    Key::from(&h.finalize())
}

/// Compares two tokens in constant time.
pub fn tokens_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True when cookies must carry `Secure` (the service is reached over https).
pub fn secure(state: &AppState) -> bool {
    state.config.public_base_url().starts_with("https://")
}

/// Reads and decrypts a private cookie; a forged, tampered or foreign cookie reads as absent.
pub fn read_private(req: &HttpRequest, key: &Key, name: &str) -> Option<String> {
    let cookie = req.cookie(name)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie.into_owned());
    jar.private(key).get(name).map(|c| c.value().to_string())
}

/// Encrypts a value into a cookie with the house attributes.
fn private_cookie(
    key: &Key,
    name: &'static str,
    value: String,
    max_age_secs: i64,
    secure: bool,
) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let cookie = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish();
    jar.private_mut(key).add(cookie);
    jar.get(name).cloned().unwrap_or_else(|| Cookie::new(name, ""))
}

/// The session of the request, if its cookie decrypts, parses and is within its time-outs.
pub fn read_session(req: &HttpRequest, key: &Key, now: i64) -> Option<SessionData> {
    let raw = read_private(req, key, SESSION_COOKIE)?;
    let data: SessionData = serde_json::from_str(&raw).ok()?;
    data.is_live(now).then_some(data)
}

/// The session cookie for `data`.
pub fn session_cookie(key: &Key, data: &SessionData, secure: bool) -> Cookie<'static> {
    let value = serde_json::to_string(data).unwrap_or_default();
    private_cookie(key, SESSION_COOKIE, value, ABSOLUTE_TIMEOUT_SECS, secure)
}

/// The login form's double-submit cookie.
pub fn login_csrf_cookie(key: &Key, token: &str, secure: bool) -> Cookie<'static> {
    private_cookie(key, LOGIN_CSRF_COOKIE, token.to_string(), 60 * 60, secure)
}

/// A cookie that removes `name` from the browser.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c =
        Cookie::build(name, "").path("/").http_only(true).same_site(SameSite::Lax).secure(secure).finish();
    c.make_removal();
    c
}

/// A session cookie to set on the response (sliding refresh), left in the request's extensions
/// by the extractor and written by [`refresh_middleware`].
#[derive(Debug, Clone)]
pub struct PendingCookie(pub Cookie<'static>);

/// Writes a [`PendingCookie`] left by the session extractor onto the response, unless the
/// handler set the session cookie itself (sign-in, sign-out).
pub fn write_pending(res: &mut actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>) {
    let pending = res.request().extensions().get::<PendingCookie>().cloned();
    let Some(PendingCookie(cookie)) = pending else { return };
    let already = res.response().cookies().any(|c| c.name() == SESSION_COOKIE);
    if !already {
        let _ = res.response_mut().add_cookie(&cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_after_idle_and_absolute_timeouts() {
        let s = SessionData::new(1, 0, 1_000_000);
        assert!(s.is_live(1_000_000 + IDLE_TIMEOUT_SECS - 1));
        assert!(!s.is_live(1_000_000 + IDLE_TIMEOUT_SECS));
        let busy = SessionData { seen: 1_000_000 + ABSOLUTE_TIMEOUT_SECS, ..s.clone() };
        assert!(!busy.is_live(1_000_000 + ABSOLUTE_TIMEOUT_SECS + 1));
        assert!(!s.needs_refresh(1_000_000 + 10));
        assert!(s.needs_refresh(1_000_000 + REFRESH_AFTER_SECS));
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("", ""));
        assert!(!tokens_match("abc", "abcd"));
    }

    #[test]
    fn a_session_cookie_is_encrypted_http_only_and_lax() {
        let key = cookie_key(b"0123456789abcdef0123456789abcdef");
        let data = SessionData::new(7, 2, 1_000);
        let c = session_cookie(&key, &data, true);
        assert!(!c.value().contains("uid") && !c.value().contains(&data.csrf), "{}", c.value());
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        assert_eq!(c.secure(), Some(true));
        let mut jar = CookieJar::new();
        jar.add_original(c);
        let back = jar.private(&key).get(SESSION_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
        assert_eq!(serde_json::from_str::<SessionData>(&back).ok(), Some(data));
        let other = cookie_key(b"another secret of thirty-two bytes");
        assert!(jar.private(&other).get(SESSION_COOKIE).is_none());
    }
}
