//! A name server's address (`IP[:PORT]`): which server to ask instead of the system's resolvers.
//!
//! Only addresses are taken: a host name would need DNS to find the server that answers DNS.

use std::net::{IpAddr, SocketAddr};

/// The port DNS servers listen on (RFC 1035 4.2).
pub const DNS_PORT: u16 = 53;

/// Why a name server address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameserverError {
    /// Nothing given.
    #[error("the name server address is empty")]
    Empty,
    /// Not an IP address, with or without a port.
    #[error(
        "name server {0:?} is not an IP address (write IP, IP:PORT or [IPv6]:PORT; a host name \
         would itself need DNS)"
    )]
    NotAnAddress(String),
    /// An address with a port that is not a number from 1 to 65535.
    #[error("name server {0:?} has a bad port (expected a number from 1 to 65535)")]
    BadPort(String),
}

/// Parses a name server address: `192.0.2.1`, `192.0.2.1:5353`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:5353`. Without a port, it is 53. A bare IPv6
/// address is all address (its colons are not a port separator); put it in brackets to add a port.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, NameserverError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NameserverError::Empty);
    }
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(address, DNS_PORT));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let address = inner
            .parse::<IpAddr>()
            .map_err(|_| NameserverError::NotAnAddress(text.to_owned()))?;
        return Ok(SocketAddr::new(address, DNS_PORT));
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(NameserverError::NotAnAddress(text.to_owned()));
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let address = host
        .parse::<IpAddr>()
        .map_err(|_| NameserverError::NotAnAddress(text.to_owned()))?;
    // An IPv6 address with a port must be bracketed, or its last group would pass for a port.
    if address.is_ipv6() && !text.starts_with('[') {
        return Err(NameserverError::NotAnAddress(text.to_owned()));
    }
    match port.parse::<u16>() {
        Ok(port) if port != 0 => Ok(SocketAddr::new(address, port)),
        _ => Err(NameserverError::BadPort(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> String {
        parse_nameserver(text).unwrap().to_string()
    }

    #[test]
    fn default_port_is_53() {
        assert_eq!(parsed("192.0.2.1"), "192.0.2.1:53");
        assert_eq!(parsed(" 127.0.0.1 "), "127.0.0.1:53");
        assert_eq!(parsed("::1"), "[::1]:53");
        assert_eq!(parsed("2001:db8::53"), "[2001:db8::53]:53");
        assert_eq!(parsed("[2001:db8::1]"), "[2001:db8::1]:53");
    }

    #[test]
    fn explicit_ports() {
        assert_eq!(parsed("127.0.0.1:5353"), "127.0.0.1:5353");
        assert_eq!(parsed("[::1]:5353"), "[::1]:5353");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        assert_eq!(parse_nameserver(""), Err(NameserverError::Empty));
        assert_eq!(
            parse_nameserver("ns1.example.com"),
            Err(NameserverError::NotAnAddress("ns1.example.com".into()))
        );
        assert_eq!(
            parse_nameserver("ns1.example.com:53"),
            Err(NameserverError::NotAnAddress("ns1.example.com:53".into()))
        );
        assert_eq!(
            parse_nameserver("[ns1.example.com]"),
            Err(NameserverError::NotAnAddress("[ns1.example.com]".into()))
        );
        assert_eq!(
            parse_nameserver("192.0.2.1:dns"),
            Err(NameserverError::BadPort("192.0.2.1:dns".into()))
        );
        assert_eq!(
            parse_nameserver("192.0.2.1:0"),
            Err(NameserverError::BadPort("192.0.2.1:0".into()))
        );
        assert_eq!(
            parse_nameserver("192.0.2.1:65536"),
            Err(NameserverError::BadPort("192.0.2.1:65536".into()))
        );
        assert_eq!(
            parse_nameserver("[::1]:"),
            Err(NameserverError::BadPort("[::1]:".into()))
        );
    }
}
