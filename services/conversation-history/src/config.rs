//! Configuration of the conversation-history service.

use serde::Deserialize;
use std::time::Duration;
use switchboard_platform::subjects::Subjects;

/// Settings of one conversation-history process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// NATS subject prefix.
    pub subject_prefix: String,
    /// Apply pending migrations at start-up.
    pub migrate: bool,
    /// Largest message text, in bytes of UTF-8.
    pub max_text_bytes: usize,
    /// How long in-flight calls may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// Close an assigned conversation after this many seconds without a message (0 = never).
    /// Waiting (queued) conversations are never closed: they wait for an agent.
    pub auto_close_secs: u64,
    /// Period of the inactivity check, in milliseconds.
    pub auto_close_sweep_ms: u64,
    /// Period of the retention purge (deleting conversations past their workspace's retention),
    /// in milliseconds.
    pub retention_sweep_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            subject_prefix: "switchboard".to_owned(),
            migrate: true,
            max_text_bytes: 8 * 1024,
            shutdown_grace_secs: 10,
            auto_close_secs: 0,
            auto_close_sweep_ms: 30_000,
            retention_sweep_ms: 60 * 60 * 1000,
        }
    }
}

/// Input limits enforced by the gRPC adapter.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message text, in bytes.
    pub max_text_bytes: usize,
}

impl Config {
    /// Returns the subjects builder for the configured prefix.
    pub fn subjects(&self) -> Subjects {
        Subjects::new(self.subject_prefix.clone())
    }

    /// Returns the input limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_text_bytes: self.max_text_bytes,
        }
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
