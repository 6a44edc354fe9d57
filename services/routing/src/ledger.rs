//! Routing's durable state changes: reserving and releasing capacity, and the per-workspace
//! drain lease. The only module that writes routing's tables.
//!
//! Capacity is enforced by the database, not by the process that decides: a reservation is one
//! transaction that removes the conversation from the queue (0 rows: someone else took it),
//! increments the agent's `open_count` only while it is below `max_concurrent` (0 rows: full)
//! and inserts the open assignment. PostgreSQL serialises the conditional update per agent row
//! and SQLite serialises writers, so two routing instances, a claim and a drain, or a close and
//! an arrival can interleave in any way without an agent going over capacity.
//!
//! Timestamps of assignments are taken *after* the agent row is locked, so for each agent the
//! history's intervals are ordered the way the database serialised them: replaying them never
//! shows more open conversations than the counter allowed.

use crate::RoutingResult;
use crate::db::entity::{agent_load, assignment, drain_lease, queue_entry, rotation};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::time::Duration;
use uuid::Uuid;

/// How long a drain may hold a workspace before another instance may take over.
pub const DRAIN_LEASE: Duration = Duration::from_secs(30);

/// Why an assignment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Picked by routing's strategy.
    Routed,
    /// Taken by the agent from the queue.
    Claimed,
    /// Handed over by the agent who held it.
    Transferred,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Self::Routed => "routed",
            Self::Claimed => "claimed",
            Self::Transferred => "transferred",
        }
    }
}

/// Outcome of [`reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The agent now holds the conversation.
    Reserved(Box<assignment::Model>),
    /// The agent has no room left (whatever the caller believed).
    AgentFull,
    /// The conversation is no longer queued.
    NotQueued,
}

