//! Presence leases: one row per agent socket, kept alive by its gateway.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum PresenceLease {
    Table,
    ConnectionId,
    AgentId,
    WorkspaceId,
    ExpiresAt,
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
                    .table(PresenceLease::Table)
                    .col(string(PresenceLease::ConnectionId).primary_key())
                    .col(uuid(PresenceLease::AgentId))
                    .col(uuid(PresenceLease::WorkspaceId))
                    .col(timestamp_with_time_zone(PresenceLease::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("presence_lease_agent")
                    .table(PresenceLease::Table)
                    .col(PresenceLease::AgentId)
                    .col(PresenceLease::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PresenceLease::Table).to_owned())
            .await
    }
}
