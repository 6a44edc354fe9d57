//! gRPC health that tells the truth: a service reports `SERVING` only while its database answers
//! and its bus is connected, and `NOT_SERVING` from the moment shutdown starts.

use crate::bus::SharedBus;
use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// How often dependencies are probed.
const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// Keeps `services` (and the overall `""` entry) in step with the database and bus until
/// `shutdown`, then marks them `NOT_SERVING`.
pub async fn watch(
    reporter: HealthReporter,
    services: Vec<&'static str>,
    db: DatabaseConnection,
    bus: SharedBus,
    shutdown: CancellationToken,
) {
    let mut last = None;
    loop {
        let database = crate::db::ping(&db).await;
        let bus_connected = bus.is_connected();
        let healthy = database && bus_connected;
        if last != Some(healthy) {
            if !healthy {
                tracing::warn!(
                    database,
                    bus = bus_connected,
                    "dependency down, reporting not serving"
                );
            }
            set_all(&reporter, &services, healthy).await;
            last = Some(healthy);
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(PROBE_INTERVAL) => {}
        }
    }
    set_all(&reporter, &services, false).await;
}

async fn set_all(reporter: &HealthReporter, services: &[&'static str], healthy: bool) {
    let status = if healthy {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    reporter.set_service_status("", status).await;
    for service in services {
        reporter.set_service_status(*service, status).await;
    }
}
