//! The authorisation matrix: every route the service serves (method and actix match pattern) and
//! what each kind of caller gets there. This table is the one place where "who may call this" is
//! decided:
//!
//! - [`check`] runs in a middleware (`http::middleware::access_check`) on every request: a request
//!   whose method and route pattern are not in [`ROUTES`] is refused (405 `method_not_allowed`, as
//!   for a method the route does not take, and a warning in the log) before any handler runs, so a
//!   route cannot be served before its row exists.
//! - `tests/api/access.rs` sends, for every row and every kind of caller, a request with a real
//!   session or API key against real PostgreSQL and checks the outcome class the row names; it
//!   also lists every resource the application registers and fails on one without a row.
//!
//! The handlers enforce the roles themselves (the `Caller`, `ProvinceCaller` and `StaffPage`
//! extractors, `require_role`, the unit and officer scopes); the table states the intended result
//! and the test holds them to it.
//!
//! Outcome classes: [`Allow`](Outcome::Allow) — served (2xx/3xx, or a 4xx about the request
//! itself, never 401/403); [`Scoped`](Outcome::Scoped) — served, but only the caller's own unit
//! (and, for an officer, their own officer code): asking for another's is a 403 or nothing of
//! theirs; [`SignIn`](Outcome::SignIn) — 401 for the API, a redirect to `/login` for pages (an API
//! key on a page is no sign-in); [`Deny`](Outcome::Deny) — 403.

use actix_web::http::Method;

/// What a kind of caller gets on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Scoped,
    SignIn,
    Deny,
}

/// The kinds of caller, in the order of [`Rule::outcomes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// No session, no key.
    Anonymous,
    /// A one-stop system's API key (scoped to one unit).
    ApiKey,
    /// A desk officer signed in (their unit, their own officer code).
    Officer,
    /// A commune leader signed in (their unit).
    Leader,
    /// An admin signed in (every unit).
    Admin,
    /// Province staff signed in (imports and the ranking only).
    Province,
}

impl CallerKind {
    pub const ALL: [CallerKind; 6] = [
        CallerKind::Anonymous,
        CallerKind::ApiKey,
        CallerKind::Officer,
        CallerKind::Leader,
        CallerKind::Admin,
        CallerKind::Province,
    ];
}

/// One route and what each kind of caller gets there.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    /// The actix match pattern, as `HttpRequest::match_pattern` gives it.
    pub pattern: &'static str,
    /// Anonymous, API key, officer, leader, admin, province (see [`CallerKind::ALL`]).
    pub outcomes: [Outcome; 6],
    /// Why, where it is not obvious.
    pub note: &'static str,
}

impl Rule {
    pub fn outcome(&self, who: CallerKind) -> Outcome {
        let i = CallerKind::ALL.iter().position(|k| *k == who).unwrap_or(0);
        self.outcomes[i]
    }
}

const fn rule(
    method: &'static str,
    pattern: &'static str,
    outcomes: [Outcome; 6],
    note: &'static str,
) -> Rule {
    Rule { method, pattern, outcomes, note }
}

use Outcome::{Allow as A, Deny as D, Scoped as S, SignIn as I};

/// Everyone, signed in or not.
const PUBLIC: [Outcome; 6] = [A, A, A, A, A, A];
/// Admins only; pages send visitors without a session to the sign-in.
const ADMIN_PAGE: [Outcome; 6] = [I, I, D, D, A, D];
/// The commune's figures through the API: keys and commune staff for their own unit.
const COMMUNE_API: [Outcome; 6] = [I, S, S, S, A, D];
/// Leaders' integrity API: keys and leaders for their own unit, admins for any, officers not.
const LEADER_API: [Outcome; 6] = [I, S, D, S, A, D];
/// Province routes through the API: province staff and admins; commune keys and staff refused.
const PROVINCE_API: [Outcome; 6] = [I, D, D, D, A, A];
/// Province pages: as [`PROVINCE_API`], an API key being no sign-in for a page.
const PROVINCE_PAGE: [Outcome; 6] = [I, I, D, D, A, A];

