//! Logging and tracing setup for a process.
//!
//! Installs a `tracing` subscriber (human-readable, or JSON for log collectors) filtered by
//! `RUST_LOG`, on stderr (stdout is for what a person at the console must read), and the W3C
//! trace-context propagator, so that context flows over gRPC metadata even when nothing is
//! exported. With an OTLP endpoint (`SWITCHBOARD_OTLP_ENDPOINT` or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, gRPC, e.g. `http://otel-collector:4317`) spans are also exported
//! in batches (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_TRACES_SAMPLER` apply); the OpenTelemetry layer has
//! its own `INFO` filter so that `RUST_LOG=warn` does not break traces (see ../shared/STACK.md).
//! gRPC server spans record their `trace_id`, so log lines inside them carry it.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps telemetry alive; call [`TelemetryGuard::shutdown`] last, after everything else stopped.
#[derive(Debug)]
pub struct TelemetryGuard {
    service_name: String,
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("{}: cannot flush traces: {error}", self.service_name);
        }
        tracing::debug!(service = %self.service_name, "telemetry shut down");
    }
}

/// Returns a tracer provider exporting to the OTLP/gRPC `endpoint`, or why it cannot.
fn otlp_provider(
    service_name: &str,
    endpoint: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    // The default resource reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; our name is
    // only the fallback.
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service_name.to_owned());
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// Initialises logging (and span export when `otlp_endpoint` is set) for `service_name`, as
/// JSON lines when `json`. Safe to call more than once (later calls only return a guard), which
/// keeps tests that start several components in one process simple.
pub fn init(service_name: &str, json: bool, otlp_endpoint: Option<&str>) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = otlp_endpoint.and_then(|endpoint| {
        otlp_provider(service_name, endpoint)
            .map_err(|error| eprintln!("{service_name}: traces not exported: {error}"))
            .ok()
    });
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("switchboard"))
            .with_filter(LevelFilter::INFO)
    });
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn"));
    let registry = tracing_subscriber::registry().with(otel);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
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
    if let Some(provider) = &provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    TelemetryGuard {
        service_name: service_name.to_owned(),
        provider,
    }
}

/// Installs a subscriber that records every span into the returned in-memory exporter (tests).
#[cfg(feature = "testing")]
pub fn init_capture(log: bool) -> opentelemetry_sdk::trace::InMemorySpanExporter {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("switchboard-test"))
        .with_filter(LevelFilter::INFO);
    let fmt = log.then(|| {
        tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::new(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            ))
    });
    let _ = tracing_subscriber::registry()
        .with(otel)
        .with(fmt)
        .try_init();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    opentelemetry::global::set_tracer_provider(provider);
    exporter
}
