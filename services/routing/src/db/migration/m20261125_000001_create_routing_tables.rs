//! Queue entries, assignments and the outbox.

use crate::db::OUTBOX;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RoutingQueueEntry {
    Table,
    ConversationId,
    WorkspaceId,
    DepartmentId,
    EnqueuedAt,
}

#[derive(DeriveIden)]
enum RoutingAssignment {
    Table,
    ConversationId,
    WorkspaceId,
    AgentId,
    AssignedAt,
    EndedAt,
}

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoutingQueueEntry::Table)
                    .col(pk_uuid(RoutingQueueEntry::ConversationId))
                    .col(uuid(RoutingQueueEntry::WorkspaceId))
                    .col(uuid_null(RoutingQueueEntry::DepartmentId))
                    .col(timestamp_with_time_zone(RoutingQueueEntry::EnqueuedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("routing_queue_workspace_time")
                    .table(RoutingQueueEntry::Table)
                    .col(RoutingQueueEntry::WorkspaceId)
                    .col(RoutingQueueEntry::EnqueuedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingAssignment::Table)
                    .col(pk_uuid(RoutingAssignment::ConversationId))
                    .col(uuid(RoutingAssignment::WorkspaceId))
                    .col(uuid(RoutingAssignment::AgentId))
                    .col(timestamp_with_time_zone(RoutingAssignment::AssignedAt))
                    .col(timestamp_with_time_zone_null(RoutingAssignment::EndedAt))
                    .to_owned(),
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
        manager.create_table(OUTBOX.create_table()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(OUTBOX.table())).to_owned())
            .await?;
        for table in [
            RoutingAssignment::Table.into_iden(),
            RoutingQueueEntry::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
