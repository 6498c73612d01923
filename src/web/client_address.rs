//! Whose request this is, behind reverse proxies. The audit trail and the per-address limits
//! use the answer, so a client must not be able to choose it.
//!
//! A proxy appends the address it received the request from to `X-Forwarded-For`; whatever the
//! client sent stays on the left. So the header is read from the right: every hop that is one of
//! the operator's proxies passed the request on, and the first hop that is not is the client.
//! The header is read at all only when the peer itself is a trusted proxy. `Forwarded` (RFC 7239)
//! is read the same way, instead of `X-Forwarded-For`, only when the operator says their proxy
//! sets it: otherwise a client could simply send one.

use std::net::IpAddr;

/// One block of addresses, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyListError {
    #[error("\"{0}\" bukan alamat IP atau blok CIDR (contoh: 10.0.0.0/8, 192.168.1.10, fd00::/8)")]
    NotAnAddress(String),
    #[error("panjang prefiks pada \"{0}\" melebihi panjang alamatnya (paling besar 32 untuk IPv4, 128 untuk IPv6)")]
    PrefixTooLong(String),
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, ProxyListError> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (
                a,
                Some(
                    p.parse::<u8>()
                        .map_err(|_| ProxyListError::NotAnAddress(raw.into()))?,
                ),
            ),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| ProxyListError::NotAnAddress(raw.into()))?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return Err(ProxyListError::PrefixTooLong(raw.into()));
        }
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = unmapped(addr);
        match (self.network, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
fn unmapped(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The operator's reverse proxies (`--trusted-proxy`); empty: no header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// `CIDR[,CIDR…]`. The word `loopback` (what a bare `--trusted-proxy` means, as it did
    /// before it took a list) names a proxy on the same machine: 127.0.0.0/8 and ::1.
    pub fn parse(raw: &str) -> Result<Self, ProxyListError> {
        let mut blocks = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("loopback") {
                blocks.push(Cidr::parse("127.0.0.0/8")?);
                blocks.push(Cidr::parse("::1/128")?);
            } else {
                blocks.push(Cidr::parse(part)?);
            }
        }
        Ok(Self(blocks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(addr))
    }
}

/// Which header the proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardingHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

/// The client's address: the peer, or behind trusted proxies the rightmost hop of the
/// forwarding header that is not one of them. `values` are the header's lines in order.
pub fn resolve<'a>(
    peer: IpAddr,
    proxies: &TrustedProxies,
    header: ForwardingHeader,
    values: impl Iterator<Item = &'a str>,
) -> IpAddr {
    let peer = unmapped(peer);
    if !proxies.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = values.flat_map(|line| line.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let parsed = match header {
            ForwardingHeader::XForwardedFor => parse_hop(hop),
            ForwardingHeader::Forwarded => forwarded_for(hop).and_then(parse_hop),
        };
        // A hop that is not an address was written by no proxy of ours; the last hop we could
        // believe is as far as the chain goes.
        let Some(addr) = parsed else {
            return client;
        };
        client = unmapped(addr);
        if !proxies.contains(client) {
            return client;
        }
    }
    client
}

/// `203.0.113.7`, `203.0.113.7:443`, `2001:db8::1`, `[2001:db8::1]:443`, optionally quoted.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(addr) = hop.parse() {
        return Some(addr);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (addr, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse().ok()
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.60;proto=http;by=…`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(peer: &str, proxies: &str, header: &str) -> IpAddr {
        resolve(
            ip(peer),
            &TrustedProxies::parse(proxies).unwrap(),
            ForwardingHeader::XForwardedFor,
            std::iter::once(header),
        )
    }

    #[test]
    fn the_rightmost_hop_that_is_not_a_proxy_is_the_client() {
        let proxies = "10.0.0.0/8,192.168.1.10";
        assert_eq!(
            xff("10.0.0.2", proxies, "6.6.6.6, 198.51.100.20"),
            ip("198.51.100.20")
        );
        assert_eq!(
            xff("10.0.0.2", proxies, "6.6.6.6, 198.51.100.20, 192.168.1.10"),
            ip("198.51.100.20")
        );
        assert_eq!(xff("10.0.0.2", proxies, "10.9.9.9"), ip("10.9.9.9"));
    }

    #[test]
    fn a_peer_that_is_no_proxy_is_believed_over_any_header() {
        assert_eq!(
            xff("198.51.100.20", "10.0.0.0/8", "6.6.6.6"),
            ip("198.51.100.20")
        );
        assert_eq!(xff("127.0.0.1", "", "6.6.6.6"), ip("127.0.0.1"));
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_believable_hop() {
        assert_eq!(
            xff("10.0.0.2", "10.0.0.0/8", "6.6.6.6, nonsense, 10.0.0.3"),
            ip("10.0.0.3")
        );
        assert_eq!(xff("10.0.0.2", "10.0.0.0/8", ""), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_elements_are_read_the_same_way() {
        let got = resolve(
            ip("::1"),
            &TrustedProxies::parse("loopback").unwrap(),
            ForwardingHeader::Forwarded,
            [
                "for=6.6.6.6",
                "for=\"[2001:db8::7]:4711\";proto=https, for=127.0.0.1",
            ]
            .into_iter(),
        );
        assert_eq!(got, ip("2001:db8::7"));
    }

    #[test]
    fn blocks_parse_and_match() {
        assert!(Cidr::parse("10.0.0.0/8")
            .unwrap()
            .contains(ip("10.255.0.1")));
        assert!(!Cidr::parse("10.0.0.0/8").unwrap().contains(ip("11.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("127.0.0.1")
            .unwrap()
            .contains(ip("::ffff:127.0.0.1")));
        assert_eq!(
            Cidr::parse("10.0.0.0/33"),
            Err(ProxyListError::PrefixTooLong("10.0.0.0/33".into()))
        );
        assert!(matches!(
            TrustedProxies::parse("10.0.0.0/8,proxy.local"),
            Err(ProxyListError::NotAnAddress(_))
        ));
    }
}
