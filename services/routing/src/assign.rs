//! The assignment loop: match queued conversations with online agents who have free capacity.
//!
//! [`Assigner::drain`] walks a workspace's queue (highest priority, then longest waiting first)
//! while holding the workspace's drain lease, so one routing instance at a time serves a queue
//! in order; a drain asked for while another instance holds the lease is flagged and run by
//! the holder before it lets go. For each conversation the department's rules rank the online
//! agents ([`crate::strategy`]) and [`ledger::reserve`] records the choice only if the agent still
//! has room, which the database decides. conversation-history then records the assignment and
//! announces it; if that call fails the reservation stays unconfirmed and the sweep repeats the
//! (idempotent) call, so a visitor is never left assigned in one service and queued in another.

use crate::db::entity::{agent_load, assignment, queue_entry, rotation};
use crate::ledger::{self, DrainLease, Origin, Reservation};
use crate::strategy::{self, Candidate, Rules, Strategy};
use crate::{RoutingError, RoutingResult};
use chrono::{DateTime, Utc};
use prost::Message as _;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_platform::bus::SharedBus;
use switchboard_platform::grpc::TracedChannel;
use switchboard_platform::subjects::Subjects;
use switchboard_proto::agent::v1::{
    self as agent_pb, agent_management_service_client::AgentManagementServiceClient,
};
use switchboard_proto::common::v1::{AgentStatus, ConversationStatus};
use switchboard_proto::events::v1 as events_pb;
use switchboard_proto::history::v1::{
    self as history_pb, conversation_history_service_client::ConversationHistoryServiceClient,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

type AgentsClient = AgentManagementServiceClient<TracedChannel>;
type HistoryClient = ConversationHistoryServiceClient<TracedChannel>;

/// What the visitor reads when its agent left; stored as a system message.
const AGENT_LEFT_NOTICE: &str = "Your agent is no longer available. You are back at the front \
     of the queue and the next available agent will continue this conversation.";

/// Finished assignments the expected wait is estimated from.
const HANDLING_SAMPLE: u64 = 50;
/// Unconfirmed reservations younger than this are left to the drain that made them.
const CONFIRM_AFTER: Duration = Duration::from_secs(2);
/// How often a long drain renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Result of one drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainOutcome {
    pub assigned: u32,
    pub still_queued: u32,
}

/// Where a waiting conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based, among conversations of the same department.
    pub position: u32,
    pub expected_wait_secs: Option<u32>,
}

/// Why a claim was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefused {
    /// Someone holds the conversation already (possibly the claimer).
    AlreadyAssigned,
    /// The conversation is closed.
    Closed,
    /// The agent is at `max_concurrent`.
    AgentFull,
    /// The agent is offline or disabled.
    AgentUnavailable,
    /// The conversation belongs to a department the agent is not in.
    NotInDepartment,
}

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    Agent(Uuid),
    Department(Uuid),
}

/// A validated transfer.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    /// The agent holding the conversation.
    pub from: Uuid,
    pub from_name: String,
    pub target: TransferTarget,
    /// Internal note for the receiving side.
    pub note: Option<String>,
}

/// Why a transfer was refused; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferRefused {
    /// The sender does not hold the conversation.
    NotHeld,
    /// No such agent or department in the workspace.
    TargetNotFound,
    /// The target agent is offline or disabled.
    TargetUnavailable,
    /// The target agent is at capacity.
    TargetFull,
    /// An agent cannot transfer to itself.
    SameAgent,
}

/// A department's routing rules, as agent-management defines them.
#[derive(Debug, Clone, Default)]
struct DepartmentRules {
    strategy: Strategy,
    sticky_window: Duration,
    required_skills: Vec<String>,
    /// Where conversations go when their agent leaves.
    fallback: Option<Uuid>,
}

/// Owns the queue and assignment tables and the peers' clients.
#[derive(Debug)]
pub struct Assigner {
    db: DatabaseConnection,
    agents: AgentsClient,
    history: HistoryClient,
    bus: SharedBus,
    subjects: Subjects,
    /// Names this process in drain leases.
    instance: String,
    /// Last position published per waiting conversation (with its workspace), to publish
    /// changes only.
    published: Mutex<HashMap<Uuid, (Uuid, Position)>>,
    /// Departments the queue gauges reported last.
    gauges: crate::gauges::QueueGauges,
}

impl Assigner {
    /// Returns an assigner over `db` using the given peers, publishing queue positions on `bus`.
    pub fn new(
        db: DatabaseConnection,
        agents: AgentsClient,
        history: HistoryClient,
        bus: SharedBus,
        subjects: Subjects,
    ) -> Self {
        Self {
            db,
            agents,
            history,
            bus,
            subjects,
            instance: format!("routing-{}", Uuid::now_v7()),
            published: Mutex::new(HashMap::new()),
            gauges: crate::gauges::QueueGauges::default(),
        }
    }

