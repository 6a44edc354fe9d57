//! Configuration of the integrations service.

use serde::Deserialize;
use std::time::Duration;
use switchboard_platform::subjects::Subjects;

/// Settings of one integrations process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// NATS subject prefix.
    pub subject_prefix: String,
    /// Apply pending migrations at start-up.
    pub migrate: bool,
    /// How long in-flight calls may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// Attempts of one delivery before it is dead-lettered.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; each further retry waits twice as long
    /// (with ±20 % jitter), at most `retry_max_ms`.
    pub retry_base_ms: u64,
    /// Longest wait between two attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long a receiver may take to answer one attempt, in milliseconds.
    pub request_timeout_ms: u64,
    /// How often the worker looks for due deliveries (it is also woken by new events), in
    /// milliseconds.
    pub poll_interval_ms: u64,
    /// Deliveries in flight at once, over every endpoint.
    pub max_in_flight: usize,
    /// How long a rotated-out secret still signs deliveries, in seconds.
    pub secret_overlap_secs: u64,
    /// How long the event feed and finished deliveries are kept, in hours.
    pub retention_hours: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            subject_prefix: "switchboard".to_owned(),
            migrate: true,
            shutdown_grace_secs: 10,
            max_attempts: 12,
            retry_base_ms: 1_000,
            retry_max_ms: 3_600_000,
            request_timeout_ms: 10_000,
            poll_interval_ms: 500,
            max_in_flight: 32,
            secret_overlap_secs: 24 * 3600,
            retention_hours: 7 * 24,
        }
    }
}

impl Config {
    /// Returns the subjects builder for the configured prefix.
    pub fn subjects(&self) -> Subjects {
        Subjects::new(self.subject_prefix.clone())
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
