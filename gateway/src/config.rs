//! Configuration of the gateway.

use serde::Deserialize;
use std::time::Duration;

/// Settings of one gateway process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC address of agent-management (`http://host:port`).
    pub agents_url: String,
    /// gRPC address of conversation-history.
    pub history_url: String,
    /// gRPC address of routing.
    pub routing_url: String,
    /// gRPC address of integrations (webhooks).
    pub integrations_url: String,
    /// NATS subject prefix (must match the services').
    pub subject_prefix: String,
    /// Largest HTTP request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest message text, in bytes of UTF-8.
    pub max_text_bytes: usize,
    /// Largest WebSocket frame/message, in bytes; larger ones close the socket with 1009.
    pub max_frame_bytes: usize,
    /// Frames queued for one socket before it counts as too slow and is closed (1013).
    pub outbound_queue: usize,
    /// Sustained client frames per second per socket, and the burst allowed above it.
    pub frames_per_second: u32,
    pub frames_burst: u32,
    /// Open sockets one visitor may have on this gateway.
    pub max_connections_per_visitor: usize,
    /// Most open WebSockets from one client address (after trusted proxies) on this gateway.
    pub max_connections_per_address: usize,
    /// Server ping period; a peer silent for three periods is dropped.
    pub heartbeat_secs: u64,
    /// Time an agent socket has to send `auth`.
    pub auth_timeout_secs: u64,
    /// Most messages replayed by one `resume`; beyond it `recovered` is false.
    pub replay_limit: usize,
    /// How long open requests may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// Read web pages from this directory on every request instead of the embedded copies.
    pub web_dir: Option<std::path::PathBuf>,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies such as nginx); the client
    /// address of a request is then the nearest address in that header not in this list.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            agents_url: "http://127.0.0.1:50051".to_owned(),
            history_url: "http://127.0.0.1:50052".to_owned(),
            routing_url: "http://127.0.0.1:50053".to_owned(),
            integrations_url: "http://127.0.0.1:50054".to_owned(),
            subject_prefix: "switchboard".to_owned(),
            max_body_bytes: 64 * 1024,
            max_text_bytes: 8 * 1024,
            max_frame_bytes: 64 * 1024,
            outbound_queue: 256,
            frames_per_second: 20,
            frames_burst: 40,
            max_connections_per_visitor: 10,
            max_connections_per_address: 1_000,
            heartbeat_secs: 20,
            auth_timeout_secs: 10,
            replay_limit: 10_000,
            shutdown_grace_secs: 10,
            web_dir: None,
            trusted_proxies: vec![
                "127.0.0.0/8".parse().expect("loopback v4"),
                "::1/128".parse().expect("loopback v6"),
            ],
        }
    }
}

impl Config {
    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
