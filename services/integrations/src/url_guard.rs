//! Which webhook URLs Switchboard will call.
//!
//! A guard against server-side request forgery: unless the workspace allows private networks,
//! an endpoint must resolve only to public addresses. The check runs when an endpoint is saved
//! and again before every attempt (a name may later resolve elsewhere); redirects are never
//! followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::Url;

/// Longest accepted URL.
const MAX_URL_BYTES: usize = 2048;

/// Why a URL is refused; the text is safe to show to the admin who entered it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("must be an absolute http:// or https:// URL of at most 2048 bytes")]
    Malformed,
    #[error("the host does not resolve")]
    Unresolved,
    #[error(
        "points at a loopback, private or otherwise internal address (allow private networks in the workspace's integration settings to use it)"
    )]
    Private,
}

/// Parses `raw` as a webhook URL (syntax only).
pub fn parse(raw: &str) -> Result<Url, UrlRefused> {
    if raw.len() > MAX_URL_BYTES {
        return Err(UrlRefused::Malformed);
    }
    let url = Url::parse(raw).map_err(|_| UrlRefused::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefused::Malformed);
    }
    Ok(url)
}

/// Resolves `url`'s host and refuses internal addresses unless `allow_private`.
pub async fn check(url: &Url, allow_private: bool) -> Result<(), UrlRefused> {
    if allow_private {
        return Ok(());
    }
    let host = url.host_str().ok_or(UrlRefused::Malformed)?;
    let port = url.port_or_known_default().ok_or(UrlRefused::Malformed)?;
    // `[::1]` comes back with its brackets from host_str.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| UrlRefused::Unresolved)?
            .map(|address| address.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(UrlRefused::Unresolved);
    }
    if addresses.iter().any(|ip| is_internal(*ip)) {
        return Err(UrlRefused::Private);
    }
    Ok(())
}

/// Returns whether `ip` is not a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_internal_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_internal_v4(mapped),
            None => is_internal_v6(ip),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT 100.64.0.0/10 and benchmarking 198.18.0.0/15.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7 and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_an_absolute_http_url() {
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/hook",
            "file:///etc/passwd",
            "http://",
            &format!("https://example.com/{}", "a".repeat(2100)),
        ] {
            assert_eq!(parse(bad), Err(UrlRefused::Malformed), "{bad:?}");
        }
        assert!(parse("https://hooks.example.com/switchboard?x=1").is_ok());
    }

    #[test]
    fn tells_internal_addresses_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().expect("ip")), "{internal}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_internal(public.parse().expect("ip")), "{public}");
        }
    }

    #[tokio::test]
    async fn loopback_urls_need_the_workspace_to_allow_private_networks() {
        let url = parse("http://127.0.0.1:9/hook").expect("url");
        assert_eq!(check(&url, false).await, Err(UrlRefused::Private));
        assert_eq!(check(&url, true).await, Ok(()));
        let url = parse("http://[::1]:9/hook").expect("url");
        assert_eq!(check(&url, false).await, Err(UrlRefused::Private));
        let url = parse("http://localhost:9/hook").expect("url");
        assert_eq!(check(&url, false).await, Err(UrlRefused::Private));
    }
}
