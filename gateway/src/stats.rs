//! Who is connected where: each gateway counts its identified sockets per workspace, publishes
//! the counts every few seconds on a live subject, and keeps the latest counts of every gateway
//! (its own included), so the admin dashboard of any gateway shows all of them.

use crate::state::Gateway;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often a gateway publishes its counts.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);
/// Counts older than this are from a gateway that stopped: forgotten.
const STALE_AFTER: Duration = Duration::from_secs(15);

/// Open identified sockets of one workspace on one gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub visitors: u64,
    pub agents: u64,
}

/// What a gateway publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    gateway_id: String,
    workspaces: HashMap<String, Counts>,
}

/// When a gateway last reported, and its counts per workspace.
type Seen = (Instant, HashMap<String, Counts>);

/// The counts of this gateway and the latest reports of all gateways.
#[derive(Debug)]
pub struct ConnectionStats {
    /// Names this gateway process in reports.
    pub gateway_id: String,
    local: Mutex<HashMap<Uuid, Counts>>,
    seen: Mutex<HashMap<String, Seen>>,
}

impl Default for ConnectionStats {
    fn default() -> Self {
        Self {
            gateway_id: format!("gateway-{}", &Uuid::new_v4().simple().to_string()[..8]),
            local: Mutex::default(),
            seen: Mutex::default(),
        }
    }
}

/// Which kind of socket a [`Counted`] guard counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Visitor,
    Agent,
}

/// Counts one identified socket for as long as it lives.
#[derive(Debug)]
pub struct Counted {
    gateway: Arc<Gateway>,
    workspace_id: Uuid,
    kind: Kind,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.gateway
            .stats
            .change(self.workspace_id, self.kind, false);
    }
}

impl ConnectionStats {
    /// Counts a socket of `workspace_id` until the returned guard is dropped.
    pub fn count(gateway: &Arc<Gateway>, workspace_id: Uuid, kind: Kind) -> Counted {
        gateway.stats.change(workspace_id, kind, true);
        Counted {
            gateway: gateway.clone(),
            workspace_id,
            kind,
        }
    }

    fn change(&self, workspace_id: Uuid, kind: Kind, up: bool) {
        let mut local = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let counts = local.entry(workspace_id).or_default();
        let counter = match kind {
            Kind::Visitor => &mut counts.visitors,
            Kind::Agent => &mut counts.agents,
        };
        *counter = if up {
            counter.saturating_add(1)
        } else {
            counter.saturating_sub(1)
        };
        if *counts == Counts::default() {
            local.remove(&workspace_id);
        }
    }

    fn report(&self) -> Report {
        let local = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Report {
            gateway_id: self.gateway_id.clone(),
            workspaces: local
                .iter()
                .map(|(workspace, counts)| (workspace.to_string(), *counts))
                .collect(),
        }
    }

    fn record(&self, report: Report) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.insert(report.gateway_id, (Instant::now(), report.workspaces));
    }

    /// Returns each live gateway's counts for one workspace (this gateway's own, current).
    pub fn for_workspace(&self, workspace_id: &str) -> Vec<(String, Counts)> {
        let own = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&Uuid::parse_str(workspace_id).unwrap_or_default())
            .copied()
            .unwrap_or_default();
        let mut gateways = vec![(self.gateway_id.clone(), own)];
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, (at, _)| at.elapsed() < STALE_AFTER);
        for (gateway_id, (_, workspaces)) in seen.iter() {
            if gateway_id != &self.gateway_id {
                gateways.push((
                    gateway_id.clone(),
                    workspaces.get(workspace_id).copied().unwrap_or_default(),
                ));
            }
        }
        gateways.sort_by(|a, b| a.0.cmp(&b.0));
        gateways
    }
}

/// Publishes this gateway's counts and records everyone's, until the gateway shuts down.
pub async fn exchange(gateway: Arc<Gateway>) {
    let subject = gateway.subjects.gateway_stats();
    let mut reports = match gateway.bus.subscribe(&subject).await {
        Ok(subscription) => Some(subscription),
        Err(error) => {
            tracing::warn!(%error, "cannot subscribe to gateway stats; showing this gateway only");
            None
        }
    };
    let mut tick = tokio::time::interval(PUBLISH_EVERY);
    loop {
        tokio::select! {
            () = gateway.shutdown.cancelled() => return,
            _ = tick.tick() => {
                let payload = serde_json::to_vec(&gateway.stats.report()).unwrap_or_default();
                if let Err(error) = gateway.bus.publish_live(&subject, payload.into()).await {
                    tracing::debug!(%error, "cannot publish gateway stats");
                }
            }
            event = async {
                match reports.as_mut() {
                    Some(reports) => reports.next().await,
                    None => std::future::pending().await,
                }
            } => {
                let Some(event) = event else {
                    reports = None;
                    continue;
                };
                if let Ok(report) = serde_json::from_slice::<Report>(&event.payload) {
                    gateway.stats.record(report);
                }
            }
        }
    }
}