    /// Queues a conversation that opened; idempotent, and a no-op once it was ever assigned
    /// (a redelivered `ConversationOpened` must not queue a conversation again).
    pub async fn enqueue(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<Option<Uuid>> {
        let Some((conversation_id, workspace_id)) = ids(conversation) else {
            return Ok(None);
        };
        let routed_before = assignment::Entity::find()
            .filter(assignment::Column::ConversationId.eq(conversation_id))
            .count(&self.db)
            .await?
            > 0;
        if conversation.status != ConversationStatus::Queued as i32 || routed_before {
            return Ok(Some(workspace_id));
        }
        let now = Utc::now();
        let waiting_since = conversation
            .created_at
            .as_ref()
            .and_then(|at| {
                DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
            })
            .unwrap_or(now);
        queue_entry::Entity::insert(queue_entry::ActiveModel {
            conversation_id: Set(conversation_id),
            workspace_id: Set(workspace_id),
            department_id: Set(parse_optional(conversation.department_id.as_deref())),
            enqueued_at: Set(waiting_since),
            priority: Set(0),
            visitor_id: Set(Uuid::parse_str(&conversation.visitor_id).ok()),
            queued_at: Set(Some(now)),
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

    /// Confirms an assignment announced by history; history only announces assignments
    /// routing reserved, so there is nothing to create here.
    pub async fn record_assignment(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<()> {
        let Some((conversation_id, _)) = ids(conversation) else {
            return Ok(());
        };
        let holder = parse_optional(conversation.assigned_agent_id.as_deref());
        if let Some(open) = assignment::Entity::find()
            .filter(assignment::Column::ConversationId.eq(conversation_id))
            .filter(assignment::Column::EndedAt.is_null())
            .one(&self.db)
            .await?
            && Some(open.agent_id) == holder
            && !open.confirmed
        {
            ledger::confirm(&self.db, open.id).await?;
        }
        Ok(())
    }

    /// Frees the capacity a closed conversation held and drops it from the queue.
    pub async fn release(
        &self,
        conversation: &history_pb::Conversation,
    ) -> RoutingResult<Option<Uuid>> {
        let Some((conversation_id, workspace_id)) = ids(conversation) else {
            return Ok(None);
        };
        if let Some(ended) = ledger::end(&self.db, conversation_id, "closed").await? {
            tracing::info!(%conversation_id, agent_id = %ended.agent_id, "assignment ended");
        }
        Ok(Some(workspace_id))
    }

    /// Gives back every conversation an agent holds after it went offline: history puts each
    /// back in the queue with a notice to the visitor, then routing queues it at the front.
    /// Returns the workspace to drain.
    pub async fn agent_left(
        &self,
        workspace_id: Uuid,
        agent_id: Uuid,
        reason: &str,
    ) -> RoutingResult<Option<Uuid>> {
        let held = self
            .assignments(workspace_id, Some(agent_id), false)
            .await?;
        if held.is_empty() {
            return Ok(None);
        }
        let departments = self.department_rules(workspace_id).await?;
        for assignment in held {
            // The department's fallback, when it has one; else the front of its own queue.
            let fallback = assignment
                .department_id
                .and_then(|id| departments.get(&id))
                .and_then(|rules| rules.fallback);
            let request = history_pb::RequeueConversationRequest {
                workspace_id: workspace_id.to_string(),
                conversation_id: assignment.conversation_id.to_string(),
                previous_agent_id: agent_id.to_string(),
                reason: reason.to_owned(),
                notice: Some(AGENT_LEFT_NOTICE.to_owned()),
                department_id: fallback.map(|id| id.to_string()),
            };
            let response = self
                .history
                .clone()
                .requeue_conversation(request)
                .await?
                .into_inner();
            let open = response
                .conversation
                .filter(|conversation| conversation.status != ConversationStatus::Closed as i32);
            if let Some(conversation) = open {
                let department = parse_optional(conversation.department_id.as_deref());
                self.requeued(assignment.conversation_id, agent_id, reason, department)
                    .await?;
            } else {
                ledger::end(&self.db, assignment.conversation_id, "closed").await?;
            }
        }
        Ok(Some(workspace_id))
    }

    /// Records in routing that history put a conversation back in the queue (in `department`,
    /// its department as history now has it); idempotent.
    pub async fn requeued(
        &self,
        conversation_id: Uuid,
        previous_agent_id: Uuid,
        reason: &str,
        department: Option<Uuid>,
    ) -> RoutingResult<()> {
        if let Some(ended) = ledger::requeue(
            &self.db,
            conversation_id,
            previous_agent_id,
            reason,
            department,
        )
        .await?
        {
            metrics::counter!("switchboard_routing_requeues_total", "reason" => reason.to_owned())
                .increment(1);
            tracing::info!(%conversation_id, agent_id = %ended.agent_id, reason, "conversation back in the queue");
        }
        Ok(())
    }

    /// Returns the queue of a workspace in serving order.
    pub async fn queue(&self, workspace_id: Uuid) -> RoutingResult<Vec<queue_entry::Model>> {
        Ok(queue_entry::Entity::find()
            .filter(queue_entry::Column::WorkspaceId.eq(workspace_id))
            .order_by_desc(queue_entry::Column::Priority)
            .order_by_asc(queue_entry::Column::EnqueuedAt)
            .order_by_asc(queue_entry::Column::ConversationId)
            .all(&self.db)
            .await?)
    }

    /// Returns the assignments of a workspace, optionally of one agent: the open ones, or the
    /// whole history (oldest first) with `include_ended`.
    pub async fn assignments(
        &self,
        workspace_id: Uuid,
        agent_id: Option<Uuid>,
        include_ended: bool,
    ) -> RoutingResult<Vec<assignment::Model>> {
        let mut query = assignment::Entity::find()
            .filter(assignment::Column::WorkspaceId.eq(workspace_id))
            .order_by_asc(assignment::Column::AssignedAt)
            .order_by_asc(assignment::Column::Id);
        if !include_ended {
            query = query.filter(assignment::Column::EndedAt.is_null());
        }
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
        self.gauges.record(&self.db).await
    }

    /// Assigns as many queued conversations of `workspace_id` as capacity allows, unless
    /// another drain of it is running (which then drains again on our behalf).
    pub async fn drain(&self, workspace_id: Uuid) -> RoutingResult<DrainOutcome> {
        match DrainLease::acquire(&self.db, workspace_id, &self.instance).await? {
            Some(lease) => self.drain_holding(workspace_id, lease).await,
            None => Ok(DrainOutcome::default()),
        }
    }

    /// Like [`Self::drain`], but waits (up to `patience`) for a running drain to finish and
    /// then drains itself, so the outcome describes the queue as it is now.
    pub async fn drain_and_wait(
        &self,
        workspace_id: Uuid,
        patience: Duration,
    ) -> RoutingResult<DrainOutcome> {
        // The first attempt creates the lease row and flags a pending drain once; later
        // attempts only poll, since flagging every time would keep the holder draining.
        if let Some(lease) = DrainLease::acquire(&self.db, workspace_id, &self.instance).await? {
            return self.drain_holding(workspace_id, lease).await;
        }
        let deadline = Instant::now() + patience;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(lease) =
                DrainLease::try_acquire(&self.db, workspace_id, &self.instance).await?
            {
                return self.drain_holding(workspace_id, lease).await;
            }
            if Instant::now() >= deadline {
                return Err(RoutingError::Busy);
            }
        }
    }

    async fn drain_holding(
        &self,
        workspace_id: Uuid,
        lease: DrainLease,
    ) -> RoutingResult<DrainOutcome> {
        let mut total = DrainOutcome::default();
        loop {
            match self.drain_once(workspace_id, &lease).await {
                Ok(outcome) => {
                    total.assigned += outcome.assigned;
                    total.still_queued = outcome.still_queued;
                }
                Err(error) => {
                    if let Err(release_error) = lease.release(&self.db).await {
                        tracing::warn!(%workspace_id, error = %release_error, "cannot release drain lease; it expires");
                    }
                    return Err(error);
                }
            }
            if lease.release_unless_pending(&self.db).await? {
                break;
            }
        }
        Ok(total)
    }

    async fn drain_once(
        &self,
        workspace_id: Uuid,
        lease: &DrainLease,
    ) -> RoutingResult<DrainOutcome> {
        let queue = self.queue(workspace_id).await?;
        if queue.is_empty() {
            self.published_positions()
                .retain(|_, (workspace, _)| *workspace != workspace_id);
            return Ok(DrainOutcome::default());
        }
        let departments = self.department_rules(workspace_id).await?;
        let mut candidates = self.candidates(workspace_id).await?;
        let mut outcome = DrainOutcome::default();
        let mut renewed = Instant::now();
        let mut waiting = Vec::new();
        let mut entries = queue.into_iter();
        while let Some(entry) = entries.next() {
            if candidates.iter().all(|candidate| !candidate.has_room()) {
                // Nobody can take anything: the rest waits, in order.
                waiting.push(entry);
                waiting.extend(entries.by_ref());
                break;
            }
            if renewed.elapsed() > RENEW_EVERY {
                lease.renew(&self.db).await?;
                renewed = Instant::now();
            }
            let department = entry
                .department_id
                .and_then(|id| departments.get(&id))
                .cloned()
                .unwrap_or_default();
            let sticky_agent = self.sticky_agent(&entry, &department).await?;
            let scope = entry.department_id.unwrap_or(workspace_id);
            let rotation_after = if department.strategy == Strategy::RoundRobin {
                rotation::Entity::find_by_id(scope)
                    .one(&self.db)
                    .await?
                    .map(|row| row.last_agent_id)
            } else {
                None
            };
            let rules = Rules {
                department: entry.department_id,
                strategy: department.strategy,
                required_skills: &department.required_skills,
                sticky_agent,
                rotation_after,
            };
            let rotation_scope = (department.strategy == Strategy::RoundRobin).then_some(scope);
            match self
                .assign_entry(&entry, &mut candidates, &rules, rotation_scope)
                .await?
            {
                EntryOutcome::Assigned => outcome.assigned += 1,
                EntryOutcome::Gone => {}
                EntryOutcome::Waiting => waiting.push(entry),
            }
        }
        outcome.still_queued = u32::try_from(waiting.len()).unwrap_or(u32::MAX);
        self.publish_positions(workspace_id, &waiting, &departments, &candidates)
            .await;
        Ok(outcome)
    }

    /// Tries the ranked agents for one entry until a reservation holds.
    async fn assign_entry(
        &self,
        entry: &queue_entry::Model,
        candidates: &mut [Candidate],
        rules: &Rules<'_>,
        rotation_scope: Option<Uuid>,
    ) -> RoutingResult<EntryOutcome> {
        for index in strategy::rank(candidates, rules) {
            let candidate = &candidates[index];
            let reservation = ledger::reserve(
                &self.db,
                entry,
                candidate.agent_id,
                candidate.max_concurrent,
                Origin::Routed,
                rotation_scope,
            )
            .await?;
            match reservation {
                Reservation::Reserved(assignment) => {
                    let candidate = &mut candidates[index];
                    candidate.load += 1;
                    candidate.last_assigned_at = Some(assignment.assigned_at);
                    self.record_metrics(&assignment);
                    self.confirm_with_history(&assignment).await?;
                    return Ok(EntryOutcome::Assigned);
                }
                // Another instance or a claim filled this agent: believe the database.
                Reservation::AgentFull => {
                    let candidate = &mut candidates[index];
                    candidate.load = candidate.max_concurrent;
                }
                Reservation::NotQueued => return Ok(EntryOutcome::Gone),
            }
        }
        Ok(EntryOutcome::Waiting)
    }

    fn record_metrics(&self, assignment: &assignment::Model) {
        let waited = (assignment.assigned_at - assignment.waiting_since)
            .to_std()
            .unwrap_or_default();
        let department = assignment
            .department_id
            .map_or_else(|| "none".to_owned(), |id| id.to_string());
        metrics::histogram!("switchboard_routing_queue_wait_seconds", "department" => department)
            .record(waited.as_secs_f64());
        metrics::counter!("switchboard_routing_assignments_total", "origin" => assignment.origin.clone())
            .increment(1);
        tracing::info!(
            conversation_id = %assignment.conversation_id,
            agent_id = %assignment.agent_id,
            origin = %assignment.origin,
            "conversation assigned"
        );
    }

    /// Has conversation-history record a reservation. A conversation that closed meanwhile
    /// gives its capacity back; an unreachable history leaves the reservation unconfirmed for
    /// the sweep to retry.
    /// Records a reservation in conversation-history; returns whether history now has this
    /// agent holding the conversation (false: it was closed or gone, or held by another, and
    /// the reservation was given up).
    async fn confirm_with_history(&self, assignment: &assignment::Model) -> RoutingResult<bool> {
        let request = history_pb::AssignConversationRequest {
            workspace_id: assignment.workspace_id.to_string(),
            conversation_id: assignment.conversation_id.to_string(),
            agent_id: assignment.agent_id.to_string(),
            from_agent_id: assignment.transferred_from.map(|id| id.to_string()),
        };
        match self.history.clone().assign_conversation(request).await {
            Ok(response) => {
                let holder = response.into_inner().conversation.and_then(|conversation| {
                    parse_optional(conversation.assigned_agent_id.as_deref())
                });
                if holder == Some(assignment.agent_id) {
                    ledger::confirm(&self.db, assignment.id).await?;
                    Ok(true)
                } else {
                    // History has another holder, which only a bug or manual repair makes;
                    // history is the record, so give this reservation up.
                    tracing::error!(conversation_id = %assignment.conversation_id, reserved = %assignment.agent_id, ?holder, "history holds the conversation for another agent");
                    ledger::end(&self.db, assignment.conversation_id, "conflict").await?;
                    Ok(false)
                }
            }
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::FailedPrecondition | tonic::Code::NotFound
                ) =>
            {
                // Closed or gone: it no longer needs an agent.
                ledger::end(&self.db, assignment.conversation_id, "closed").await?;
                Ok(false)
            }
            Err(status) => Err(RoutingError::Peer(status)),
        }
    }

    /// Repeats history calls for reservations it has not confirmed (history was down).
    pub async fn confirm_pending(&self) -> RoutingResult<()> {
        let before = Utc::now() - chrono::Duration::from_std(CONFIRM_AFTER).unwrap_or_default();
        for assignment in ledger::unconfirmed(&self.db, before).await? {
            self.confirm_with_history(&assignment).await?;
        }
        Ok(())
    }

    /// An agent takes a waiting conversation itself; capacity rules apply as for routing.
    pub async fn claim(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
        agent_id: Uuid,
    ) -> RoutingResult<Result<assignment::Model, ClaimRefused>> {
        let agent = self
            .agents
            .clone()
            .get_agent(agent_pb::GetAgentRequest {
                workspace_id: workspace_id.to_string(),
                agent_id: agent_id.to_string(),
            })
            .await?
            .into_inner()
            .agent
            .ok_or(RoutingError::AgentNotFound)?;
        let entry = queue_entry::Entity::find_by_id(conversation_id)
            .filter(queue_entry::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?;
        let Some(entry) = entry else {
            return Ok(Err(self
                .why_not_queued(workspace_id, conversation_id)
                .await?));
        };
        if agent.disabled || agent.status == AgentStatus::Offline as i32 {
            return Ok(Err(ClaimRefused::AgentUnavailable));
        }
        if let Some(department) = entry.department_id
            && !agent.department_ids.contains(&department.to_string())
        {
            return Ok(Err(ClaimRefused::NotInDepartment));
        }
        let reservation = ledger::reserve(
            &self.db,
            &entry,
            agent_id,
            agent.max_concurrent,
            Origin::Claimed,
            None,
        )
        .await?;
        match reservation {
            Reservation::Reserved(assignment) => {
                self.record_metrics(&assignment);
                // Whether the claim took is history's answer, not whether the assignment is
                // still open now: the agent may have closed the conversation already.
                if !self.confirm_with_history(&assignment).await? {
                    return Ok(Err(ClaimRefused::Closed));
                }
                let current = assignment::Entity::find_by_id(assignment.id)
                    .one(&self.db)
                    .await?
                    .unwrap_or(*assignment);
                // Everyone behind the claimed conversation moved up.
                if let Err(error) = self.refresh_positions(workspace_id).await {
                    tracing::warn!(%workspace_id, %error, "cannot refresh queue positions");
                }
                Ok(Ok(current))
            }
            Reservation::AgentFull => Ok(Err(ClaimRefused::AgentFull)),
            Reservation::NotQueued => Ok(Err(self
                .why_not_queued(workspace_id, conversation_id)
                .await?)),
        }
    }

    /// Hands a conversation `from` holds to another agent (capacity applies) or to a
    /// department's queue (front of it), then records the note for the receiving side. Returns
    /// the new assignment for an agent target.
    pub async fn transfer(
        &self,
        request: TransferRequest,
    ) -> RoutingResult<Result<Option<assignment::Model>, TransferRefused>> {
        let TransferRequest {
            workspace_id,
            conversation_id,
            from,
            from_name,
            target,
            note,
        } = request;
        let held = assignment::Entity::find()
            .filter(assignment::Column::ConversationId.eq(conversation_id))
            .filter(assignment::Column::WorkspaceId.eq(workspace_id))
            .filter(assignment::Column::AgentId.eq(from))
            .filter(assignment::Column::EndedAt.is_null())
            .one(&self.db)
            .await?;
        if held.is_none() {
            return Ok(Err(TransferRefused::NotHeld));
        }
        let moved = match target {
            TransferTarget::Agent(to) => {
                match self
                    .transfer_to_agent(workspace_id, conversation_id, from, to)
                    .await?
                {
                    Ok(assignment) => Some(assignment),
                    Err(refused) => return Ok(Err(refused)),
                }
            }
            TransferTarget::Department(department_id) => {
                if let Err(refused) = self
                    .transfer_to_department(workspace_id, conversation_id, from, department_id)
                    .await?
                {
                    return Ok(Err(refused));
                }
                None
            }
        };
        if let Some(text) = note {
            self.history
                .clone()
                .add_note(history_pb::AddNoteRequest {
                    workspace_id: workspace_id.to_string(),
                    conversation_id: conversation_id.to_string(),
                    author_id: from.to_string(),
                    author_name: from_name,
                    text,
                })
                .await?;
        }
        let target = if moved.is_some() {
            "agent"
        } else {
            "department"
        };
        metrics::counter!("switchboard_routing_transfers_total", "target" => target).increment(1);
        Ok(Ok(moved))
    }

    async fn transfer_to_agent(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
        from: Uuid,
        to: Uuid,
    ) -> RoutingResult<Result<assignment::Model, TransferRefused>> {
        if to == from {
            return Ok(Err(TransferRefused::SameAgent));
        }
        let agent = match self
            .agents
            .clone()
            .get_agent(agent_pb::GetAgentRequest {
                workspace_id: workspace_id.to_string(),
                agent_id: to.to_string(),
            })
            .await
        {
            Ok(response) => response.into_inner().agent,
            Err(status) if status.code() == tonic::Code::NotFound => None,
            Err(status) => return Err(status.into()),
        };
        let Some(agent) = agent else {
            return Ok(Err(TransferRefused::TargetNotFound));
        };
        if agent.disabled || agent.status == AgentStatus::Offline as i32 {
            return Ok(Err(TransferRefused::TargetUnavailable));
        }
        match ledger::transfer(&self.db, conversation_id, from, to, agent.max_concurrent).await? {
            ledger::Transfer::Done(assignment) => {
                self.record_metrics(&assignment);
                self.confirm_with_history(&assignment).await?;
                Ok(Ok(*assignment))
            }
            ledger::Transfer::AgentFull => Ok(Err(TransferRefused::TargetFull)),
            ledger::Transfer::NotHeld => Ok(Err(TransferRefused::NotHeld)),
        }
    }

    async fn transfer_to_department(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
        from: Uuid,
        department_id: Uuid,
    ) -> RoutingResult<Result<(), TransferRefused>> {
        let departments = self
            .agents
            .clone()
            .list_departments(agent_pb::ListDepartmentsRequest {
                workspace_id: workspace_id.to_string(),
            })
            .await?
            .into_inner()
            .departments;
        let Some(department) = departments
            .into_iter()
            .find(|department| department.id == department_id.to_string())
        else {
            return Ok(Err(TransferRefused::TargetNotFound));
        };
        let request = history_pb::RequeueConversationRequest {
            workspace_id: workspace_id.to_string(),
            conversation_id: conversation_id.to_string(),
            previous_agent_id: from.to_string(),
            reason: "transferred".to_owned(),
            notice: Some(format!(
                "You are being transferred to {}. The next available agent there will continue \
                 this conversation.",
                department.name
            )),
            department_id: Some(department_id.to_string()),
        };
        let response = self
            .history
            .clone()
            .requeue_conversation(request)
            .await?
            .into_inner();
        if !response.requeued {
            return Ok(Err(TransferRefused::NotHeld));
        }
        self.requeued(conversation_id, from, "transferred", Some(department_id))
            .await?;
        if let Err(error) = self.drain(workspace_id).await {
            tracing::warn!(%workspace_id, %error, "drain after transfer failed, sweep will retry");
        }
        Ok(Ok(()))
    }

    async fn why_not_queued(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
    ) -> RoutingResult<ClaimRefused> {
        let conversation = self
            .history
            .clone()
            .get_conversation(history_pb::GetConversationRequest {
                workspace_id: workspace_id.to_string(),
                conversation_id: conversation_id.to_string(),
            })
            .await?
            .into_inner()
            .conversation
            .ok_or(RoutingError::ConversationNotFound)?;
        Ok(
            if conversation.status == ConversationStatus::Closed as i32 {
                ClaimRefused::Closed
            } else {
                ClaimRefused::AlreadyAssigned
            },
        )
    }

    /// Returns where a conversation stands in its queue, or `None` when it is not waiting.
    pub async fn position(
        &self,
        workspace_id: Uuid,
        conversation_id: Uuid,
    ) -> RoutingResult<Option<Position>> {
        let queue = self.queue(workspace_id).await?;
        if !queue
            .iter()
            .any(|entry| entry.conversation_id == conversation_id)
        {
            return Ok(None);
        }
        let departments = self.department_rules(workspace_id).await?;
        let candidates = self.candidates(workspace_id).await?;
        let handling = self.average_handling(workspace_id).await?;
        Ok(positions(&queue, &departments, &candidates, handling)
            .into_iter()
            .find(|(id, _)| *id == conversation_id)
            .map(|(_, position)| position))
    }

    /// Publishes the positions of a workspace's queue (after a change that is not a drain).
    pub async fn refresh_positions(&self, workspace_id: Uuid) -> RoutingResult<()> {
        let queue = self.queue(workspace_id).await?;
        let departments = self.department_rules(workspace_id).await?;
        let candidates = self.candidates(workspace_id).await?;
        self.publish_positions(workspace_id, &queue, &departments, &candidates)
            .await;
        Ok(())
    }

    /// Publishes the position of every waiting conversation whose position changed.
    async fn publish_positions(
        &self,
        workspace_id: Uuid,
        waiting: &[queue_entry::Model],
        departments: &HashMap<Uuid, DepartmentRules>,
        candidates: &[Candidate],
    ) {
        let handling = match self.average_handling(workspace_id).await {
            Ok(handling) => handling,
            Err(error) => {
                tracing::warn!(%workspace_id, %error, "cannot estimate waits");
                None
            }
        };
        let current = positions(waiting, departments, candidates, handling);
        let changed: Vec<(Uuid, Position)> = {
            let mut published = self.published_positions();
            published.retain(|id, (workspace, _)| {
                *workspace != workspace_id || current.iter().any(|(waiting, _)| waiting == id)
            });
            current
                .into_iter()
                .filter(|(id, position)| {
                    published.insert(*id, (workspace_id, *position))
                        != Some((workspace_id, *position))
                })
                .collect()
        };
        for (conversation_id, position) in changed {
            let id = conversation_id.to_string();
            let payload = events_pb::QueuePosition {
                conversation_id: id.clone(),
                position: position.position,
                expected_wait_secs: position.expected_wait_secs,
            }
            .encode_to_vec();
            if let Err(error) = self
                .bus
                .publish_live(&self.subjects.conversation_queue(&id), payload.into())
                .await
            {
                tracing::warn!(%conversation_id, %error, "cannot publish queue position");
            }
        }
    }

    fn published_positions(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Uuid, Position)>> {
        // The map is a cache: a panic while it was held leaves nothing worth protecting.
        self.published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Average time an agent held a conversation, over the latest finished ones.
    async fn average_handling(&self, workspace_id: Uuid) -> RoutingResult<Option<Duration>> {
        let finished = assignment::Entity::find()
            .filter(assignment::Column::WorkspaceId.eq(workspace_id))
            .filter(assignment::Column::EndReason.eq("closed"))
            .order_by_desc(assignment::Column::EndedAt)
            .limit(HANDLING_SAMPLE)
            .all(&self.db)
            .await?;
        let durations: Vec<Duration> = finished
            .iter()
            .filter_map(|row| (row.ended_at? - row.assigned_at).to_std().ok())
            .collect();
        if durations.is_empty() {
            return Ok(None);
        }
        let count = u32::try_from(durations.len()).unwrap_or(u32::MAX);
        Ok(Some(durations.iter().sum::<Duration>() / count))
    }

    /// The visitor's agent of a recent conversation, when the department is sticky.
    async fn sticky_agent(
        &self,
        entry: &queue_entry::Model,
        department: &DepartmentRules,
    ) -> RoutingResult<Option<Uuid>> {
        let Some(visitor_id) = entry.visitor_id else {
            return Ok(None);
        };
        if department.sticky_window.is_zero() {
            return Ok(None);
        }
        let latest = assignment::Entity::find()
            .filter(assignment::Column::WorkspaceId.eq(entry.workspace_id))
            .filter(assignment::Column::VisitorId.eq(visitor_id))
            .filter(assignment::Column::ConversationId.ne(entry.conversation_id))
            .order_by_desc(assignment::Column::AssignedAt)
            .one(&self.db)
            .await?;
        let now = Utc::now();
        let window = chrono::Duration::from_std(department.sticky_window).unwrap_or_default();
        Ok(latest
            .filter(|row| row.ended_at.unwrap_or(now) >= now - window)
            .map(|row| row.agent_id))
    }

    async fn department_rules(
        &self,
        workspace_id: Uuid,
    ) -> RoutingResult<HashMap<Uuid, DepartmentRules>> {
        let departments = self
            .agents
            .clone()
            .list_departments(agent_pb::ListDepartmentsRequest {
                workspace_id: workspace_id.to_string(),
            })
            .await?
            .into_inner()
            .departments;
        Ok(departments
            .into_iter()
            .filter_map(|department| {
                let id = Uuid::parse_str(&department.id).ok()?;
                Some((
                    id,
                    DepartmentRules {
                        strategy: Strategy::from_proto(department.strategy),
                        sticky_window: Duration::from_secs(u64::from(
                            department.sticky_window_secs,
                        )),
                        required_skills: department.required_skills,
                        fallback: parse_optional(department.fallback_department_id.as_deref()),
                    },
                ))
            })
            .collect())
    }

    async fn candidates(&self, workspace_id: Uuid) -> RoutingResult<Vec<Candidate>> {
        let online: Vec<agent_pb::Agent> = self
            .agents
            .clone()
            .list_agents(agent_pb::ListAgentsRequest {
                workspace_id: workspace_id.to_string(),
                department_id: None,
                status: AgentStatus::Online as i32,
            })
            .await?
            .into_inner()
            .agents
            .into_iter()
            .filter(|agent| !agent.disabled)
            .collect();
        let agent_ids: Vec<Uuid> = online
            .iter()
            .filter_map(|agent| Uuid::parse_str(&agent.id).ok())
            .collect();
        ledger::ensure_agents(&self.db, workspace_id, agent_ids.iter().copied()).await?;
        let loads: HashMap<Uuid, agent_load::Model> = agent_load::Entity::find()
            .filter(agent_load::Column::AgentId.is_in(agent_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (row.agent_id, row))
            .collect();
        Ok(online
            .into_iter()
            .filter_map(|agent| {
                let agent_id = Uuid::parse_str(&agent.id).ok()?;
                let load = loads.get(&agent_id);
                Some(Candidate {
                    agent_id,
                    department_ids: agent
                        .department_ids
                        .iter()
                        .filter_map(|id| Uuid::parse_str(id).ok())
                        .collect(),
                    skills: agent.skills,
                    max_concurrent: agent.max_concurrent,
                    load: load
                        .map(|row| u32::try_from(row.open_count).unwrap_or(0))
                        .unwrap_or(0),
                    last_assigned_at: load.and_then(|row| row.last_assigned_at),
                    last_released_at: load.and_then(|row| row.last_released_at),
                })
            })
            .collect())
    }
}

enum EntryOutcome {
    Assigned,
    Waiting,
    Gone,
}

/// Computes each waiting conversation's place among those of its department (in serving
/// order) and an expected wait: place × average handling time ÷ the department's online
/// capacity. No estimate without history or without anyone online.
fn positions(
    waiting: &[queue_entry::Model],
    departments: &HashMap<Uuid, DepartmentRules>,
    candidates: &[Candidate],
    handling: Option<Duration>,
) -> Vec<(Uuid, Position)> {
    let mut ahead: HashMap<Option<Uuid>, u32> = HashMap::new();
    waiting
        .iter()
        .map(|entry| {
            let place = ahead.entry(entry.department_id).or_default();
            *place += 1;
            let rules = entry
                .department_id
                .and_then(|id| departments.get(&id))
                .cloned()
                .unwrap_or_default();
            let capacity: u32 = candidates
                .iter()
                .filter(|candidate| {
                    entry
                        .department_id
                        .is_none_or(|id| candidate.department_ids.contains(&id))
                        && rules
                            .required_skills
                            .iter()
                            .all(|skill| candidate.skills.contains(skill))
                })
                .map(|candidate| candidate.max_concurrent)
                .sum();
            let expected_wait_secs = handling.filter(|_| capacity > 0).map(|handling| {
                let secs = handling.as_secs_f64() * f64::from(*place) / f64::from(capacity);
                // Saturating float-to-int conversion; at least a second once queued.
                (secs.ceil() as u32).max(1)
            });
            (
                entry.conversation_id,
                Position {
                    position: *place,
                    expected_wait_secs,
                },
            )
        })
        .collect()
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

fn parse_optional(id: Option<&str>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// Every `interval` until `shutdown`: confirms reservations history missed and drains every
/// non-empty queue: the safety net for events that were missed or whose drain failed.
pub async fn sweep(assigner: Arc<Assigner>, interval: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = assigner.record_queue_gauges().await {
            tracing::warn!(%error, "sweep cannot measure queues");
        }
        if let Err(error) = assigner.confirm_pending().await {
            tracing::warn!(%error, "sweep cannot confirm reservations");
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

    fn entry(n: u128, department: Option<u128>) -> queue_entry::Model {
        queue_entry::Model {
            conversation_id: Uuid::from_u128(n),
            workspace_id: Uuid::nil(),
            department_id: department.map(Uuid::from_u128),
            enqueued_at: Utc::now(),
            priority: 0,
            visitor_id: None,
            queued_at: None,
        }
    }

    fn candidate(n: u128, max: u32, departments: &[u128]) -> Candidate {
        Candidate {
            agent_id: Uuid::from_u128(n),
            department_ids: departments.iter().map(|d| Uuid::from_u128(*d)).collect(),
            skills: Vec::new(),
            max_concurrent: max,
            load: max,
            last_assigned_at: None,
            last_released_at: None,
        }
    }

    #[test]
    fn positions_count_per_department_and_scale_with_capacity() {
        let waiting = [
            entry(1, None),
            entry(2, Some(7)),
            entry(3, None),
            entry(4, Some(7)),
        ];
        let agents = [candidate(10, 2, &[7]), candidate(11, 2, &[])];
        let minute = Some(Duration::from_secs(60));
        let found = positions(&waiting, &HashMap::new(), &agents, minute);
        let place = |n: u128| {
            found
                .iter()
                .find(|(id, _)| *id == Uuid::from_u128(n))
                .map(|(_, position)| *position)
                .expect("listed")
        };
        // No department: 4 slots online; department 7: 2 slots.
        assert_eq!(place(1).position, 1);
        assert_eq!(place(1).expected_wait_secs, Some(15));
        assert_eq!(place(3).position, 2);
        assert_eq!(place(3).expected_wait_secs, Some(30));
        assert_eq!(place(2).position, 1);
        assert_eq!(place(2).expected_wait_secs, Some(30));
        assert_eq!(place(4).position, 2);
        assert_eq!(place(4).expected_wait_secs, Some(60));
        let unknown = positions(&waiting, &HashMap::new(), &agents, None);
        assert!(unknown.iter().all(|(_, p)| p.expected_wait_secs.is_none()));
        let nobody = positions(&waiting, &HashMap::new(), &[], minute);
        assert!(nobody.iter().all(|(_, p)| p.expected_wait_secs.is_none()));
    }
}
