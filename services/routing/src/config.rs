//! Configuration of the routing service.

use serde::Deserialize;
use std::time::Duration;
use switchboard_platform::subjects::Subjects;

/// Settings of one routing process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// NATS subject prefix.
    pub subject_prefix: String,
    /// Apply pending migrations at start-up.
    pub migrate: bool,
    /// gRPC address of agent-management (`http://host:port`).
    pub agents_url: String,
    /// gRPC address of conversation-history.
    pub history_url: String,
    /// Period of the safety-net sweep over every queue, in milliseconds.
    pub sweep_interval_ms: u64,
    /// How long in-flight calls may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            subject_prefix: "switchboard".to_owned(),
            migrate: true,
            agents_url: "http://127.0.0.1:50051".to_owned(),
            history_url: "http://127.0.0.1:50052".to_owned(),
            sweep_interval_ms: 5000,
            shutdown_grace_secs: 10,
        }
    }
}

impl Config {
    /// Returns the subjects builder for the configured prefix.
    pub fn subjects(&self) -> Subjects {
        Subjects::new(self.subject_prefix.clone())
    }

    /// Returns the sweep period.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms.max(100))
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
