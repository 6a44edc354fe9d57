//! Routing: who answers which conversation.
//!
//! Owns the queue of conversations waiting for an agent and the assignments that hold agents'
//! capacity (`routing_queue_entry`, `routing_assignment`). It learns about conversations and
//! agents only from their events (`ConversationOpened/Assigned/Closed`, `AgentStatusChanged`)
//! and from gRPC calls to agent-management (who is online, with what capacity) and
//! conversation-history (which records the assignment and announces it). It never reads another
//! service's tables.
//!
//! Assignment is retried whenever something changes (a conversation opens or closes, an agent
//! comes online) and by a periodic sweep, so a missed event delays an assignment but never
//! loses it.

pub mod assign;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod gauges;
pub mod grpc;
pub mod ledger;
pub mod strategy;

pub use config::Config;
pub use error::{RoutingError, RoutingResult};

use std::sync::Arc;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::service::{HostParts, host};
use switchboard_proto::agent::v1::agent_management_service_client::AgentManagementServiceClient;
use switchboard_proto::history::v1::conversation_history_service_client::ConversationHistoryServiceClient;
use switchboard_proto::routing::v1::routing_service_server::RoutingServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Runs the routing gRPC service, its event consumers and its sweeper until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> RoutingResult<()> {
    let db = switchboard_platform::db::connect(&config.database_url).await?;
    if config.migrate {
        db::migrate(&db).await?;
    }
    let agents = switchboard_platform::grpc::channel(&config.agents_url)
        .map_err(|error| RoutingError::Startup(format!("agents_url: {error}")))?;
    let history = switchboard_platform::grpc::channel(&config.history_url)
        .map_err(|error| RoutingError::Startup(format!("history_url: {error}")))?;
    let assigner = Arc::new(assign::Assigner::new(
        db.clone(),
        AgentManagementServiceClient::new(agents),
        ConversationHistoryServiceClient::new(history),
        bus.clone(),
        config.subjects(),
    ));
    let tasks = TaskTracker::new();
    // Consumers are registered before the server answers, so that an embedded bus never
    // publishes to a routing that is not listening yet.
    events::start(
        &bus,
        &config.subjects(),
        assigner.clone(),
        &tasks,
        shutdown.clone(),
    )
    .await?;
    tasks.spawn(assign::sweep(
        assigner.clone(),
        config.sweep_interval(),
        shutdown.clone(),
    ));
    tasks.close();
    let service = RoutingServiceServer::new(grpc::RoutingGrpc::new(assigner));
    let parts = HostParts {
        listener,
        db,
        bus,
        outbox: Some(db::OUTBOX),
        notifier: OutboxNotifier::default(),
        shutdown: shutdown.clone(),
        grace: config.shutdown_grace(),
    };
    let hosted = host(service, parts).await;
    shutdown.cancel();
    tasks.wait().await;
    hosted.map_err(|error| RoutingError::Startup(error.to_string()))
}
