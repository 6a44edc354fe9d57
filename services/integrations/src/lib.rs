//! Integrations: how a workspace's events reach its CRM and ticketing systems.
//!
//! Owns webhook endpoints (URL, event filter, signing secret with rotation), the delivery
//! queue and log (`integrations_delivery`) and per-workspace settings. A durable consumer turns
//! conversation events into deliveries ([`events`]); a worker sends them, signed the Standard
//! Webhooks way ([`signing`]), with retries, exponential back-off and dead-lettering, in order
//! per endpoint and conversation ([`deliver`]). Every event also joins the workspace's replayable
//! feed ([`feed`]), kept for the retention window. It never blocks chat: the services only write
//! their outbox; everything here happens after the event is on the bus. It publishes no events
//! and reads no other service's tables.

pub mod config;
pub mod db;
pub mod deliver;
pub mod error;
pub mod events;
pub mod feed;
pub mod grpc;
pub mod payload;
pub mod signing;
pub mod store;
pub mod url_guard;

pub use config::Config;
pub use error::{IntegrationsError, IntegrationsResult};

use std::sync::Arc;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::service::{HostParts, host};
use switchboard_proto::integrations::v1::integrations_service_server::IntegrationsServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Runs the integrations gRPC service, its consumer and its delivery worker until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> IntegrationsResult<()> {
    let db = switchboard_platform::db::connect(&config.database_url).await?;
    if config.migrate {
        db::migrate(&db).await?;
    }
    let store = store::Store::new(db.clone());
    let wake = Arc::new(events::Wake::default());
    let tasks = TaskTracker::new();
    let worker = deliver::Worker::new(store.clone(), config.clone(), wake.clone())
        .map_err(|error| IntegrationsError::Startup(error.to_string()))?;
    tasks.spawn(worker.run(shutdown.clone()));
    events::start(
        &bus,
        &config.subjects(),
        store.clone(),
        wake.clone(),
        &tasks,
        shutdown.clone(),
    )
    .await?;
    tasks.spawn(purge(
        store.clone(),
        std::time::Duration::from_secs(config.retention_hours.saturating_mul(3600)),
        shutdown.clone(),
    ));
    let feed = feed::Feed::new(store.clone(), wake);
    let service = IntegrationsServiceServer::new(grpc::IntegrationsGrpc::new(
        store,
        feed,
        std::time::Duration::from_secs(config.secret_overlap_secs),
    ));
    let parts = HostParts {
        listener,
        db,
        bus,
        outbox: None,
        notifier: Default::default(),
        shutdown: shutdown.clone(),
        grace: config.shutdown_grace(),
    };
    let hosted = host(service, parts).await;
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    hosted.map_err(|error| IntegrationsError::Startup(error.to_string()))
}

/// Every minute until `shutdown`: drops feed events and finished deliveries older than
/// `retention`, in batches (see [`store::Store::purge`]).
async fn purge(store: store::Store, retention: std::time::Duration, shutdown: CancellationToken) {
    loop {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(7));
        match store.purge(cutoff, 1000).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "integrations retention applied"),
            Err(error) => tracing::warn!(%error, "cannot apply integrations retention"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}
