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
    /// Largest HTTP request body, in bytes.
    pub max_body_bytes: usize,
    /// How long open requests may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            agents_url: "http://127.0.0.1:50051".to_owned(),
            history_url: "http://127.0.0.1:50052".to_owned(),
            routing_url: "http://127.0.0.1:50053".to_owned(),
            max_body_bytes: 64 * 1024,
            shutdown_grace_secs: 10,
        }
    }
}

impl Config {
    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