/// Makes sure each agent has a capacity row.
pub async fn ensure_agents(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    agent_ids: impl IntoIterator<Item = Uuid>,
) -> RoutingResult<()> {
    let rows: Vec<agent_load::ActiveModel> = agent_ids
        .into_iter()
        .map(|agent_id| agent_load::ActiveModel {
            agent_id: Set(agent_id),
            workspace_id: Set(workspace_id),
            open_count: Set(0),
            last_assigned_at: Set(None),
            last_released_at: Set(None),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    agent_load::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(agent_load::Column::AgentId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Gives the queued conversation `entry` to `agent_id` if it is still queued and the agent has
/// fewer than `max_concurrent` open assignments; `rotation_scope` records the agent as the last
/// one served there (round-robin).
pub async fn reserve(
    db: &DatabaseConnection,
    entry: &queue_entry::Model,
    agent_id: Uuid,
    max_concurrent: u32,
    origin: Origin,
    rotation_scope: Option<Uuid>,
) -> RoutingResult<Reservation> {
    ensure_agents(db, entry.workspace_id, [agent_id]).await?;
    let txn = db.begin().await?;
    let taken = queue_entry::Entity::delete_by_id(entry.conversation_id)
        .exec(&txn)
        .await?
        .rows_affected;
    if taken == 0 {
        txn.rollback().await?;
        return Ok(Reservation::NotQueued);
    }
    if !take_capacity(&txn, agent_id, max_concurrent).await? {
        txn.rollback().await?;
        return Ok(Reservation::AgentFull);
    }
    // Taken after the agent row is locked: see the module comment.
    let now = Utc::now();
    stamp(&txn, agent_id, agent_load::Column::LastAssignedAt, now).await?;
    let assignment = assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(entry.conversation_id),
        workspace_id: Set(entry.workspace_id),
        agent_id: Set(agent_id),
        visitor_id: Set(entry.visitor_id),
        department_id: Set(entry.department_id),
        waiting_since: Set(entry.enqueued_at),
        queued_at: Set(entry.queued_at.unwrap_or(entry.enqueued_at)),
        assigned_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        confirmed: Set(false),
        origin: Set(origin.as_str().to_owned()),
        transferred_from: Set(None),
    }
    .insert(&txn)
    .await?;
    if let Some(scope_id) = rotation_scope {
        rotation::Entity::insert(rotation::ActiveModel {
            scope_id: Set(scope_id),
            last_agent_id: Set(agent_id),
        })
        .on_conflict(
            OnConflict::column(rotation::Column::ScopeId)
                .update_column(rotation::Column::LastAgentId)
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Reservation::Reserved(Box::new(assignment)))
}

/// Ends the open assignment of a conversation (if any) and frees its capacity; also drops the
/// conversation from the queue. Returns the ended assignment.
pub async fn end(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    reason: &str,
) -> RoutingResult<Option<assignment::Model>> {
    let txn = db.begin().await?;
    let dequeued = queue_entry::Entity::delete_by_id(conversation_id)
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    let Some(open) = assignment::Entity::find()
        .filter(assignment::Column::ConversationId.eq(conversation_id))
        .filter(assignment::Column::EndedAt.is_null())
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        if dequeued && reason == "closed" {
            // Closed while still waiting: nobody answered before the visitor gave up (or the
            // conversation was closed from the queue). Counted once: a redelivered event finds
            // no entry left.
            metrics::counter!("switchboard_routing_abandoned_total").increment(1);
        }
        return Ok(None);
    };
    give_capacity(&txn, open.agent_id).await?;
    // Taken after the agent row is locked: see the module comment.
    let now = Utc::now();
    stamp(&txn, open.agent_id, agent_load::Column::LastReleasedAt, now).await?;
    if !end_open(&txn, open.id, reason, now).await? {
        // Someone else ended it between our read and our update; their decrement counts.
        txn.rollback().await?;
        return Ok(None);
    }
    txn.commit().await?;
    Ok(Some(assignment::Model {
        ended_at: Some(now),
        end_reason: Some(reason.to_owned()),
        ..open
    }))
}

/// Priority of a conversation whose agent left: ahead of everyone who has not been served yet.
pub const REQUEUE_PRIORITY: i32 = 100;

/// Ends `previous_agent_id`'s open assignment of a conversation and puts the conversation back
/// at the front of the queue (it keeps its original waiting time). Returns the ended assignment,
/// or `None` when that agent no longer held it (already requeued, closed, transferred).
pub async fn requeue(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    previous_agent_id: Uuid,
    reason: &str,
    to_department: Option<Uuid>,
) -> RoutingResult<Option<assignment::Model>> {
    let txn = db.begin().await?;
    let Some(open) = assignment::Entity::find()
        .filter(assignment::Column::ConversationId.eq(conversation_id))
        .filter(assignment::Column::AgentId.eq(previous_agent_id))
        .filter(assignment::Column::EndedAt.is_null())
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Ok(None);
    };
    give_capacity(&txn, previous_agent_id).await?;
    // Taken after the agent row is locked: see the module comment.
    let now = Utc::now();
    if !end_open(&txn, open.id, reason, now).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    queue_entry::Entity::insert(queue_entry::ActiveModel {
        conversation_id: Set(conversation_id),
        workspace_id: Set(open.workspace_id),
        department_id: Set(to_department.or(open.department_id)),
        enqueued_at: Set(open.waiting_since),
        priority: Set(REQUEUE_PRIORITY),
        visitor_id: Set(open.visitor_id),
        queued_at: Set(Some(now)),
    })
    .on_conflict(
        OnConflict::column(queue_entry::Column::ConversationId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(assignment::Model {
        ended_at: Some(now),
        end_reason: Some(reason.to_owned()),
        ..open
    }))
}

/// Outcome of [`transfer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// The target now holds the conversation.
    Done(Box<assignment::Model>),
    /// The target has no room left.
    AgentFull,
    /// `from` does not hold the conversation (any more).
    NotHeld,
}

/// Moves the open assignment of a conversation from `from` to `to` in one transaction: the
/// target's capacity is reserved (conditionally, as for any assignment) and the giver's freed.
/// Agent rows are locked in id order so that two opposite transfers cannot deadlock.
pub async fn transfer(
    db: &DatabaseConnection,
    conversation_id: Uuid,
    from: Uuid,
    to: Uuid,
    max_concurrent: u32,
) -> RoutingResult<Transfer> {
    let Some(open) = assignment::Entity::find()
        .filter(assignment::Column::ConversationId.eq(conversation_id))
        .filter(assignment::Column::AgentId.eq(from))
        .filter(assignment::Column::EndedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(Transfer::NotHeld);
    };
    ensure_agents(db, open.workspace_id, [to]).await?;
    let txn = db.begin().await?;
    let mut order = [from, to];
    order.sort();
    for agent_id in order {
        if agent_id == to {
            if !take_capacity(&txn, to, max_concurrent).await? {
                txn.rollback().await?;
                return Ok(Transfer::AgentFull);
            }
        } else {
            give_capacity(&txn, from).await?;
        }
    }
    // Taken after both agent rows are locked: see the module comment.
    let now = Utc::now();
    if !end_open(&txn, open.id, "transferred", now).await? {
        txn.rollback().await?;
        return Ok(Transfer::NotHeld);
    }
    stamp(&txn, to, agent_load::Column::LastAssignedAt, now).await?;
    stamp(&txn, from, agent_load::Column::LastReleasedAt, now).await?;
    let assignment = assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation_id),
        workspace_id: Set(open.workspace_id),
        agent_id: Set(to),
        visitor_id: Set(open.visitor_id),
        department_id: Set(open.department_id),
        waiting_since: Set(now),
        queued_at: Set(now),
        assigned_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        confirmed: Set(false),
        origin: Set(Origin::Transferred.as_str().to_owned()),
        transferred_from: Set(Some(from)),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Transfer::Done(Box::new(assignment)))
}

