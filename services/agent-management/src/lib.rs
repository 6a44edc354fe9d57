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
use switchboard_platform::outbox::{OutboxNotifier, Relay};
use switchboard_proto::agent::v1::agent_management_service_server::AgentManagementServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::server::NamedService;

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
    let tasks = TaskTracker::new();
    tasks.spawn(Relay::new(db.clone(), db::OUTBOX, bus.clone(), notifier).run(shutdown.clone()));
    let (reporter, health) = tonic_health::server::health_reporter();
    type Server = AgentManagementServiceServer<grpc::AgentGrpc>;
    tasks.spawn(switchboard_platform::health::watch(
        reporter,
        vec![<Server as NamedService>::NAME],
        db.clone(),
        bus,
        shutdown.clone(),
    ));
    let reflection = switchboard_platform::grpc::reflection()
        .map_err(|error| AgentError::Startup(error.to_string()))?;
    let router = switchboard_platform::grpc::server()
        .add_service(health)
        .add_service(reflection)
        .add_service(Server::new(grpc::AgentGrpc::new(Arc::new(store))));
    tracing::info!(addr = ?listener.local_addr().ok(), "agent-management serving");
    let served = switchboard_platform::grpc::serve(
        router,
        listener,
        shutdown.clone(),
        config.shutdown_grace(),
    )
    .await;
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    let _ = db.close().await;
    served.map_err(|error| AgentError::Startup(error.to_string()))
}
