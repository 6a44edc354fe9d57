//! `switchboard-bench`: a load and correctness tool for Switchboard's WebSocket protocol v1.
//!
//! It prepares a workspace through the admin REST API (a department and M agents of its own),
//! opens M agent and N visitor connections (spread over several gateways and source addresses),
//! opens one conversation per visitor, and once routing has assigned them all, drives a paced
//! message rate in one or both directions. It measures, with one process-wide clock,
//! send → ack and send → receipt by the other side, and checks every message of the run for
//! loss, duplication, reordering and gaps ([`Check`]).
//!
//! It does not retry, reconnect or resume: a socket the server drops is reported as an error,
//! and what it would have received is counted as lost. Plain `ws://`/`http://` only.
//!
//! | module | owns |
//! |---|---|
//! | `config` | the command line and the per-socket plan |
//! | `setup` | admin REST calls: login, site key, department, agents |
//! | `client` | connecting (source address, `TCP_NODELAY`) and the protocol frames |
//! | `session` | one task per connection: identify, send on an interval, read, clean up |
//! | `run` | phases, progress line, report assembly |
//! | `stats` | the shared recorder, histograms, the check and the report |

mod client;
mod config;
mod error;
mod run;
mod session;
mod setup;
mod stats;

pub use config::{
    ADMIN_PASSWORD_ENV, Config, DEFAULT_SERVER_FRAMES_PER_SECOND, Direction, MAX_AGENT_CAPACITY,
    Plan,
};
pub use error::{BenchError, Result};
pub use run::run;
pub use stats::check::Check;
pub use stats::report::{
    Counts, Errors, Latencies, Percentiles, Report, Settings, Throughput, Timing,
};
