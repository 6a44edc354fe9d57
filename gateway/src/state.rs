//! What every request and socket of a gateway shares: service clients, the bus, limits, caches.

use crate::Config;
use crate::peers::Peers;
use crate::ws::limits::{AddressConnections, VisitorConnections};
use std::collections::HashMap;
use std::sync::Mutex;
use switchboard_platform::bus::SharedBus;
use switchboard_platform::subjects::Subjects;
use switchboard_proto::agent::v1::GetAgentRequest;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Most agent names kept in memory; the cache is simply cleared when full.
const MAX_CACHED_NAMES: usize = 10_000;

/// Shared state of one gateway process.
#[derive(Debug)]
pub struct Gateway {
    pub peers: Peers,
    pub bus: SharedBus,
    pub subjects: Subjects,
    pub config: Config,
    pub visitors: VisitorConnections,
    /// Open sockets per client address on this gateway.
    pub addresses: AddressConnections,
    /// Cancelled when the gateway shuts down: sockets close with 1001.
    pub shutdown: CancellationToken,
    /// Connected visitors and agents per workspace, here and on the other gateways.
    pub stats: crate::stats::ConnectionStats,
    /// Request buckets of API tokens on this gateway.
    pub token_limits: crate::principal::TokenLimits,
    agent_names: Mutex<HashMap<Uuid, String>>,
}

impl Gateway {
    /// Returns the shared state.
    pub fn new(peers: Peers, bus: SharedBus, config: Config, shutdown: CancellationToken) -> Self {
        Self {
            peers,
            bus,
            subjects: Subjects::new(config.subject_prefix.clone()),
            config,
            visitors: VisitorConnections::default(),
            addresses: AddressConnections::default(),
            shutdown,
            stats: crate::stats::ConnectionStats::default(),
            token_limits: crate::principal::TokenLimits::default(),
            agent_names: Mutex::default(),
        }
    }

    /// Returns an agent's display name (cached; "Agent" when it cannot be looked up).
    pub async fn agent_name(&self, workspace_id: &str, agent_id: &str) -> String {
        let Ok(id) = Uuid::parse_str(agent_id) else {
            return "Agent".to_owned();
        };
        if let Some(name) = self.cached_name(id) {
            return name;
        }
        let request = GetAgentRequest {
            workspace_id: workspace_id.to_owned(),
            agent_id: agent_id.to_owned(),
        };
        match self.peers.agents.clone().get_agent(request).await {
            Ok(response) => {
                let name = response
                    .into_inner()
                    .agent
                    .map(|agent| agent.name)
                    .unwrap_or_default();
                let mut names = self
                    .agent_names
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if names.len() >= MAX_CACHED_NAMES {
                    names.clear();
                }
                names.insert(id, name.clone());
                name
            }
            Err(_) => "Agent".to_owned(),
        }
    }

    fn cached_name(&self, id: Uuid) -> Option<String> {
        self.agent_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .cloned()
    }
}
