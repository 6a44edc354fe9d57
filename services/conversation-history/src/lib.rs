//! Conversation history: the system of record for what was said.
//!
//! Owns visitors, conversations (status, assigned agent, `last_seq`) and messages. Every message
//! gets the next `seq` of its conversation in the same transaction that stores it (gapless,
//! strictly increasing), and `(conversation, sender, client_msg_id)` is a unique key, so a retry
//! returns the original `seq` however late it comes. Each change writes its event to
//! `history_outbox` in that same transaction; the relay publishes it afterwards. Assignment
//! decisions are routing's; this service only records them.

pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod store;

pub use config::Config;
pub use error::{HistoryError, HistoryResult};

use std::sync::Arc;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::service::{HostParts, host};
use switchboard_proto::history::v1::conversation_history_service_server::ConversationHistoryServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Runs the conversation-history gRPC service on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> HistoryResult<()> {
    let db = switchboard_platform::db::connect(&config.database_url).await?;
    if config.migrate {
        db::migrate(&db).await?;
    }
    let notifier = OutboxNotifier::default();
    let store = Arc::new(store::Store::new(
        db.clone(),
        config.subjects(),
        notifier.clone(),
    ));
    let auto_close = (config.auto_close_secs > 0).then(|| {
        tokio::spawn(close_inactive(
            store.clone(),
            std::time::Duration::from_secs(config.auto_close_secs),
            std::time::Duration::from_millis(config.auto_close_sweep_ms.max(100)),
            shutdown.clone(),
        ))
    });
    let retention = tokio::spawn(purge_expired(
        store.clone(),
        std::time::Duration::from_millis(config.retention_sweep_ms.max(100)),
        shutdown.clone(),
    ));
    let service =
        ConversationHistoryServiceServer::new(grpc::HistoryGrpc::new(store, config.limits()));
    let parts = HostParts {
        listener,
        db,
        bus,
        outbox: Some(db::OUTBOX),
        notifier,
        shutdown,
        grace: config.shutdown_grace(),
    };
    let hosted = host(service, parts).await;
    if let Some(task) = auto_close {
        task.abort();
    }
    retention.abort();
    hosted.map_err(|error| HistoryError::Startup(error.to_string()))
}

/// Every `period` until `shutdown`: closes assigned conversations quiet for `after`.
async fn close_inactive(
    store: Arc<store::Store>,
    after: std::time::Duration,
    period: std::time::Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        match store.close_inactive(after).await {
            Ok(0) => {}
            Ok(closed) => tracing::info!(closed, "closed inactive conversations"),
            Err(error) => tracing::warn!(%error, "cannot close inactive conversations"),
        }
    }
}

/// Every `period` until `shutdown`: deletes conversations past their workspace's retention.
/// The first pass runs at start, so a process that restarts often still purges.
async fn purge_expired(
    store: Arc<store::Store>,
    period: std::time::Duration,
    shutdown: CancellationToken,
) {
    loop {
        match store.purge_expired(&shutdown).await {
            Ok(deleted) if deleted.conversations + deleted.visitors > 0 => tracing::info!(
                conversations = deleted.conversations,
                messages = deleted.messages,
                visitors = deleted.visitors,
                "deleted conversations past retention"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot purge conversations past retention"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
    }
}
