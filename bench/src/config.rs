//! The command line (clap) and the load plan derived from it.
//!
//! [`Config`] is what the user asked for; [`Config::plan`] checks it and turns it into per-socket
//! send rates and the agents' capacity. Nothing here touches the network.

use crate::error::{BenchError, Result};
use clap::{Parser, ValueEnum};
use std::net::IpAddr;
use std::time::Duration;

/// Largest `max_concurrent` the admin API accepts for one agent.
pub const MAX_AGENT_CAPACITY: usize = 100;

/// The gateway's default per-socket limit (`SWITCHBOARD_WS_FRAMES_PER_SECOND`); above it the
/// server drops frames with `rate_limited` unless it was configured higher.
pub const DEFAULT_SERVER_FRAMES_PER_SECOND: f64 = 20.0;

/// Environment variable read for the admin password when `--admin-password` is not given.
pub const ADMIN_PASSWORD_ENV: &str = "SWITCHBOARD_BENCH_ADMIN_PASSWORD";

/// Which side sends the paced messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Visitors write, agents read.
    VisitorToAgent,
    /// Agents write, visitors read.
    AgentToVisitor,
    /// Both write, half of the rate each.
    Both,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::VisitorToAgent => "visitor-to-agent",
            Self::AgentToVisitor => "agent-to-visitor",
            Self::Both => "both",
        })
    }
}

/// `switchboard-bench`: drives visitors and agents through the real WebSocket protocol and
/// checks that every acknowledged message reaches the other side exactly once, in order.
#[derive(Debug, Clone, Parser)]
#[command(name = "switchboard-bench", version, about, long_about = None)]
pub struct Config {
    /// Gateway base URL (`http://host:port`); repeat to spread connections round-robin. The
    /// first one also serves the admin REST calls.
    #[arg(
        long = "gateway",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub gateways: Vec<String>,

    /// Local address to connect from (e.g. 127.0.0.2); repeat to spread connections
    /// round-robin and get past one address's ephemeral ports.
    #[arg(long = "source-ip", value_name = "IP")]
    pub source_ips: Vec<IpAddr>,

    /// Email of an admin of the workspace to load.
    #[arg(long, default_value = "admin@switchboard.local")]
    pub admin_email: String,

    /// That admin's password; without it, SWITCHBOARD_BENCH_ADMIN_PASSWORD is read (better:
    /// command lines are visible to `ps`).
    #[arg(long)]
    pub admin_password: Option<String>,

    /// Visitor connections, one conversation each.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub visitors: usize,

    /// Agent connections (agents created for this run, in a department of their own).
    #[arg(long, value_name = "M", default_value_t = 10)]
    pub agents: usize,

    /// Total messages per second over all senders, spread evenly.
    #[arg(long, value_name = "MSGS_PER_SEC", default_value_t = 100.0)]
    pub rate: f64,

    /// Seconds of measured load.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub duration: u64,

    /// Seconds of load before measuring (checked, not measured).
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    pub warmup: u64,

    /// Who sends.
    #[arg(long, value_enum, default_value_t = Direction::Both)]
    pub direction: Direction,

    /// Size of each message text in bytes (at least the length of its id).
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub text_bytes: usize,

    /// Print one JSON object with every result on stdout instead of a human summary.
    #[arg(long)]
    pub json: bool,

    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Seconds to wait, after sending stops, for messages still in flight.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub drain_timeout: u64,

    /// Seconds allowed for connecting everyone and assigning every conversation.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub setup_timeout: u64,

    /// Connections being opened at the same time.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub connect_concurrency: usize,
}

/// What each socket does, derived from a valid [`Config`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Messages per second each visitor sends (0 = none).
    pub visitor_rate: f64,
    /// Messages per second an agent sends into each of its conversations (0 = none).
    pub agent_rate_per_conversation: f64,
    /// `max_concurrent` of the created agents.
    pub agent_capacity: usize,
    /// Conversations the busiest agent holds once routing spread them evenly.
    pub conversations_per_agent: usize,
}

