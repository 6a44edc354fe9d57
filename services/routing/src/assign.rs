//! The assignment loop: match queued conversations with online agents who have free capacity.
//!
//! [`Assigner::drain`] walks a workspace's queue oldest first and gives each conversation to
//! the least-loaded online agent of its department (any department when it has none) whose
//! open assignments are below `max_concurrent`. The decision is recorded by
//! conversation-history first (which announces it through its outbox), then in routing's own
//! assignment table; if routing dies in between, the next drain asks history again and gets
//! the same answer, because `AssignConversation` is idempotent.
//!
//! Drains are serialised per process; several routing replicas draining one workspace at once
//! could still exceed an agent's capacity (left to the routing-in-depth work).

use crate::db::entity::{assignment, queue_entry};
use crate::{RoutingError, RoutingResult};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::grpc::TracedChannel;
use switchboard_proto::agent::v1::{
    self as agent_pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::common::v1::{AgentStatus, ConversationStatus};
use switchboard_proto::history::v1::{
    self as history_pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type AgentsClient = AgentManagementServiceClient<TracedChannel>;
type HistoryClient = ConversationHistoryServiceClient<TracedChannel>;

/// An online agent considered for a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: Uuid,
    pub department_ids: Vec<Uuid>,
    pub max_concurrent: u32,
    pub load: u32,
}

/// Returns the index of the agent that should take a conversation of `department`: the least
/// loaded with free capacity, ties broken by agent id so the choice is deterministic.
pub fn pick(candidates: &[Candidate], department: Option<Uuid>) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .filter(|(_, candidate)| candidate.load < candidate.max_concurrent)
        .filter(|(_, candidate)| {
            department.is_none_or(|department| candidate.department_ids.contains(&department))
        })
        .min_by_key(|(_, candidate)| (candidate.load, candidate.agent_id))
        .map(|(index, _)| index)
}

/// Result of one drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainOutcome {
    pub assigned: u32,
    pub still_queued: u32,
}

/// Owns the queue and assignment tables and the peers' clients.
#[derive(Debug)]
pub struct Assigner {
    db: DatabaseConnection,
    agents: AgentsClient,
    history: HistoryClient,
    drain_lock: tokio::sync::Mutex<()>,
}

