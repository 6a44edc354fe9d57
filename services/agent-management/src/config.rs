//! Configuration of the agent-management service.

use serde::Deserialize;
use std::time::Duration;
use switchboard_platform::subjects::Subjects;

/// Settings of one agent-management process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// NATS subject prefix.
    pub subject_prefix: String,
    /// Apply pending migrations at start-up.
    pub migrate: bool,
    /// Lifetime of a login session, in seconds.
    pub session_ttl_secs: u64,
    /// How long in-flight calls may take to finish on shutdown, in seconds.
    pub shutdown_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            subject_prefix: "switchboard".to_owned(),
            migrate: true,
            session_ttl_secs: 12 * 3600,
            shutdown_grace_secs: 10,
        }
    }
}

impl Config {
    /// Returns the subjects builder for the configured prefix.
    pub fn subjects(&self) -> Subjects {
        Subjects::new(self.subject_prefix.clone())
    }

    /// Returns the session lifetime.
    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_secs)
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