impl Plan {
    /// Returns the highest frame rate a single socket sends at (the busiest agent or a visitor).
    pub fn busiest_socket_rate(&self) -> f64 {
        let conversations = self.conversations_per_agent as f64;
        self.visitor_rate
            .max(self.agent_rate_per_conversation * conversations)
    }
}

impl Config {
    /// Checks the configuration and returns the per-socket plan.
    pub fn plan(&self) -> Result<Plan> {
        let invalid = |message: String| Err(BenchError::Config(message));
        if self.gateways.is_empty() {
            return invalid("at least one --gateway is needed".into());
        }
        for gateway in &self.gateways {
            if !gateway.starts_with("http://") {
                return invalid(format!(
                    "--gateway {gateway}: must be an http:// URL (TLS is not supported)"
                ));
            }
        }
        if self.visitors == 0 || self.agents == 0 {
            return invalid("--visitors and --agents must be at least 1".into());
        }
        if self.visitors > self.agents * MAX_AGENT_CAPACITY {
            return invalid(format!(
                "--visitors {} do not fit: {} agents hold at most {} conversations \
                 ({MAX_AGENT_CAPACITY} each); use at least {} agents",
                self.visitors,
                self.agents,
                self.agents * MAX_AGENT_CAPACITY,
                self.visitors.div_ceil(MAX_AGENT_CAPACITY),
            ));
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return invalid(format!("--rate {}: must be above 0", self.rate));
        }
        if self.duration == 0 {
            return invalid("--duration must be at least 1 second".into());
        }
        if self.text_bytes == 0 || self.text_bytes > 1 << 20 {
            return invalid("--text-bytes must be between 1 and 1048576".into());
        }
        if self.connect_concurrency == 0 {
            return invalid("--connect-concurrency must be at least 1".into());
        }
        let per_conversation = self.rate / self.visitors as f64;
        let (visitor_rate, agent_rate_per_conversation) = match self.direction {
            Direction::VisitorToAgent => (per_conversation, 0.0),
            Direction::AgentToVisitor => (0.0, per_conversation),
            Direction::Both => (per_conversation / 2.0, per_conversation / 2.0),
        };
        let agent_capacity = self.visitors.div_ceil(self.agents);
        Ok(Plan {
            visitor_rate,
            agent_rate_per_conversation,
            agent_capacity,
            conversations_per_agent: agent_capacity,
        })
    }

    /// Returns the admin password from `--admin-password` or the environment.
    pub fn admin_password(&self) -> Result<String> {
        match &self.admin_password {
            Some(password) => Ok(password.clone()),
            None => std::env::var(ADMIN_PASSWORD_ENV).map_err(|_| {
                BenchError::Config(format!(
                    "--admin-password or {ADMIN_PASSWORD_ENV} is required"
                ))
            }),
        }
    }

    /// Returns the warmup as a duration.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup)
    }

    /// Returns the measured phase as a duration.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["switchboard-bench", "--admin-password", "secret-password"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn splits_the_rate_between_both_sides() {
        let plan = parse(&["--visitors", "100", "--agents", "10", "--rate", "400"])
            .plan()
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(plan.visitor_rate, 2.0);
        assert_eq!(plan.agent_rate_per_conversation, 2.0);
        assert_eq!(plan.agent_capacity, 10);
        assert_eq!(plan.busiest_socket_rate(), 20.0);
    }

    #[test]
    fn refuses_more_visitors_than_agents_can_hold() {
        let error = parse(&["--visitors", "201", "--agents", "2"]).plan();
        assert!(
            matches!(&error, Err(BenchError::Config(message)) if message.contains("at least 3 agents")),
            "{error:?}"
        );
    }

    #[test]
    fn one_direction_gets_the_whole_rate() {
        let plan = parse(&["--visitors", "10", "--agents", "3", "--rate", "50"])
            .plan()
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(plan.agent_capacity, 4);
        let config = parse(&[
            "--visitors",
            "10",
            "--rate",
            "50",
            "--direction",
            "agent-to-visitor",
        ]);
        let plan = config.plan().unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            (plan.visitor_rate, plan.agent_rate_per_conversation),
            (0.0, 5.0)
        );
    }

    #[test]
    fn refuses_tls_gateways() {
        assert!(parse(&["--gateway", "https://example.com"]).plan().is_err());
    }
}
