//! Target guard (SPEC section 6): targets on loopback, private, link-local (cloud metadata),
//! CGNAT, unspecified, multicast and other special-purpose addresses are refused unless their
//! range is allowed by `MTLS_ALLOWED_TARGET_CIDRS`.
//!
//! The check applies to the address actually connected to: the connector (`connect.rs`) gets its
//! addresses only from [`TargetGuard::addresses`], which resolves the name once and returns only
//! the addresses that pass, so no address is connected to that was not checked (no gap between
//! check and connect for a DNS answer to change in). IP literals are checked the same way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Why the guard stopped a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// Every address the name resolved to (or the literal address) is in a refused range.
    #[error("{address} is not an allowed target address")]
    NotAllowed {
        /// The first refused address.
        address: IpAddr,
    },
    /// The name did not resolve (or resolved to nothing).
    #[error("name resolution failed")]
    Dns,
}

/// Which target addresses may be connected to.
#[derive(Debug, Clone, Default)]
pub struct TargetGuard {
    allowed: Vec<IpNet>,
}

impl TargetGuard {
    /// A guard that lets the special-purpose ranges in `allowed` through.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// True when `ip` may be connected to.
    pub fn permits(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 host: judge that one.
        let ip = ip.to_canonical();
        if self.allowed.iter().any(|net| net.contains(&ip)) {
            return true;
        }
        !is_special_purpose(ip)
    }

    /// Refuses a literal address that is not permitted.
    ///
    /// # Errors
    /// [`GuardError::NotAllowed`].
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), GuardError> {
        if self.permits(ip) { Ok(()) } else { Err(GuardError::NotAllowed { address: ip }) }
    }

    /// The addresses of `host` (a name, or an IP literal, IPv6 in brackets) that may be connected
    /// to, with `port`.
    ///
    /// # Errors
    /// [`GuardError::Dns`] when the name does not resolve; [`GuardError::NotAllowed`] when no
    /// address passes.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, GuardError> {
        let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            self.check_ip(ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found: Vec<SocketAddr> = match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => addrs.collect(),
            Err(_) => return Err(GuardError::Dns),
        };
        let Some(first) = found.first().copied() else {
            return Err(GuardError::Dns);
        };
        let permitted: Vec<SocketAddr> = found.into_iter().filter(|addr| self.permits(addr.ip())).collect();
        if permitted.is_empty() {
            return Err(GuardError::NotAllowed { address: first.ip() });
        }
        Ok(permitted)
    }
}

/// Addresses that are not public unicast: RFC 6890 special-purpose registries plus CGNAT and
/// the cloud metadata addresses (169.254.169.254 is link-local, fd00:ec2::254 unique-local).
fn is_special_purpose(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network", 0.0.0.0/8
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, including the metadata address
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10 (RFC 6598)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || ip.is_multicast()
        || a >= 240 // reserved and broadcast
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_special_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || ip.is_multicast()
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation 2001:db8::/32
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard 100::/64
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible ::/96 (deprecated)
}

/// The IPv4 address an IPv6 address leads to: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and
/// 6to4 (2002::/16) all reach an IPv4 host, which is the one to judge.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let octets = ip.octets();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn refuses_special_purpose_addresses() {
        let guard = TargetGuard::default();
        for refused in [
            "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
            "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3",
            "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.0.0.170", "198.18.0.1",
            "::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "ff02::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "2002:7f00:1::",
            "2001:db8::1", "::127.0.0.1",
        ] {
            assert!(!guard.permits(ip(refused)), "{refused} must be refused");
            assert_eq!(
                guard.check_ip(ip(refused)),
                Err(GuardError::NotAllowed { address: ip(refused) })
            );
        }
    }

    #[test]
    fn permits_public_addresses() {
        let guard = TargetGuard::default();
        for public in ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
            "::ffff:8.8.8.8", "64:ff9b::808:808"]
        {
            assert!(guard.permits(ip(public)), "{public} must be permitted");
        }
    }

    #[test]
    fn allowed_ranges_open_only_themselves() {
        let guard = TargetGuard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(guard.permits(ip("127.0.0.1")));
        assert!(guard.permits(ip("::ffff:127.0.0.1")));
        assert!(!guard.permits(ip("10.0.0.1")));
        assert!(!guard.permits(ip("::1")));
    }

    #[tokio::test]
    async fn addresses_are_resolved_and_checked_literals_too() {
        let guard = TargetGuard::default();
        let error = guard.addresses("localhost", 443).await.unwrap_err();
        assert!(matches!(error, GuardError::NotAllowed { .. }), "{error:?}");
        assert_eq!(
            guard.addresses("[::1]", 443).await,
            Err(GuardError::NotAllowed { address: ip("::1") })
        );
        assert_eq!(
            guard.addresses("127.0.0.1", 443).await,
            Err(GuardError::NotAllowed { address: ip("127.0.0.1") })
        );
        assert_eq!(guard.addresses("8.8.8.8", 8443).await, Ok(vec!["8.8.8.8:8443".parse().unwrap()]));

        let allowing = TargetGuard::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        let addrs = allowing.addresses("localhost", 8443).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8443));
        assert_eq!(allowing.addresses("[::1]", 1).await, Ok(vec!["[::1]:1".parse().unwrap()]));

        assert_eq!(guard.addresses("no-such-host.invalid", 443).await, Err(GuardError::Dns));
    }
}
