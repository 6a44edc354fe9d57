//! Logging and trace-context setup for a process.
//!
//! Installs a `tracing` subscriber (human-readable, or JSON for log collectors) filtered by
//! `RUST_LOG`, on stderr (stdout is for what a person at the console must read), and the W3C trace-context propagator so that context flows over gRPC
//! metadata and NATS headers even when no exporter is configured. OTLP export is added by the
//! operations work; the guard already marks where it is flushed.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps telemetry alive; call [`TelemetryGuard::shutdown`] last, after everything else stopped.
#[derive(Debug)]
pub struct TelemetryGuard {
    service_name: String,
}

impl TelemetryGuard {
    /// Flushes pending telemetry.
    pub fn shutdown(self) {
        tracing::debug!(service = %self.service_name, "telemetry shut down");
    }
}

/// Initialises logging for `service_name`, as JSON lines when `json`. Safe to call more than once
/// (later calls only return a guard), which keeps tests that start several components in one
/// process simple.
pub fn init(service_name: &str, json: bool) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry();
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init()
    };
    drop(result); // already initialised: keep the first subscriber
    TelemetryGuard {
        service_name: service_name.to_owned(),
    }
}

use tracing_subscriber::Layer as _;