/// Every route of the service. Keep it in the order of `router::build_app`'s capabilities.
pub const ROUTES: &[Rule] = &[
    // static files (http::assets)
    rule("GET", "/static/{file}", PUBLIC, "the embedded stylesheets and scripts"),
    // health
    rule("GET", "/healthz", PUBLIC, "liveness and database reachability, for the load balancer"),
    rule(
        "GET",
        "/metrics",
        PUBLIC,
        "route patterns, counts and durations only; restrict it at the reverse proxy",
    ),
    rule("GET", "/api/openapi.json", PUBLIC, "the published contract"),
    // statistics
    rule("GET", "/api/v1/stats", COMMUNE_API, "an officer reads only their own officer code"),
    rule(
        "GET",
        "/api/v1/stats/comparison",
        LEADER_API,
        "funnels and adjusted scores judge peers: not for officers",
    ),
    rule(
        "POST",
        "/api/v1/tt01/unit-indicators",
        LEADER_API,
        "indicators 5, 6, 9: a leader, an admin or the unit's one-stop key, for its own unit (audited)",
    ),
    rule(
        "GET",
        "/api/v1/tt01/unit-indicators",
        LEADER_API,
        "the recorded indicators 5, 6, 9 of one's own unit",
    ),
    rule(
        "GET",
        "/tt01/unit-indicators",
        [I, I, D, S, A, D],
        "the leader's page to record indicators 5, 6, 9",
    ),
    rule(
        "POST",
        "/tt01/unit-indicators",
        [I, I, D, S, A, D],
        "a leader records for their own unit (audited)",
    ),
    // issuing
    rule("POST", "/api/v1/invitations", COMMUNE_API, "issue for one's own unit"),
    rule("POST", "/api/v1/invitations/batch", COMMUNE_API, "issue for one's own unit"),
    rule("GET", "/api/v1/invitations/latest", COMMUNE_API, "the caller's own latest invitation"),
    rule(
        "GET",
        "/api/v1/procedures",
        [I, A, A, A, A, D],
        "the procedure catalogue (master data, not unit data)",
    ),
    rule("GET", "/api/v1/officers", COMMUNE_API, "the officers of the caller's unit"),
    rule("GET", "/q/{token}.svg", PUBLIC, "the token in the path is the secret"),
    rule("GET", "/q/{token}.png", PUBLIC, "the token in the path is the secret"),
    rule("GET", "/slips", PUBLIC, "the tokens in the query are the secret"),
    rule("GET", "/slips/{token}", PUBLIC, "the token in the path is the secret"),
    rule("GET", "/c", PUBLIC, "residents type their code"),
    rule("GET", "/c/{code}", PUBLIC, "residents type their code"),
    rule("POST", "/api/v1/desk/pairings", [I, D, D, D, A, D], "an admin pairs a desk computer with a unit"),
    rule(
        "POST",
        "/api/v1/desk/offline-issues",
        PUBLIC,
        "the desk's offline queue: each token carries a desk key's signature",
    ),
    rule("GET", "/api/v1/desk/unit-data", COMMUNE_API, "the officers of the caller's unit, procedures"),
    rule("GET", "/api/v1/desk/keys", [I, D, D, D, A, D], "admins list the desks' signing keys"),
    rule(
        "POST",
        "/api/v1/desk/keys/{id}/revoke",
        [I, D, D, D, A, D],
        "an admin revokes a desk's signing key",
    ),
    rule("GET", "/o/{token}", PUBLIC, "a desk key's signature is the proof"),
    rule("GET", "/desk-sw.js", PUBLIC, "the desk page's service worker script"),
    rule("GET", "/desk", PUBLIC, "a static page; its script calls the API with a key kept in the browser"),
    rule(
        "GET",
        "/desk/screen",
        PUBLIC,
        "a static page; its script calls the API with a key kept in the browser",
    ),
    rule(
        "GET",
        "/api/v1/units/{code}/instrument",
        COMMUNE_API,
        "which questionnaire the unit's new invitations use",
    ),
    rule(
        "POST",
        "/api/v1/units/{code}/instrument",
        [I, D, D, S, A, D],
        "the unit's leader or an admin chooses its questionnaire (audited); not an API key",
    ),
    rule("GET", "/questionnaire", [I, I, D, S, A, D], "the leader's page to choose the questionnaire"),
    rule("POST", "/questionnaire", [I, I, D, S, A, D], "the leader's page to choose the questionnaire"),
    // answering
    rule("POST", "/api/v1/responses/{token}", PUBLIC, "the token is the secret"),
    rule("GET", "/s/{token}", PUBLIC, "the token is the secret"),
    rule("POST", "/s/{token}", PUBLIC, "the token is the secret"),
    // staff: sign-in, accounts, master data, audit
    rule("GET", "/", PUBLIC, "the home page: residents to /c, staff to sign in"),
    rule("GET", "/login", PUBLIC, ""),
    rule("POST", "/login", PUBLIC, "throttled per account and per client"),
    rule("POST", "/logout", [I, I, A, A, A, A], ""),
    rule("GET", "/admin/users", ADMIN_PAGE, ""),
    rule("POST", "/admin/users", ADMIN_PAGE, "admins create accounts of every role, province included"),
    rule("GET", "/admin/users/{id}", ADMIN_PAGE, ""),
    rule("POST", "/admin/users/{id}/scope", ADMIN_PAGE, ""),
    rule("POST", "/admin/users/{id}/active", ADMIN_PAGE, ""),
    rule("POST", "/admin/users/{id}/password", ADMIN_PAGE, ""),
    rule("POST", "/admin/users/{id}/unlock", ADMIN_PAGE, ""),
    rule("GET", "/admin/masterdata", ADMIN_PAGE, ""),
    rule("POST", "/admin/masterdata/import", ADMIN_PAGE, ""),
    rule("POST", "/admin/officers/{code}/active", ADMIN_PAGE, ""),
    rule("POST", "/admin/api-keys", ADMIN_PAGE, ""),
    rule("POST", "/admin/api-keys/{id}/revoke", ADMIN_PAGE, ""),
    rule("GET", "/admin/audit", ADMIN_PAGE, ""),
    rule("GET", "/api/v1/me", [I, A, A, A, A, A], "who the caller is"),
    // dashboards
    rule("GET", "/dashboard", [I, I, S, S, A, D], "an officer sees their own results only"),
    rule("GET", "/comments", [I, I, D, S, A, D], "residents' comments of one's own unit, with filters"),
    rule("GET", "/dashboard/officers/{code}", [I, I, S, S, A, D], "an officer only their own page"),
    // integrity
    rule("GET", "/api/v1/integrity", LEADER_API, ""),
    rule("GET", "/api/v1/integrity/flagged", LEADER_API, ""),
    rule("POST", "/api/v1/integrity/responses/{id}/review", LEADER_API, ""),
    rule("POST", "/api/v1/cases/daily", LEADER_API, ""),
    rule("GET", "/integrity", [I, I, D, S, A, D], ""),
    rule("POST", "/integrity/responses/{id}/review", [I, I, D, S, A, D], ""),
    // follow-ups
    rule("GET", "/api/v1/followups", COMMUNE_API, "an officer sees the follow-ups assigned to them"),
    rule("POST", "/api/v1/followups/{id}/reply", LEADER_API, ""),
    rule("POST", "/api/v1/followups/{id}/assign", LEADER_API, ""),
    rule("POST", "/api/v1/followups/{id}/status", LEADER_API, ""),
    rule("POST", "/api/v1/followups/{id}/close", LEADER_API, ""),
    rule("GET", "/followups", [I, I, S, S, A, D], "an officer sees the follow-ups assigned to them"),
    rule("POST", "/followups/{id}/{action}", [I, I, D, S, A, D], "replies and changes are for leaders"),
    // reporting
    rule("GET", "/api/v1/exports/province", COMMUNE_API, "a commune exports its own figures"),
    rule("GET", "/api/v1/exports/schema.json", PUBLIC, "the export's JSON Schema"),
    rule(
        "GET",
        "/reports",
        [I, I, D, A, A, D],
        "the leader's page of exports, the report and the public page",
    ),
    rule("GET", "/reports/periodic", COMMUNE_API, "the periodic report of one's own unit"),
    rule("POST", "/api/v1/province/exports", PROVINCE_API, "province import: commune keys may not import"),
    rule(
        "GET",
        "/api/v1/province/ranking",
        PROVINCE_API,
        "commune leaders do not see the ranking: it is the province's working document until the province publishes it",
    ),
    rule("GET", "/province/ranking", PROVINCE_PAGE, "as the API"),
    rule(
        "GET",
        "/province/upload",
        PROVINCE_PAGE,
        "its script posts to /api/v1/province/exports with the session",
    ),
    rule("GET", "/province/keys", PROVINCE_PAGE, "the registry of communes' export keys"),
    rule("POST", "/province/keys", PROVINCE_PAGE, "province staff register a commune's public key (audited)"),
    rule(
        "POST",
        "/province/keys/{key_id}/revoke",
        PROVINCE_PAGE,
        "province staff revoke a registered key (audited)",
    ),
    rule("GET", "/public/{unit}", PUBLIC, "a unit's published results; never officers or comments"),
    rule("GET", "/api/v1/public/{unit}", PUBLIC, "the public page's JSON twin"),
];

