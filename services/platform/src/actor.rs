//! Who makes a request and from where, carried from the gateway to the services in gRPC
//! metadata so a service can write it into its audit log in the same transaction as the change.
//!
//! Only the gateway sets these headers; services are reached on the internal network only (see
//! docs/security.md), and the gateway never forwards a browser's own `x-switchboard-*` headers.

use tonic::metadata::{MetadataMap, MetadataValue};

/// Agent (or API token) id of the caller.
pub const ACTOR_ID: &str = "x-switchboard-actor-id";
/// Client IP address as the gateway saw it (after trusted proxies).
pub const CLIENT_IP: &str = "x-switchboard-client-ip";
/// The client's `User-Agent`, cut to [`MAX_USER_AGENT`] bytes.
pub const USER_AGENT: &str = "x-switchboard-user-agent";
/// Longest user agent kept.
pub const MAX_USER_AGENT: usize = 256;

/// The caller of a request, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestActor {
    /// Agent (or token) id; none for an unauthenticated call such as a login.
    pub actor_id: Option<String>,
    /// Client IP address.
    pub client_ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl RequestActor {
    /// Reads the actor from a request's metadata (absent or malformed values are left out).
    pub fn from_metadata(metadata: &MetadataMap) -> Self {
        let read = |key: &str, limit: usize| {
            metadata
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(|value| cut(value.trim(), limit).to_owned())
                .filter(|value| !value.is_empty())
        };
        Self {
            actor_id: read(ACTOR_ID, 64),
            client_ip: read(CLIENT_IP, 64),
            user_agent: read(USER_AGENT, MAX_USER_AGENT),
        }
    }

    /// Writes the actor into outgoing request metadata.
    pub fn attach(&self, metadata: &mut MetadataMap) {
        for (key, value) in [
            (ACTOR_ID, &self.actor_id),
            (CLIENT_IP, &self.client_ip),
            (USER_AGENT, &self.user_agent),
        ] {
            let Some(value) = value else { continue };
            // Header values must be visible ASCII; a user agent with other bytes is dropped.
            if let Ok(value) = MetadataValue::try_from(cut(value, MAX_USER_AGENT)) {
                metadata.insert(key, value);
            }
        }
    }

    /// Wraps `message` in a request carrying this actor.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        self.attach(request.metadata_mut());
        request
    }
}

/// Cuts `text` to at most `limit` bytes on a character boundary.
fn cut(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_actor_survives_the_trip_through_metadata() {
        let actor = RequestActor {
            actor_id: Some("0190-agent".into()),
            client_ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0".into()),
        };
        let request = actor.request(());
        assert_eq!(RequestActor::from_metadata(request.metadata()), actor);
    }

    #[test]
    fn long_or_non_ascii_values_are_cut_or_dropped() {
        let actor = RequestActor {
            actor_id: None,
            client_ip: None,
            user_agent: Some("x".repeat(1000)),
        };
        let read = RequestActor::from_metadata(actor.request(()).metadata());
        assert_eq!(
            read.user_agent.map(|agent| agent.len()),
            Some(MAX_USER_AGENT)
        );
        let actor = RequestActor {
            user_agent: Some("浏览器".into()),
            ..RequestActor::default()
        };
        assert_eq!(
            RequestActor::from_metadata(actor.request(()).metadata()),
            RequestActor::default()
        );
    }
}
