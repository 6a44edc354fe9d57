//! Agent management: the tenants (workspaces) and the people who answer chats.
//!
//! Owns workspaces (with their public site key and secret), departments, agents (argon2id
//! password hashes, role, capacity, declared status), login sessions (opaque tokens stored only
//! as SHA-256 hashes) and the `agents_outbox`. Publishes `AgentStatusChanged` through the outbox
//! so routing can react. It does not know about conversations or queues.
//!
//! Presence: each agent socket holds a lease its gateway renews; when every lease of an agent
//! has been expired for the grace period, the agent is set offline with reason `disconnected`
//! (routing then gives its conversations to someone else).

pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod hours;
pub mod lockout;
pub mod store;
pub mod two_factor;

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
    )
    .with_login_policy(config.login_policy());
    let store = Arc::new(store);
    let presence = tokio::spawn(expire_presence(
        store.clone(),
        config.presence_grace(),
        config.presence_sweep(),
        shutdown.clone(),
    ));
    let service = AgentManagementServiceServer::new(grpc::AgentGrpc::new(store));
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
    presence.abort();
    hosted.map_err(|error| AgentError::Startup(error.to_string()))
}

/// Every `period` until `shutdown`: sets offline the agents whose sockets all went away more
/// than `grace` ago (see [`store::Store::expire_presence`]), then measures the agent gauges.
async fn expire_presence(
    store: Arc<store::Store>,
    grace: std::time::Duration,
    period: std::time::Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        if let Err(error) = store.expire_presence(grace).await {
            tracing::warn!(%error, "cannot expire presence leases");
        }
        record_agent_gauges(&store).await;
    }
}

/// Sets `switchboard_agents{status}`: enabled agents per status, over every workspace. Every
/// replica reports the same counts (dashboards take `max`).
async fn record_agent_gauges(store: &store::Store) {
    match store.count_agents_by_status().await {
        Ok(counts) => {
            for status in ["online", "away", "offline"] {
                let agents = counts
                    .iter()
                    .find(|(counted, _)| counted == status)
                    .map_or(0, |(_, agents)| *agents);
                metrics::gauge!("switchboard_agents", "status" => status).set(agents as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "cannot count agents by status"),
    }
}
