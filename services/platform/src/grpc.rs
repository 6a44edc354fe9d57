//! gRPC plumbing shared by every service: server spans, serving with a bounded drain, health and
//! reflection, client channels with trace propagation, and the one way errors become `Status`.
//!
//! Status helpers never put internal error text into a `Status`: [`internal`] logs the full
//! error once and answers `"internal error"`, so SQL or NATS details cannot reach a client.

use opentelemetry::propagation::Injector;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub use tonic_health::server::HealthReporter;

/// The tower layers every Switchboard gRPC server runs.
pub type ServerLayers =
    tower::layer::util::Stack<crate::metrics::GrpcMetricsLayer, tower::layer::util::Identity>;

/// A client channel that injects the current trace context into every call.
pub type TracedChannel = InterceptedService<Channel, TraceContextInterceptor>;

/// Returns a server builder whose requests each get a span parented to the caller's trace and
/// are counted and timed ([`crate::metrics::GrpcMetricsLayer`]).
pub fn server() -> Server<ServerLayers> {
    Server::builder()
        .trace_fn(server_span)
        .layer(crate::metrics::GrpcMetricsLayer)
}

/// Creates the span of one inbound call, continuing the caller's W3C trace context.
///
/// The parent is set here, before the span is ever entered: setting it later silently fails
/// with current tracing-opentelemetry (shared/STACK.md 1.5).
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %format!("{service}/{method}"),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        trace_id = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    // Without an OpenTelemetry layer (no exporter configured) there is nothing to link.
    let _ = span.set_parent(parent);
    crate::trace::record_trace_id(&span);
    span
}

/// Serves `router` on `listener` until `shutdown`, then drains in-flight calls for at most `grace`.
pub async fn serve(
    router: tonic::transport::server::Router<ServerLayers>,
    listener: TcpListener,
    shutdown: CancellationToken,
    grace: Duration,
) -> Result<(), tonic::transport::Error> {
    let incoming = TcpListenerStream::new(listener);
    let server = router.serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = shutdown.cancelled() => match tokio::time::timeout(grace, &mut server).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(?grace, "grace period over, abandoning in-flight calls");
                Ok(())
            }
        },
    }
}

/// Returns the reflection service for every Switchboard package and the health protocol.
pub fn reflection() -> Result<
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
    tonic_reflection::server::Error,
> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(switchboard_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
}

/// Opens a lazily connecting channel to `url` (`http://host:port`); build once per peer, clone.
pub fn channel(url: &str) -> Result<TracedChannel, tonic::transport::Error> {
    let channel = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .connect_lazy();
    Ok(InterceptedService::new(channel, TraceContextInterceptor))
}

/// Injects the current span's trace context into outgoing gRPC metadata.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceContextInterceptor;

impl tonic::service::Interceptor for TraceContextInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
        });
        Ok(request)
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Returns `INVALID_ARGUMENT` naming the offending `field`.
pub fn invalid_argument(field: &str, description: &str) -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// Metadata key naming why an UNAUTHENTICATED call was refused (`revoked`, `totp_required`, …),
/// so the gateway can answer a stable code without parsing messages.
const REASON_KEY: &str = "x-switchboard-reason";

/// Returns UNAUTHENTICATED with `message` and the stable `reason` (ASCII) in its metadata.
pub fn unauthenticated(message: impl Into<String>, reason: &'static str) -> Status {
    let mut status = Status::unauthenticated(message);
    status
        .metadata_mut()
        .insert(REASON_KEY, MetadataValue::from_static(reason));
    status
}

/// The stable reason of an UNAUTHENTICATED status made by [`unauthenticated`], if any.
pub fn unauthenticated_reason(status: &Status) -> Option<&str> {
    if status.code() != Code::Unauthenticated {
        return None;
    }
    status.metadata().get(REASON_KEY)?.to_str().ok()
}

/// Returns `NOT_FOUND` for a `what` (e.g. "conversation"); never says whether it exists elsewhere.
pub fn not_found(what: &str) -> Status {
    Status::not_found(format!("{what} not found"))
}

/// Returns `UNAVAILABLE` for a dependency that is down, logging the cause.
pub fn unavailable(error: &dyn std::error::Error) -> Status {
    tracing::warn!(%error, "dependency unavailable");
    Status::unavailable("service temporarily unavailable, retry")
}

/// Logs `error` with its chain and returns an opaque `INTERNAL`.
pub fn internal(error: &dyn std::error::Error) -> Status {
    tracing::error!(error = %ErrorChain(error), "internal error");
    Status::internal("internal error")
}

/// Displays an error followed by its sources.
#[derive(Debug)]
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Returns whether a database error means the database is unreachable (vs. a bug or bad data).
///
/// Besides failing to get a connection, this covers a statement whose connection was lost while
/// it ran (`Exec`/`Query` wrapping an I/O error, seen when PostgreSQL goes away mid-query) and
/// PostgreSQL's own "connection exception" (SQLSTATE class 08) and shutdown (57P…) codes.
pub fn is_connection_error(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            match error.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(error) => error
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Maps a database error to `UNAVAILABLE` when the database is down, `INTERNAL` otherwise.
pub fn db_status(error: &sea_orm::DbErr) -> Status {
    if is_connection_error(error) {
        unavailable(error)
    } else {
        internal(error)
    }
}

/// Converts a UTC time to a protobuf timestamp.
pub fn timestamp(time: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// Parses a UUID field of a request, naming the field when it is malformed.
pub fn parse_uuid(field: &str, value: &str) -> Result<uuid::Uuid, Status> {
    uuid::Uuid::parse_str(value.trim()).map_err(|_| invalid_argument(field, "must be a UUID"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    use std::sync::Arc;

    fn exec(error: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
    }

    #[test]
    fn lost_database_is_a_connection_error_and_bad_sql_is_not() {
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "peer closed connection");
        assert!(is_connection_error(&exec(sqlx::Error::Io(eof))));
        assert!(is_connection_error(&exec(sqlx::Error::PoolTimedOut)));
        assert!(is_connection_error(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        assert!(!is_connection_error(&exec(sqlx::Error::RowNotFound)));
        assert!(!is_connection_error(&DbErr::Custom("bug".into())));
        let status = db_status(&exec(sqlx::Error::PoolTimedOut));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("pool"), "{status:?}");
    }
}
