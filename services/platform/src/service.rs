//! Hosting one gRPC service: what every Switchboard service process runs around its handlers.
//!
//! [`host`] serves the service next to `grpc.health.v1` (kept truthful by [`crate::health`]) and
//! reflection, runs the service's outbox relay (if it has an outbox), and on shutdown reports `NOT_SERVING`, drains
//! in-flight calls within the grace period, stops the relay and closes the database.

use crate::bus::SharedBus;
use crate::outbox::{Outbox, OutboxNotifier, Relay};
use sea_orm::DatabaseConnection;
use std::convert::Infallible;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::body::Body;
use tonic::server::NamedService;

/// What a hosted service needs besides its handler.
#[derive(Debug)]
pub struct HostParts {
    /// Already bound listener (port 0 in tests).
    pub listener: TcpListener,
    /// The service's database, closed when hosting ends.
    pub db: DatabaseConnection,
    /// Event bus the outbox relay publishes to.
    pub bus: SharedBus,
    /// The service's outbox table, when it publishes events.
    pub outbox: Option<Outbox>,
    /// Wakes the relay after commits.
    pub notifier: OutboxNotifier,
    /// Stops everything when cancelled.
    pub shutdown: CancellationToken,
    /// Longest drain of in-flight calls.
    pub grace: Duration,
}

/// Why hosting failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("reflection setup failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `service` with health, reflection and the outbox relay until `parts.shutdown`.
pub async fn host<S>(service: S, parts: HostParts) -> Result<(), HostError>
where
    S: tower::Service<http::Request<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    let HostParts {
        listener,
        db,
        bus,
        outbox,
        notifier,
        shutdown,
        grace,
    } = parts;
    let tasks = TaskTracker::new();
    if let Some(outbox) = outbox {
        tasks.spawn(Relay::new(db.clone(), outbox, bus.clone(), notifier).run(shutdown.clone()));
    }
    let (reporter, health) = tonic_health::server::health_reporter();
    tasks.spawn(crate::health::watch(
        reporter,
        vec![S::NAME],
        db.clone(),
        bus,
        shutdown.clone(),
    ));
    let router = crate::grpc::server()
        .add_service(health)
        .add_service(crate::grpc::reflection()?)
        .add_service(service);
    tracing::info!(service = S::NAME, addr = ?listener.local_addr().ok(), "serving");
    let served = crate::grpc::serve(router, listener, shutdown.clone(), grace).await;
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing database failed");
    }
    tracing::info!(service = S::NAME, "stopped");
    Ok(served?)
}
