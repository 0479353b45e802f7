//! Who sent a request, parsed once per request by the [`Client`] extractor: the client address
//! (the TCP peer, or `X-Forwarded-For` from a trusted proxy), salted hashes of it and of the
//! device, and whether it is one of the commune's own networks or its guest network. The raw
//! values are never stored or logged; every capability that counts or recognises clients
//! (answers, typed codes, sign-in throttling) reads them here.
//!
//! **The device** is what the resident's browser is, not its address: the survey page sets a
//! random first-party cookie ([`DEVICE_COOKIE`], [`device_cookie`]) the first time it is shown,
//! and the device hash is the keyed hash of that value (the value itself is never stored). Only
//! when the browser sends no such cookie does the hash fall back to address + user agent, and
//! then only when that pair can tell phones apart ([`agent_names_a_phone`]): behind a carrier's
//! NAT or the commune's guest Wi-Fi, hundreds of residents share one address, and Chrome on
//! Android sends one reduced user agent for every phone of a version, so "same address and same
//! agent" says nothing about being the same phone.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::app::AppState;
use crate::config::Config;
use crate::error::AppError;
use crate::kernel::hashing::{keyed_hash, random_token};
use crate::kernel::net::{self, Cidr};

/// Salted hashes of one request's client (hex SHA-256, 64 characters each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHashes {
    /// The client address alone: one network (a desk's Wi-Fi, a carrier's NAT) shares it.
    pub client_hash: String,
    /// One browser: the hash of its device cookie, else of address + user agent when that pair
    /// tells phones apart; `None` when nothing identifies the device.
    pub device_hash: Option<String>,
}

impl ClientHashes {
    /// Hashes the address and user agent with the service's secret (the fallback device, as if
    /// the browser sent no cookie). The label keeps the hashes of the same address apart, and
    /// the length prefix keeps the fields apart.
    pub fn new(secret: &[u8], address: &str, user_agent: &str) -> Self {
        ClientHashes::of_device(secret, address, user_agent, None, false)
    }

    /// The hashes of a request whose browser sent `cookie` (the value of [`DEVICE_COOKIE`], if
    /// any) from `address`; `guest` when the address is the commune's guest network.
    pub fn of_device(
        secret: &[u8],
        address: &str,
        user_agent: &str,
        cookie: Option<&str>,
        guest: bool,
    ) -> Self {
        let device_hash = match cookie.filter(|c| plausible_device_id(c)) {
            Some(id) => Some(keyed_hash(secret, &["device-id", id])),
            None if !guest && agent_names_a_phone(user_agent) => {
                Some(keyed_hash(secret, &["device", address, user_agent]))
            }
            None => None,
        };
        ClientHashes { client_hash: keyed_hash(secret, &["client", address]), device_hash }
    }
}

/// The first-party cookie that makes one browser one device: a random value, set by the survey
/// page when it is first shown, kept by the phone no longer than the service keeps its hash
/// (`INTEGRITY_RETENTION_DAYS`). Only its keyed hash reaches the database.
pub const DEVICE_COOKIE: &str = "sipas_device";

/// True for what [`device_cookie`] sets (22 URL-safe characters); anything else is ignored.
fn plausible_device_id(value: &str) -> bool {
    value.len() == 22 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cookie to set on a survey page when the request has no device cookie yet (`None` when it
/// has one).
pub fn device_cookie(req: &HttpRequest, max_age_days: i64, secure: bool) -> Option<Cookie<'static>> {
    if req.cookie(DEVICE_COOKIE).is_some_and(|c| plausible_device_id(c.value())) {
        return None;
    }
    Some(
        Cookie::build(DEVICE_COOKIE, random_token(16))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(CookieDuration::days(max_age_days))
            .finish(),
    )
}

/// True when address + user agent can stand for one phone: the agent names the phone. False for
/// Chrome's reduced agent on Android (`Android 10; K`: one string for every phone of a Chrome
/// version), for iPhones and iPads (Safari never names the model, and every iPhone of an iOS
/// version sends the same string), and for an empty agent. Zalo's and other in-app browsers
/// on Android name the model and count.
pub fn agent_names_a_phone(user_agent: &str) -> bool {
    let ua = user_agent.trim();
    !(ua.is_empty() || ua.contains("; K)") || ua.contains("iPhone") || ua.contains("iPad"))
}

/// The client of a request, as far as the service needs to know it.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client address (see [`client_ip`]); `None` only without a peer address.
    pub ip: Option<IpAddr>,
    pub hashes: ClientHashes,
    /// Sent from one of `DESK_NETWORKS`.
    pub from_desk_network: bool,
    /// Sent from one of `GUEST_NETWORKS` (and none of `DESK_NETWORKS`): not suspicious, but
    /// its address says nothing about the device.
    pub from_guest_network: bool,
}

