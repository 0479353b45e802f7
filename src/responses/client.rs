//! Who sent a submission, as far as the integrity checks and the rate limit need to know: salted
//! hashes of the client address and of address + user agent. The raw values are never stored or
//! logged.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::integrity::net::{self, Cidr};

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
            client_hash: crate::auth::keyed_hash(secret, &["client", address]),
            device_hash: crate::auth::keyed_hash(secret, &["device", address, user_agent]),
        }
    }

    /// The hashes of a request, from its client address (see [`client_ip`]).
    pub fn of_request(req: &HttpRequest, secret: &[u8], trusted_proxies: &[Cidr]) -> Self {
        let address =
            client_ip(req, trusted_proxies).map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".to_string());
        let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
        Self::new(secret, &address, user_agent)
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
    fn forwarded_addresses_count_only_when_trusted() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.7, 10.0.0.1"))
            .to_http_request();
        let proxies = net::parse_list("10.0.0.0/8").unwrap();
        let trusted = ClientHashes::of_request(&req, b"s", &proxies);
        let untrusted = ClientHashes::of_request(&req, b"s", &[]);
        assert_eq!(trusted, ClientHashes::new(b"s", "203.0.113.7", ""));
        assert_eq!(untrusted, ClientHashes::new(b"s", "10.0.0.1", ""));
    }
}
