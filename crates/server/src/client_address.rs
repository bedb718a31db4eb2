//! Which address a request comes from, for login throttling.
//!
//! The TCP peer, unless the peer is a configured trusted proxy (`trusted_proxies`): then the
//! right-most address of `X-Forwarded-For` that is not itself a trusted proxy. Proxies *append*
//! the address they received the request from, so every entry to the right of the client's was
//! written by a proxy we trust, and everything to its left was written by the client and can be
//! forged. Taking the left-most entry (as many frameworks do) would let any client pick the address
//! it is throttled under. A header from a peer that is not a trusted proxy is ignored entirely.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An IP network in CIDR notation (`10.0.0.0/8`, `fd00::/8`); a bare address is a /32 or /128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    base: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let base: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
        let base = base.to_canonical();
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(IpNetwork { base, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The client address of a request that arrived from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNetwork]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several X-Forwarded-For lines form one list, in order (RFC 9110 §5.3). Read lossily: a
    // proxy that appends keeps the client's bytes on the same line, and junk the client sent
    // there must not hide the (readable) entries the proxies added to its right.
    let lines: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let entries: Vec<&str> = lines
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match parse_forwarded(entry) {
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return ip,
            // Unreadable: nothing to its left can be trusted, so the last hop we could read is
            // the best we know.
            None => return client,
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The text login throttling counts an address under: an IPv4 address as is, an IPv6 address by
/// its /64 — a single subscriber is routinely given a whole /64, so counting single IPv6
/// addresses would give an attacker 2^64 fresh counters.
pub fn throttle_subject(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNetwork> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let n: IpNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains(ip("10.1.200.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(
            n.contains(ip("::ffff:10.1.0.9")),
            "IPv4-mapped counts as IPv4"
        );
        let one: IpNetwork = "127.0.0.1".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(!one.contains(ip("127.0.0.2")));
        let v6: IpNetwork = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpNetwork>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "localhost",
            "10.0.0.0/",
            "1.2.3.4/x",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let got = client_address(ip("203.0.113.5"), &xff(&["198.51.100.1"]), &[]);
        assert_eq!(got, ip("203.0.113.5"));
        let got = client_address(
            ip("203.0.113.5"),
            &xff(&["198.51.100.1"]),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.5"));
    }

    #[test]
    fn trusted_peer_gives_the_rightmost_untrusted_entry() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        // The client forged the first entry; nginx appended the real one; an internal hop too.
        let h = xff(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        // Only trusted entries: the left-most of them.
        assert_eq!(
            client_address(ip("127.0.0.1"), &xff(&["10.0.0.9"]), &trusted),
            ip("10.0.0.9")
        );
        // Garbage right of the client: stop at the last readable hop.
        assert_eq!(
            client_address(ip("127.0.0.1"), &xff(&["198.51.100.7, junk"]), &trusted),
            ip("127.0.0.1")
        );
        // Non-UTF-8 bytes from the client on the line a proxy appended to.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe6.6.6.6, 198.51.100.7").unwrap(),
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted),
            ip("198.51.100.7")
        );
        // Ports and brackets.
        assert_eq!(
            client_address(ip("127.0.0.1"), &xff(&["[2001:db8::1]:443"]), &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &xff(&["192.0.2.1:80"]), &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn ipv6_is_counted_by_its_64() {
        assert_eq!(throttle_subject(ip("192.0.2.1")), "192.0.2.1");
        assert_eq!(throttle_subject(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(
            throttle_subject(ip("2001:db8:1:2:aaaa::1")),
            throttle_subject(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_eq!(throttle_subject(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
    }
}