impl Client {
    /// The client of `req` under the service's secret and networks.
    pub fn of(req: &HttpRequest, secret: &[u8], config: &Config) -> Self {
        let ip = client_ip(req, &config.trusted_proxies);
        let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
        let from_desk_network = ip.is_some_and(|ip| net::any_contains(&config.integrity.desk_networks, ip));
        let from_guest_network = !from_desk_network
            && ip.is_some_and(|ip| net::any_contains(&config.integrity.guest_networks, ip));
        let cookie = req.cookie(DEVICE_COOKIE);
        let hashes = ClientHashes::of_device(
            secret,
            &address_of(ip),
            user_agent,
            cookie.as_ref().map(|c| c.value()),
            from_guest_network,
        );
        Client { ip, hashes, from_desk_network, from_guest_network }
    }

    /// The address as the counters and hashes spell it (`unknown` without one): an IPv4
    /// address as it is, an IPv6 address as its /64 (see [`address_of`]).
    pub fn address(&self) -> String {
        address_of(self.ip)
    }
}

/// The client as limits and hashes count it. An IPv6 client is its /64 network: one
/// subscriber line or phone gets a whole /64 and may pick any of its 2^64 addresses, so keying
/// limits on the exact address would let it walk around every per-client limit (typed codes,
/// sign-in, submissions). An IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn address_of(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_string(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => Ok(Client::of(req, &state.secret, &state.config)),
            None => Err(AppError::internal("the application state is not registered")),
        })
    }
}

/// The client address of a request: the TCP peer's, or the one `X-Forwarded-For` names when the
/// peer is one of `trusted_proxies` (otherwise anyone could spoof it to escape the rate limit or
/// the desk-network check).
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[Cidr]) -> Option<IpAddr> {
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    net::client_address(req.peer_addr().map(|a| a.ip()), forwarded, trusted_proxies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_the_secret_and_never_contain_the_address() {
        let a = ClientHashes::new(b"secret-one", "203.0.113.7", "Mozilla/5.0");
        let b = ClientHashes::new(b"secret-two", "203.0.113.7", "Mozilla/5.0");
        assert_ne!(a.client_hash, b.client_hash);
        assert_eq!(a.client_hash.len(), 64);
        assert!(!a.client_hash.contains("203"));
        assert_ne!(Some(&a.client_hash), a.device_hash.as_ref());
    }

    #[test]
    fn a_device_cookie_makes_the_device_whatever_the_address_and_agent() {
        const REDUCED: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        let id = random_token(16);
        let at_home = ClientHashes::of_device(b"s", "203.0.113.7", REDUCED, Some(&id), false);
        let on_4g = ClientHashes::of_device(b"s", "100.64.0.9", REDUCED, Some(&id), true);
        assert_eq!(at_home.device_hash, on_4g.device_hash);
        assert!(at_home.device_hash.is_some());
        let other = ClientHashes::of_device(b"s", "203.0.113.7", REDUCED, Some(&random_token(16)), false);
        assert_ne!(at_home.device_hash, other.device_hash);
        // without a cookie: a reduced agent, an iPhone or the guest network identify nothing
        assert_eq!(ClientHashes::new(b"s", "203.0.113.7", REDUCED).device_hash, None);
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(ClientHashes::new(b"s", "203.0.113.7", iphone).device_hash, None);
        let named = "Mozilla/5.0 (Linux; Android 11; Redmi 9A) AppleWebKit/537.36 Zalo android/12100647";
        assert!(ClientHashes::new(b"s", "203.0.113.7", named).device_hash.is_some());
        assert_eq!(ClientHashes::of_device(b"s", "203.0.113.7", named, None, true).device_hash, None);
        // a forged cookie value is ignored
        assert_eq!(ClientHashes::of_device(b"s", "1.2.3.4", REDUCED, Some("x"), false).device_hash, None);
    }

    #[test]
    fn the_same_address_with_another_browser_is_the_same_client_but_another_device() {
        let a = ClientHashes::new(b"s", "203.0.113.7", "Phone A");
        let b = ClientHashes::new(b"s", "203.0.113.7", "Phone B");
        assert_eq!(a.client_hash, b.client_hash);
        assert_ne!(a.device_hash, b.device_hash);
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1234:5678:9abc".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_of(Some(a)), "2001:db8:1:2::/64");
        assert_eq!(address_of(Some(a)), address_of(Some(b)));
        assert_ne!(address_of(Some(a)), address_of(Some(other)));
        assert_eq!(address_of(Some("::ffff:203.0.113.7".parse().unwrap())), "203.0.113.7");
        assert_eq!(address_of(Some("203.0.113.7".parse().unwrap())), "203.0.113.7");
    }

    #[test]
    fn forwarded_addresses_count_only_when_trusted() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.7, 10.0.0.1"))
            .to_http_request();
        let trusted = Config { trusted_proxies: net::parse_list("10.0.0.0/8").unwrap(), ..Config::default() };
        let mut desk = trusted.clone();
        desk.integrity.desk_networks = net::parse_list("203.0.113.0/24").unwrap();
        let through_proxy = Client::of(&req, b"s", &trusted);
        let direct = Client::of(&req, b"s", &Config::default());
        assert_eq!(through_proxy.hashes, ClientHashes::new(b"s", "203.0.113.7", ""));
        assert_eq!(direct.hashes, ClientHashes::new(b"s", "10.0.0.1", ""));
        assert!(!through_proxy.from_desk_network && Client::of(&req, b"s", &desk).from_desk_network);
    }
}
