//! Who sent a request, parsed once per request by the [`Client`] extractor: the client address
//! (the TCP peer, or `X-Forwarded-For` from a trusted proxy), salted hashes of it and of address +
//! user agent, and whether it is one of the commune's own networks. The raw values are never
//! stored or logged; every capability that counts or recognises clients (answers, typed codes,
//! sign-in throttling) reads them here.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::app::AppState;
use crate::config::Config;
use crate::error::AppError;
use crate::kernel::hashing::keyed_hash;
use crate::kernel::net::{self, Cidr};

/// Salted hashes of one request's client (hex SHA-256, 64 characters each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHashes {
    /// The client address alone: one network (a desk's Wi-Fi, a carrier's NAT) shares it.
    pub client_hash: String,
    /// Address and user agent: closer to one device.
    pub device_hash: String,
}

impl ClientHashes {
    /// Hashes the address and user agent with the service's secret. The label keeps the two
    /// hashes of the same address apart, and the length prefix keeps the fields apart.
    pub fn new(secret: &[u8], address: &str, user_agent: &str) -> Self {
        ClientHashes {
            client_hash: keyed_hash(secret, &["client", address]),
            device_hash: keyed_hash(secret, &["device", address, user_agent]),
        }
    }
}

/// The client of a request, as far as the service needs to know it.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client address (see [`client_ip`]); `None` only without a peer address.
    pub ip: Option<IpAddr>,
    pub hashes: ClientHashes,
    /// Sent from one of `DESK_NETWORKS`.
    pub from_desk_network: bool,
}

impl Client {
    /// The client of `req` under the service's secret and networks.
    pub fn of(req: &HttpRequest, secret: &[u8], config: &Config) -> Self {
        let ip = client_ip(req, &config.trusted_proxies);
        let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
        let from_desk_network = ip.is_some_and(|ip| net::any_contains(&config.desk_networks, ip));
        let hashes = ClientHashes::new(secret, &address_of(ip), user_agent);
        Client { ip, hashes, from_desk_network }
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
        assert_ne!(a.client_hash, a.device_hash);
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
        let desk = Config { desk_networks: net::parse_list("203.0.113.0/24").unwrap(), ..trusted.clone() };
        let through_proxy = Client::of(&req, b"s", &trusted);
        let direct = Client::of(&req, b"s", &Config::default());
        assert_eq!(through_proxy.hashes, ClientHashes::new(b"s", "203.0.113.7", ""));
        assert_eq!(direct.hashes, ClientHashes::new(b"s", "10.0.0.1", ""));
        assert!(!through_proxy.from_desk_network && Client::of(&req, b"s", &desk).from_desk_network);
    }
}
