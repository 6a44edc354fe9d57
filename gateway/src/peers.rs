//! gRPC clients of the services behind the gateway, built once and cloned per request.

use crate::Config;
use std::time::Duration;
use switchboard_platform::grpc::{TracedChannel, channel};
use switchboard_proto::agent::v1::agent_management_service_client::AgentManagementServiceClient;
use switchboard_proto::history::v1::conversation_history_service_client::ConversationHistoryServiceClient;
use switchboard_proto::integrations::v1::integrations_service_client::IntegrationsServiceClient;
use switchboard_proto::routing::v1::routing_service_client::RoutingServiceClient;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// Clients of every service the gateway calls.
#[derive(Debug, Clone)]
pub struct Peers {
    pub agents: AgentManagementServiceClient<TracedChannel>,
    pub history: ConversationHistoryServiceClient<TracedChannel>,
    pub routing: RoutingServiceClient<TracedChannel>,
    /// Webhooks. Not part of the gateway's health: chat goes on while integrations are down.
    pub integrations: IntegrationsServiceClient<TracedChannel>,
    health: [(&'static str, HealthClient<TracedChannel>); 3],
}

impl Peers {
    /// Builds lazily connecting clients for the configured addresses.
    pub fn connect(config: &Config) -> Result<Self, tonic::transport::Error> {
        let agents = channel(&config.agents_url)?;
        let history = channel(&config.history_url)?;
        let routing = channel(&config.routing_url)?;
        Ok(Self {
            agents: AgentManagementServiceClient::new(agents.clone()),
            history: ConversationHistoryServiceClient::new(history.clone()),
            routing: RoutingServiceClient::new(routing.clone()),
            integrations: IntegrationsServiceClient::new(channel(&config.integrations_url)?),
            health: [
                ("agent-management", HealthClient::new(agents)),
                ("conversation-history", HealthClient::new(history)),
                ("routing", HealthClient::new(routing)),
            ],
        })
    }

    /// Returns each peer's name and whether it reports `SERVING` within a second.
    pub async fn health(&self) -> Vec<(&'static str, bool)> {
        let checks = self.health.iter().map(|(name, client)| {
            let mut client = client.clone();
            async move {
                let probe = client.check(HealthCheckRequest {
                    service: String::new(),
                });
                let serving = matches!(
                    tokio::time::timeout(Duration::from_secs(1), probe).await,
                    Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32
                );
                (*name, serving)
            }
        });
        futures_util::future::join_all(checks).await
    }
}
