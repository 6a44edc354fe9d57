//! Agent management: the tenants (workspaces) and the people who answer chats.
//!
//! Owns workspaces (with their public site key and secret), departments, agents (argon2id
//! password hashes, role, capacity, declared status), login sessions (opaque tokens stored only
//! as SHA-256 hashes) and the `agents_outbox`. Publishes `AgentStatusChanged` through the outbox
//! so routing can react. It does not know about conversations or queues.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod store;

pub use config::Config;
pub use error::{AgentError, AgentResult};

use std::sync::Arc;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::outbox::OutboxNotifier;
use switchboard_platform::service::{HostParts, host};
use switchboard_proto::agent::v1::agent_management_service_server::AgentManagementServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Runs the agent-management gRPC service on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> AgentResult<()> {
    let db = switchboard_platform::db::connect(&config.database_url).await?;
    if config.migrate {
        db::migrate(&db).await?;
    }
    let notifier = OutboxNotifier::default();
    let store = store::Store::new(
        db.clone(),
        config.subjects(),
        notifier.clone(),
        config.session_ttl(),
    );
    let service = AgentManagementServiceServer::new(grpc::AgentGrpc::new(Arc::new(store)));
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
        .map_err(|error| AgentError::Startup(error.to_string()))
}