/// The row of a request, by method and match pattern.
pub fn find(method: &Method, pattern: &str) -> Option<&'static Rule> {
    ROUTES.iter().find(|r| r.pattern == pattern && r.method == method.as_str())
}

/// The middleware's decision: `true` when the request may go on to routing. A request that
/// matches no registered pattern goes on (the default service answers 404); one whose pattern is
/// registered but whose method and pattern have no row is refused.
pub fn check(method: &Method, pattern: Option<&str>) -> bool {
    match pattern {
        None => true,
        Some(p) => find(method, p).is_some(),
    }
}

/// Every route pattern an application registers, read from its resource map (the one listing
/// actix keeps; it has no public iterator, so its `Debug` form is read). Used by the matrix test
/// to find a registered route without a row; empty if actix ever changes that form, which the
/// test notices (it expects at least the table's patterns).
pub fn registered_patterns(map: &actix_web::dev::ResourceMap) -> Vec<String> {
    let text = format!("{map:?}");
    let mut out: Vec<String> = Vec::new();
    let mut rest = text.as_str();
    const MARK: &str = "patterns: Single(\"";
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at + MARK.len()..];
        let Some(end) = rest.find("\")") else { break };
        let pattern = &rest[..end];
        if !pattern.is_empty() && !out.iter().any(|p| p == pattern) {
            out.push(pattern.to_string());
        }
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.pattern)), "{} {} is listed twice", r.method, r.pattern);
            assert!(r.pattern.starts_with('/'), "{}", r.pattern);
            assert!(matches!(r.method, "GET" | "POST"), "{} {}", r.method, r.pattern);
        }
    }

    #[test]
    fn unlisted_routes_are_refused_and_unknown_paths_go_on() {
        assert!(check(&Method::GET, Some("/healthz")));
        assert!(!check(&Method::POST, Some("/healthz")));
        assert!(!check(&Method::DELETE, Some("/admin/users/{id}")));
        assert!(check(&Method::GET, None));
    }

    #[test]
    fn province_routes_refuse_api_keys() {
        for r in ROUTES.iter().filter(|r| r.pattern.contains("province/")) {
            let key = r.outcome(CallerKind::ApiKey);
            let pattern = r.pattern;
            if pattern.starts_with("/api/v1/exports/") {
                continue; // the commune's own export, not a province route
            }
            assert!(matches!(key, Outcome::Deny | Outcome::SignIn), "{pattern}");
        }
    }
}
