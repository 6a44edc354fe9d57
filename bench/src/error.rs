//! Why a benchmark could not run. Problems *during* the measured run (errors frames, dropped
//! sockets, lost messages) are results, counted in the report; these are the failures that stop
//! the tool before it has anything to report.

/// A failure that ends the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The admin REST API answered with an unexpected status.
    #[error("{what}: HTTP {status}: {body}")]
    Api {
        /// What the tool was doing.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body (cut to 500 bytes).
        body: String,
    },
    /// The command line is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A TCP or WebSocket connection could not be opened.
    #[error("connect {url}: {message}")]
    Connect {
        /// Where to.
        url: String,
        /// Why not (with a hint when the cause is a local limit).
        message: String,
    },
    /// A bug of the bench itself.
    #[error("internal error: {0}")]
    Internal(String),
    /// An HTTP request did not complete.
    #[error("{what}: {source}")]
    Http {
        /// What the tool was doing.
        what: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The server answered something the protocol does not allow at this point.
    #[error("{who}: {message}")]
    Protocol {
        /// Which connection (`visitor 12`, `agent 3`).
        who: String,
        /// What happened.
        message: String,
    },
    /// Not every connection was ready within `--setup-timeout`.
    #[error("setup did not finish within {secs} s: {detail}")]
    SetupTimeout {
        /// The timeout.
        secs: u64,
        /// How far it got.
        detail: String,
    },
}

/// Result of the benchmark's fallible steps.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