impl Assigner {
    /// Returns an assigner over `db` using the given peers.
    pub fn new(db: DatabaseConnection, agents: AgentsClient, history: HistoryClient) -> Self {
        Self {
            db,
            agents,
            history,
            drain_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Queues a conversation that opened; idempotent, and a no-op once it has an assignment.
    pub async fn enqueue(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<Option<Uuid>> {
        let Some((conversation_id, workspace_id)) = ids(conversation) else {
            return Ok(None);
        };
        if conversation.status != ConversationStatus::Queued as i32
            || assignment::Entity::find_by_id(conversation_id)
                .one(&self.db)
                .await?
                .is_some()
        {
            return Ok(Some(workspace_id));
        }
        queue_entry::Entity::insert(queue_entry::ActiveModel {
            conversation_id: Set(conversation_id),
            workspace_id: Set(workspace_id),
            department_id: Set(conversation
                .department_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())),
            enqueued_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(queue_entry::Column::ConversationId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(Some(workspace_id))
    }

    /// Records an assignment announced by history (made here or elsewhere); idempotent.
    pub async fn record_assignment(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<()> {
        let Some((conversation_id, workspace_id)) = ids(conversation) else {
            return Ok(());
        };
        let Some(agent_id) = conversation
            .assigned_agent_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            return Ok(());
        };
        self.store_assignment(conversation_id, workspace_id, agent_id)
            .await
    }

    /// Frees the capacity a closed conversation held and drops it from the queue.
    pub async fn release(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<Option<Uuid>> {
        let Some((conversation_id, workspace_id)) = ids(conversation) else {
            return Ok(None);
        };
        let txn = self.db.begin().await?;
        queue_entry::Entity::delete_by_id(conversation_id)
            .exec(&txn)
            .await?;
        assignment::Entity::update_many()
            .col_expr(
                assignment::Column::EndedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(assignment::Column::ConversationId.eq(conversation_id))
            .filter(assignment::Column::EndedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(workspace_id))
    }

    /// Returns the queue of a workspace, oldest first.
    pub async fn queue(&self, workspace_id: Uuid) -> RoutingResult<Vec<queue_entry::Model>> {
        Ok(queue_entry::Entity::find()
            .filter(queue_entry::Column::WorkspaceId.eq(workspace_id))
            .order_by_asc(queue_entry::Column::EnqueuedAt)
            .order_by_asc(queue_entry::Column::ConversationId)
            .all(&self.db)
            .await?)
    }

    /// Returns the open assignments of a workspace, optionally of one agent.
    pub async fn assignments(
        &self,
        workspace_id: Uuid,
        agent_id: Option<Uuid>,
    ) -> RoutingResult<Vec<assignment::Model>> {
        let mut query = assignment::Entity::find()
            .filter(assignment::Column::WorkspaceId.eq(workspace_id))
            .filter(assignment::Column::EndedAt.is_null())
            .order_by_asc(assignment::Column::AssignedAt);
        if let Some(agent_id) = agent_id {
            query = query.filter(assignment::Column::AgentId.eq(agent_id));
        }
        Ok(query.all(&self.db).await?)
    }

    /// Returns every workspace with a non-empty queue.
    pub async fn queued_workspaces(&self) -> RoutingResult<Vec<Uuid>> {
        Ok(queue_entry::Entity::find()
            .select_only()
            .column(queue_entry::Column::WorkspaceId)
            .distinct()
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?)
    }

    /// Publishes the queue length and the longest wait, over every workspace.
    pub async fn record_queue_gauges(&self) -> RoutingResult<()> {
        let length = queue_entry::Entity::find().count(&self.db).await?;
        let oldest = queue_entry::Entity::find()
            .order_by_asc(queue_entry::Column::EnqueuedAt)
            .one(&self.db)
            .await?
            .map(|entry| {
                (Utc::now() - entry.enqueued_at)
                    .to_std()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        metrics::gauge!("switchboard_routing_queue_length").set(length as f64);
        metrics::gauge!("switchboard_routing_oldest_wait_seconds").set(oldest.as_secs_f64());
        Ok(())
    }

    /// Assigns as many queued conversations of `workspace_id` as capacity allows.
    pub async fn drain(&self, workspace_id: Uuid) -> RoutingResult<DrainOutcome> {
        let _serialised = self.drain_lock.lock().await;
        let queue = self.queue(workspace_id).await?;
        if queue.is_empty() {
            return Ok(DrainOutcome::default());
        }
        let mut candidates = self.candidates(workspace_id).await?;
        let mut outcome = DrainOutcome::default();
        for entry in queue {
            let Some(index) = pick(&candidates, entry.department_id) else {
                outcome.still_queued += 1;
                continue;
            };
            let chosen = candidates[index].agent_id;
            let request = history_pb::AssignConversationRequest {
                workspace_id: workspace_id.to_string(),
                conversation_id: entry.conversation_id.to_string(),
                agent_id: chosen.to_string(),
            };
            let conversation = match self.history.clone().assign_conversation(request).await {
                Ok(response) => response.into_inner().conversation,
                Err(status)
                    if matches!(
                        status.code(),
                        tonic::Code::FailedPrecondition | tonic::Code::NotFound
                    ) =>
                {
                    // Closed or gone: it no longer needs an agent.
                    queue_entry::Entity::delete_by_id(entry.conversation_id)
                        .exec(&self.db)
                        .await?;
                    continue;
                }
                Err(status) => return Err(RoutingError::Peer(status)),
            };
            let holder = conversation
                .and_then(|conversation| conversation.assigned_agent_id)
                .and_then(|id| Uuid::parse_str(&id).ok())
                .unwrap_or(chosen);
            self.store_assignment(entry.conversation_id, workspace_id, holder)
                .await?;
            if let Some(candidate) = candidates
                .iter_mut()
                .find(|candidate| candidate.agent_id == holder)
            {
                candidate.load += 1;
            }
            tracing::info!(conversation_id = %entry.conversation_id, agent_id = %holder, "conversation assigned");
            let waited = (Utc::now() - entry.enqueued_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!("switchboard_routing_queue_wait_seconds")
                .record(waited.as_secs_f64());
            metrics::counter!("switchboard_routing_assignments_total").increment(1);
            outcome.assigned += 1;
        }
        Ok(outcome)
    }

    async fn candidates(&self, workspace_id: Uuid) -> RoutingResult<Vec<Candidate>> {
        let online = self
            .agents
            .clone()
            .list_agents(agent_pb::ListAgentsRequest {
                workspace_id: workspace_id.to_string(),
                department_id: None,
                status: AgentStatus::Online as i32,
            })
            .await?
            .into_inner()
            .agents;
        let mut load: HashMap<Uuid, u32> = HashMap::new();
        for open in self.assignments(workspace_id, None).await? {
            *load.entry(open.agent_id).or_default() += 1;
        }
        Ok(online
            .into_iter()
            .filter_map(|agent| {
                let agent_id = Uuid::parse_str(&agent.id).ok()?;
                Some(Candidate {
                    agent_id,
                    department_ids: agent
                        .department_ids
                        .iter()
                        .filter_map(|id| Uuid::parse_str(id).ok())
                        .collect(),
                    max_concurrent: agent.max_concurrent,
                    load: load.get(&agent_id).copied().unwrap_or(0),
                })
            })
            .collect())
    }

    async fn store_assignment(
        &self,
        conversation_id: Uuid,
        workspace_id: Uuid,
        agent_id: Uuid,
    ) -> RoutingResult<()> {
        let txn = self.db.begin().await?;
        assignment::Entity::insert(assignment::ActiveModel {
            conversation_id: Set(conversation_id),
            workspace_id: Set(workspace_id),
            agent_id: Set(agent_id),
            assigned_at: Set(Utc::now()),
            ended_at: Set(None),
        })
        .on_conflict(
            OnConflict::column(assignment::Column::ConversationId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        queue_entry::Entity::delete_by_id(conversation_id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

fn ids(conversation: &history_pb::Conversation) -> Option<(Uuid, Uuid)> {
    let parsed = Uuid::parse_str(&conversation.id)
        .ok()
        .zip(Uuid::parse_str(&conversation.workspace_id).ok());
    if parsed.is_none() {
        tracing::warn!(conversation_id = %conversation.id, "event with malformed ids ignored");
    }
    parsed
}

/// Drains every non-empty queue every `interval` until `shutdown`: the safety net for events
/// that were missed or whose drain failed.
pub async fn sweep(assigner: Arc<Assigner>, interval: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = assigner.record_queue_gauges().await {
            tracing::warn!(%error, "sweep cannot measure queues");
        }
        let workspaces = match assigner.queued_workspaces().await {
            Ok(workspaces) => workspaces,
            Err(error) => {
                tracing::warn!(%error, "sweep cannot read queues");
                continue;
            }
        };
        for workspace_id in workspaces {
            if let Err(error) = assigner.drain(workspace_id).await {
                tracing::warn!(%workspace_id, %error, "sweep drain failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(n: u128, load: u32, max: u32, departments: &[u128]) -> Candidate {
        Candidate {
            agent_id: Uuid::from_u128(n),
            department_ids: departments.iter().map(|d| Uuid::from_u128(*d)).collect(),
            max_concurrent: max,
            load,
        }
    }

    #[test]
    fn picks_least_loaded_agent_with_capacity() {
        let agents = [
            candidate(1, 2, 3, &[]),
            candidate(2, 1, 3, &[]),
            candidate(3, 0, 0, &[]),
        ];
        assert_eq!(pick(&agents, None), Some(1));
    }

    #[test]
    fn respects_department_and_capacity() {
        let sales = 10;
        let agents = [
            candidate(1, 0, 3, &[]),
            candidate(2, 3, 3, &[sales]),
            candidate(3, 1, 2, &[sales]),
        ];
        assert_eq!(pick(&agents, Some(Uuid::from_u128(sales))), Some(2));
        let full = [candidate(2, 3, 3, &[sales])];
        assert_eq!(pick(&full, Some(Uuid::from_u128(sales))), None);
        assert_eq!(pick(&[], None), None);
    }

    #[test]
    fn breaks_ties_by_agent_id() {
        let agents = [candidate(9, 1, 3, &[]), candidate(4, 1, 3, &[])];
        assert_eq!(pick(&agents, None), Some(1));
    }
}
