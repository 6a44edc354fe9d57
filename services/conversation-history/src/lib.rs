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
    let store = store::Store::new(db.clone(), config.subjects(), notifier.clone());
    let service = ConversationHistoryServiceServer::new(grpc::HistoryGrpc::new(
        Arc::new(store),
        config.limits(),
    ));
    let parts = HostParts {
        listener,
        db,
        bus,
        outbox: db::OUTBOX,
        notifier,
        shutdown,
        grace: config.shutdown_grace(),
    };
    host(service, parts)
        .await
        .map_err(|error| HistoryError::Startup(error.to_string()))
}
