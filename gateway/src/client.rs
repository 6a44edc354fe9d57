//! Who is calling: the client's address (behind trusted proxies) and user agent, attached to the
//! gRPC calls a request makes so services can audit them.
//!
//! [`client_address`] runs on every request: it removes any `x-switchboard-*` header a client
//! sent and sets `x-switchboard-client-ip` to the peer's address, or, when the peer is a trusted
//! proxy, to the nearest `X-Forwarded-For` entry that is not one (so a client cannot forge its
//! address by sending the header itself).

use crate::state::Gateway;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use switchboard_platform::actor::{CLIENT_IP, RequestActor};

/// Replaces client-sent `x-switchboard-*` headers with the client address the gateway trusts.
pub async fn client_address(
    State(gateway): State<Arc<Gateway>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let headers = request.headers_mut();
    let forged: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-switchboard-"))
        .cloned()
        .collect();
    for name in forged {
        headers.remove(name);
    }
    let address = peer.map(|peer| resolve(peer, headers, &gateway.config.trusted_proxies));
    if let Some(value) = address.and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok()) {
        headers.insert(CLIENT_IP, value);
    }
    next.run(request).await
}

/// The client address: `peer`, or walking `X-Forwarded-For` from the right while the hop is a
/// trusted proxy, the first untrusted one.
fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A garbled hop: stop at the last address we could trust.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The caller as the services should record it: `actor_id` (when signed in), the address
/// [`client_address`] set and the user agent.
pub fn actor(headers: &HeaderMap, actor_id: Option<String>) -> RequestActor {
    let read = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    RequestActor {
        actor_id,
        client_ip: read(CLIENT_IP),
        user_agent: read("user-agent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<IpNet> {
        vec![
            "127.0.0.0/8".parse().expect("valid"),
            "10.0.0.0/8".parse().expect("valid"),
        ]
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("valid"));
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer: IpAddr = "198.51.100.7".parse().expect("valid");
        assert_eq!(resolve(peer, &forwarded("1.2.3.4"), &trusted()), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let peer: IpAddr = "127.0.0.1".parse().expect("valid");
        let headers = forwarded("6.6.6.6, 203.0.113.9, 10.1.2.3");
        assert_eq!(
            resolve(peer, &headers, &trusted()),
            "203.0.113.9".parse::<IpAddr>().expect("valid")
        );
        assert_eq!(resolve(peer, &HeaderMap::new(), &trusted()), peer);
        assert_eq!(
            resolve(peer, &forwarded("garbage"), &trusted()),
            peer,
            "an unparsable hop is not believed"
        );
    }
}
