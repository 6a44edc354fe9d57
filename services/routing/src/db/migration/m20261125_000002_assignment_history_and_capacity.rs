//! Capacity that holds across routing instances, and the assignment history.
//!
//! - `routing_assignment` becomes a history: one row per time a conversation was held by an
//!   agent (`ended_at` null while it still is), with at most one open row per conversation
//!   (a partial unique index).
//! - `routing_agent` keeps each agent's count of open assignments; a reservation is a
//!   conditional `UPDATE … SET open_count = open_count + 1 WHERE open_count < max`, which the
//!   database serialises per agent row, so no timing lets an agent exceed its capacity.
//! - `routing_drain` is a per-workspace lease so that one instance at a time walks a queue
//!   (fair order), with a `pending` flag so a change seen by another instance is never lost.
//! - `routing_rotation` remembers the last agent of a round-robin department.
//! - Queue entries gain a priority, the visitor and the time they entered the queue.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RoutingQueueEntry {
    Table,
    Priority,
    VisitorId,
    QueuedAt,
}

#[derive(DeriveIden)]
enum RoutingAssignment {
    Table,
    Id,
    ConversationId,
    WorkspaceId,
    AgentId,
    VisitorId,
    DepartmentId,
    WaitingSince,
    QueuedAt,
    AssignedAt,
    EndedAt,
    EndReason,
    Confirmed,
    Origin,
}

#[derive(DeriveIden)]
enum RoutingAgent {
    Table,
    AgentId,
    WorkspaceId,
    OpenCount,
    LastAssignedAt,
    LastReleasedAt,
}

#[derive(DeriveIden)]
enum RoutingDrain {
    Table,
    WorkspaceId,
    Holder,
    LeaseUntil,
    Pending,
}

#[derive(DeriveIden)]
enum RoutingRotation {
    Table,
    ScopeId,
    LastAgentId,
}

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // SQLite allows one change per ALTER TABLE.
        for column in [
            integer(RoutingQueueEntry::Priority).default(0).to_owned(),
            uuid_null(RoutingQueueEntry::VisitorId),
            timestamp_with_time_zone_null(RoutingQueueEntry::QueuedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RoutingQueueEntry::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        db.execute_unprepared("UPDATE routing_queue_entry SET queued_at = enqueued_at")
            .await?;
        db.execute_unprepared("ALTER TABLE routing_assignment RENAME TO routing_assignment_v1")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingAssignment::Table)
                    .col(pk_uuid(RoutingAssignment::Id))
                    .col(uuid(RoutingAssignment::ConversationId))
                    .col(uuid(RoutingAssignment::WorkspaceId))
                    .col(uuid(RoutingAssignment::AgentId))
                    .col(uuid_null(RoutingAssignment::VisitorId))
                    .col(uuid_null(RoutingAssignment::DepartmentId))
                    .col(timestamp_with_time_zone(RoutingAssignment::WaitingSince))
                    .col(timestamp_with_time_zone(RoutingAssignment::QueuedAt))
                    .col(timestamp_with_time_zone(RoutingAssignment::AssignedAt))
                    .col(timestamp_with_time_zone_null(RoutingAssignment::EndedAt))
                    .col(string_null(RoutingAssignment::EndReason))
                    .col(boolean(RoutingAssignment::Confirmed).default(false))
                    .col(string(RoutingAssignment::Origin).default("routed"))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO routing_assignment (id, conversation_id, workspace_id, agent_id, \
             waiting_since, queued_at, assigned_at, ended_at, end_reason, confirmed, origin) \
             SELECT conversation_id, conversation_id, workspace_id, agent_id, assigned_at, \
             assigned_at, assigned_at, ended_at, \
             CASE WHEN ended_at IS NULL THEN NULL ELSE 'closed' END, TRUE, 'routed' \
             FROM routing_assignment_v1",
        )
        .await?;
        // Dropping the old table drops its index, whose name the new table reuses below.
        db.execute_unprepared("DROP TABLE routing_assignment_v1")
            .await?;
        // Partial unique index (PostgreSQL and SQLite): one open assignment per conversation.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX routing_assignment_one_open ON routing_assignment \
             (conversation_id) WHERE ended_at IS NULL",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("routing_assignment_workspace_agent")
                    .table(RoutingAssignment::Table)
                    .col(RoutingAssignment::WorkspaceId)
                    .col(RoutingAssignment::AgentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("routing_assignment_visitor")
                    .table(RoutingAssignment::Table)
                    .col(RoutingAssignment::VisitorId)
                    .col(RoutingAssignment::AssignedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingAgent::Table)
                    .col(pk_uuid(RoutingAgent::AgentId))
                    .col(uuid(RoutingAgent::WorkspaceId))
                    .col(integer(RoutingAgent::OpenCount).default(0))
                    .col(timestamp_with_time_zone_null(RoutingAgent::LastAssignedAt))
                    .col(timestamp_with_time_zone_null(RoutingAgent::LastReleasedAt))
                    .to_owned(),
            )
            .await?;
        // Capacity already held by open assignments carries over.
        db.execute_unprepared(
            "INSERT INTO routing_agent (agent_id, workspace_id, open_count, last_assigned_at) \
             SELECT agent_id, workspace_id, COUNT(*), MAX(assigned_at) \
             FROM routing_assignment WHERE ended_at IS NULL GROUP BY agent_id, workspace_id",
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingDrain::Table)
                    .col(pk_uuid(RoutingDrain::WorkspaceId))
                    .col(string_null(RoutingDrain::Holder))
                    .col(timestamp_with_time_zone_null(RoutingDrain::LeaseUntil))
                    .col(boolean(RoutingDrain::Pending).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingRotation::Table)
                    .col(pk_uuid(RoutingRotation::ScopeId))
                    .col(uuid(RoutingRotation::LastAgentId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The assignment history cannot be folded back into one row per conversation.
        Err(DbErr::Migration(
            "routing migration 2 is not reversible".to_owned(),
        ))
    }
}
