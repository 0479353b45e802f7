//! Networks: CIDR ranges (`DESK_NETWORKS`, `TRUSTED_PROXIES`, on the `ipnet` crate) and the
//! client address of a request, taken from `X-Forwarded-For` only when the TCP peer is a trusted
//! proxy.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// One CIDR range, IPv4 or IPv6 (a bare address is a range of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    /// True when `ip` lies in the range. An IPv4-mapped IPv6 address counts as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}` has a prefix length outside 0 to {max}"))?,
        };
        IpNet::new(addr, prefix)
            .map(Cidr)
            .map_err(|_| format!("`{s}` has a prefix length outside 0 to {max}"))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses a comma- or space-separated list of CIDR ranges (empty: none).
pub fn parse_list(s: &str) -> Result<Vec<Cidr>, String> {
    s.split([',', ' ']).filter(|p| !p.trim().is_empty()).map(str::parse).collect()
}

/// True when any range holds `ip`.
pub fn any_contains(ranges: &[Cidr], ip: IpAddr) -> bool {
    ranges.iter().any(|r| r.contains(ip))
}

/// The client address of a request from TCP peer `peer`: when the peer is a trusted proxy, the
/// `X-Forwarded-For` hops are read from the right (the hop the proxy itself added) leftwards, past
/// every further trusted proxy, to the first address no trusted proxy vouches for. Anything to its
/// left could be forged by the client and is ignored.
pub fn client_address(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer?;
    if !any_contains(trusted, peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else { return Some(peer) };
    let mut client = peer;
    for hop in header.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
        client = ip;
        if !any_contains(trusted, ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_hold_their_addresses_and_no_others() {
        let lan: Cidr = "192.168.1.0/24".parse().unwrap();
        assert!(lan.contains(ip("192.168.1.77")));
        assert!(!lan.contains(ip("192.168.2.1")));
        assert!(lan.contains(ip("::ffff:192.168.1.5")));
        let one: Cidr = "203.0.113.7".parse().unwrap();
        assert!(one.contains(ip("203.0.113.7")) && !one.contains(ip("203.0.113.8")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::9")) && !v6.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
    }

    #[test]
    fn bad_ranges_are_refused_with_the_value() {
        assert!("10.0.0.0/33".parse::<Cidr>().unwrap_err().contains("10.0.0.0/33"));
        assert!("desk".parse::<Cidr>().is_err());
        assert_eq!(parse_list("10.0.0.0/8, 192.168.1.0/24").unwrap().len(), 2);
        assert!(parse_list("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = parse_list("10.0.0.0/8").unwrap();
        let xff = Some("198.51.100.9, 203.0.113.7, 10.0.0.2");
        // a trusted proxy: the first untrusted hop from the right
        assert_eq!(client_address(Some(ip("10.0.0.1")), xff, &proxies), Some(ip("203.0.113.7")));
        // anyone else: the peer itself, whatever the header says
        assert_eq!(client_address(Some(ip("203.0.113.50")), xff, &proxies), Some(ip("203.0.113.50")));
        assert_eq!(client_address(Some(ip("10.0.0.1")), xff, &[]), Some(ip("10.0.0.1")));
        // garbage stops the walk at the last good hop
        assert_eq!(client_address(Some(ip("10.0.0.1")), Some("junk"), &proxies), Some(ip("10.0.0.1")));
    }
}
