//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`.
//!
//! Components record with the `metrics` macros (`counter!`, `gauge!`, `histogram!`) under the
//! `switchboard_` prefix; this module installs the recorder, serves the text format (on the
//! gateway's HTTP port, or on a service's own metrics port in distributed mode), and measures
//! every gRPC call a server handles ([`GrpcMetricsLayer`]). Metric names are listed in
//! docs/operations.md.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::future::BoxFuture;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Histogram buckets for latencies, in seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once) and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = || {
                PrometheusBuilder::new()
                    .set_buckets(&LATENCY_BUCKETS)
                    .unwrap_or_else(|_| PrometheusBuilder::new())
            };
            match builder().install_recorder() {
                Ok(handle) => handle,
                Err(error) => {
                    // Another recorder is installed (embedding application): render our own.
                    tracing::warn!(%error, "metrics recorder already installed");
                    builder().build_recorder().handle()
                }
            }
        })
        .clone()
}

/// Returns a router serving `GET /metrics`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let handle = install();
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Serves `/metrics` on `listener` until `shutdown` (a service's own metrics port).
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router::<()>())
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Records the duration of `since` in histogram `name`.
pub fn observe(name: &'static str, since: Instant) {
    metrics::histogram!(name).record(since.elapsed().as_secs_f64());
}

/// Measures every gRPC call a server handles: `switchboard_grpc_server_requests_total` and
/// `switchboard_grpc_server_request_duration_seconds`, by method and status code.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// The service made by [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            // Errors answered at once travel as headers ("trailers-only"); a status in the
            // trailers of a streamed answer is counted as OK here.
            let code = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .map_or_else(|| "0".to_owned(), ToOwned::to_owned),
                Err(_) => "transport".to_owned(),
            };
            metrics::counter!("switchboard_grpc_server_requests_total", "method" => method.clone(), "code" => code)
                .increment(1);
            metrics::histogram!("switchboard_grpc_server_request_duration_seconds", "method" => method)
                .record(started.elapsed().as_secs_f64());
            response
        })
    }
}