/// Takes one unit of an agent's capacity if it has fewer than `max_concurrent` open
/// assignments; `false` when it is full. Locks the agent's row until `txn` ends.
async fn take_capacity(
    txn: &DatabaseTransaction,
    agent_id: Uuid,
    max_concurrent: u32,
) -> RoutingResult<bool> {
    let taken = agent_load::Entity::update_many()
        .col_expr(
            agent_load::Column::OpenCount,
            Expr::col(agent_load::Column::OpenCount).add(1),
        )
        .filter(agent_load::Column::AgentId.eq(agent_id))
        .filter(agent_load::Column::OpenCount.lt(i64::from(max_concurrent)))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(taken == 1)
}

/// Gives one unit of an agent's capacity back (never below zero). Locks the agent's row.
async fn give_capacity(txn: &DatabaseTransaction, agent_id: Uuid) -> RoutingResult<()> {
    agent_load::Entity::update_many()
        .col_expr(
            agent_load::Column::OpenCount,
            Expr::col(agent_load::Column::OpenCount).sub(1),
        )
        .filter(agent_load::Column::AgentId.eq(agent_id))
        .filter(agent_load::Column::OpenCount.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// Records `now` in one of an agent's activity columns (last assigned or released).
async fn stamp(
    txn: &DatabaseTransaction,
    agent_id: Uuid,
    column: agent_load::Column,
    now: DateTime<Utc>,
) -> RoutingResult<()> {
    agent_load::Entity::update_many()
        .col_expr(column, Expr::value(now))
        .filter(agent_load::Column::AgentId.eq(agent_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Ends an open assignment; `false` when someone else ended it first.
async fn end_open(
    txn: &DatabaseTransaction,
    assignment_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> RoutingResult<bool> {
    let ended = assignment::Entity::update_many()
        .col_expr(assignment::Column::EndedAt, Expr::value(now))
        .col_expr(assignment::Column::EndReason, Expr::value(reason))
        .filter(assignment::Column::Id.eq(assignment_id))
        .filter(assignment::Column::EndedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    Ok(ended == 1)
}

/// Marks an assignment as recorded by conversation-history.
pub async fn confirm(db: &impl ConnectionTrait, assignment_id: Uuid) -> RoutingResult<()> {
    assignment::Entity::update_many()
        .col_expr(assignment::Column::Confirmed, Expr::value(true))
        .filter(assignment::Column::Id.eq(assignment_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Returns open assignments history has not confirmed, reserved before `before`.
pub async fn unconfirmed(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
) -> RoutingResult<Vec<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::Confirmed.eq(false))
        .filter(assignment::Column::EndedAt.is_null())
        .filter(assignment::Column::AssignedAt.lt(before))
        .order_by_asc(assignment::Column::AssignedAt)
        .all(db)
        .await?)
}

/// A held drain lease of one workspace.
#[derive(Debug)]
pub struct DrainLease {
    workspace_id: Uuid,
    holder: String,
}

impl DrainLease {
    /// Takes the workspace's drain lease for `holder`. When someone else holds it, flags a
    /// drain as pending (the holder will drain again before letting go) and returns `None`.
    pub async fn acquire(
        db: &DatabaseConnection,
        workspace_id: Uuid,
        holder: &str,
    ) -> RoutingResult<Option<Self>> {
        drain_lease::Entity::insert(drain_lease::ActiveModel {
            workspace_id: Set(workspace_id),
            holder: Set(None),
            lease_until: Set(None),
            pending: Set(false),
        })
        .on_conflict(
            OnConflict::column(drain_lease::Column::WorkspaceId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        if Self::try_take(db, workspace_id, holder).await? {
            return Ok(Some(Self {
                workspace_id,
                holder: holder.to_owned(),
            }));
        }
        drain_lease::Entity::update_many()
            .col_expr(drain_lease::Column::Pending, Expr::value(true))
            .filter(drain_lease::Column::WorkspaceId.eq(workspace_id))
            .filter(drain_lease::Column::Holder.is_not_null())
            .exec(db)
            .await?;
        // The holder may have let go between our attempt and the flag; then nobody would
        // see the flag, so try once more.
        if Self::try_take(db, workspace_id, holder).await? {
            return Ok(Some(Self {
                workspace_id,
                holder: holder.to_owned(),
            }));
        }
        Ok(None)
    }

    /// Takes the lease if it is free, without flagging anything when it is not (for callers
    /// that wait for it; flagging on every attempt would keep the holder draining).
    pub async fn try_acquire(
        db: &DatabaseConnection,
        workspace_id: Uuid,
        holder: &str,
    ) -> RoutingResult<Option<Self>> {
        Ok(Self::try_take(db, workspace_id, holder)
            .await?
            .then(|| Self {
                workspace_id,
                holder: holder.to_owned(),
            }))
    }

    async fn try_take(
        db: &DatabaseConnection,
        workspace_id: Uuid,
        holder: &str,
    ) -> RoutingResult<bool> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(DRAIN_LEASE).unwrap_or_default();
        let taken = drain_lease::Entity::update_many()
            .col_expr(drain_lease::Column::Holder, Expr::value(holder))
            .col_expr(drain_lease::Column::LeaseUntil, Expr::value(until))
            .col_expr(drain_lease::Column::Pending, Expr::value(false))
            .filter(drain_lease::Column::WorkspaceId.eq(workspace_id))
            .filter(
                drain_lease::Column::Holder
                    .is_null()
                    .or(drain_lease::Column::LeaseUntil.lt(now)),
            )
            .exec(db)
            .await?
            .rows_affected;
        Ok(taken == 1)
    }

    /// Extends the lease for another [`DRAIN_LEASE`].
    pub async fn renew(&self, db: &DatabaseConnection) -> RoutingResult<()> {
        let until = Utc::now() + chrono::Duration::from_std(DRAIN_LEASE).unwrap_or_default();
        drain_lease::Entity::update_many()
            .col_expr(drain_lease::Column::LeaseUntil, Expr::value(until))
            .filter(drain_lease::Column::WorkspaceId.eq(self.workspace_id))
            .filter(drain_lease::Column::Holder.eq(self.holder.as_str()))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Lets go of the lease unless a drain was asked for meanwhile: then clears the flag, keeps
    /// the lease and returns `false` (drain again).
    pub async fn release_unless_pending(&self, db: &DatabaseConnection) -> RoutingResult<bool> {
        let released = drain_lease::Entity::update_many()
            .col_expr(
                drain_lease::Column::Holder,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                drain_lease::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(drain_lease::Column::WorkspaceId.eq(self.workspace_id))
            .filter(drain_lease::Column::Holder.eq(self.holder.as_str()))
            .filter(drain_lease::Column::Pending.eq(false))
            .exec(db)
            .await?
            .rows_affected;
        if released == 1 {
            return Ok(true);
        }
        let still_held = drain_lease::Entity::update_many()
            .col_expr(drain_lease::Column::Pending, Expr::value(false))
            .filter(drain_lease::Column::WorkspaceId.eq(self.workspace_id))
            .filter(drain_lease::Column::Holder.eq(self.holder.as_str()))
            .exec(db)
            .await?
            .rows_affected;
        // Lost the lease (it expired and was taken): the new holder drains.
        Ok(still_held == 0)
    }

    /// Lets go of the lease whatever is pending (after an error; the sweep retries).
    pub async fn release(&self, db: &DatabaseConnection) -> RoutingResult<()> {
        drain_lease::Entity::update_many()
            .col_expr(
                drain_lease::Column::Holder,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                drain_lease::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(drain_lease::Column::WorkspaceId.eq(self.workspace_id))
            .filter(drain_lease::Column::Holder.eq(self.holder.as_str()))
            .exec(db)
            .await?;
        Ok(())
    }
}
