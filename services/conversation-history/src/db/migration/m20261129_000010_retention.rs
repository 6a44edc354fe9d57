//! Per-workspace retention: how many days closed conversations are kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RetentionPolicy {
    Table,
    WorkspaceId,
    Days,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversation {
    Table,
    Status,
    ClosedAt,
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
                    .table(RetentionPolicy::Table)
                    .col(pk_uuid(RetentionPolicy::WorkspaceId))
                    .col(integer(RetentionPolicy::Days))
                    .col(timestamp_with_time_zone(RetentionPolicy::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The purge looks for a workspace's closed conversations by age.
        manager
            .create_index(
                Index::create()
                    .name("conversation_status_closed_at")
                    .table(Conversation::Table)
                    .col(Conversation::Status)
                    .col(Conversation::ClosedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("conversation_status_closed_at")
                    .table(Conversation::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RetentionPolicy::Table).to_owned())
            .await
    }
}
