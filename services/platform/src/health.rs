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
        record_pool(&db, services.first().copied().unwrap_or("unknown"));
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

/// Publishes the connection pool's size and idle connections as gauges.
fn record_pool(db: &DatabaseConnection, service: &'static str) {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("switchboard_db_pool_connections", "service" => service, "state" => "idle")
        .set(f64::from(idle));
    metrics::gauge!("switchboard_db_pool_connections", "service" => service, "state" => "busy")
        .set(f64::from(size.saturating_sub(idle)));
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
