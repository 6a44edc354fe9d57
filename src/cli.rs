//! Command line: which component(s) this process runs. Everything else is configuration
//! (`SWITCHBOARD_*` environment variables or the file named by `SWITCHBOARD_CONFIG`).

/// Switchboard: real-time customer-service chat.
#[derive(Debug, clap::Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    /// Component to run; `all-in-one` when omitted.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// The components, each runnable as its own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::Subcommand)]
pub(crate) enum Command {
    /// Every service and the gateway in one process, on a SQLite file and an in-process bus
    /// (or on SWITCHBOARD_DATABASE_URL / SWITCHBOARD_NATS_URL when set).
    #[default]
    AllInOne,
    /// The HTTP/WebSocket edge.
    Gateway,
    /// The routing service (PostgreSQL + NATS).
    Routing,
    /// The conversation-history service (PostgreSQL + NATS).
    History,
    /// The agent-management service (PostgreSQL + NATS).
    Agents,
    /// The integrations service: webhooks (PostgreSQL + NATS).
    Integrations,
    /// Apply every service's database migrations and exit.
    Migrate,
}
