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
    /// How long an agent whose sockets are all gone stays online (a reload, a gateway restart)
    /// before it is set offline and its conversations go back to the queue, in seconds.
    pub presence_grace_secs: u64,
    /// Period of the check for expired presence, in milliseconds.
    pub presence_sweep_ms: u64,
    /// Failed logins of one email within `login_window_secs` that lock it.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// How long a locked email is refused, in seconds.
    pub login_lock_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: String::new(),
            subject_prefix: "switchboard".to_owned(),
            migrate: true,
            session_ttl_secs: 12 * 3600,
            shutdown_grace_secs: 10,
            presence_grace_secs: 30,
            presence_sweep_ms: 1000,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            login_lock_secs: 15 * 60,
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

    /// Returns the presence grace period.
    pub fn presence_grace(&self) -> Duration {
        Duration::from_secs(self.presence_grace_secs)
    }

    /// Returns the period of the presence check.
    pub fn presence_sweep(&self) -> Duration {
        Duration::from_millis(self.presence_sweep_ms.max(100))
    }

    /// Returns when failed logins lock an email.
    pub fn login_policy(&self) -> crate::lockout::LoginPolicy {
        crate::lockout::LoginPolicy {
            max_failures: self.login_max_failures,
            window: Duration::from_secs(self.login_window_secs),
            lock: Duration::from_secs(self.login_lock_secs),
        }
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}
