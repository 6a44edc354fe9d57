//! Canned replies, shared by a workspace (`scope` = "workspace") or personal to an agent
//! (`scope` = the agent's id); a shortcut is unique within its scope.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum CannedReply {
    Table,
    Id,
    WorkspaceId,
    Scope,
    Shortcut,
    Text,
    CreatedAt,
    UpdatedAt,
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
                    .table(CannedReply::Table)
                    .col(pk_uuid(CannedReply::Id))
                    .col(uuid(CannedReply::WorkspaceId))
                    .col(string(CannedReply::Scope))
                    .col(string(CannedReply::Shortcut))
                    .col(text(CannedReply::Text))
                    .col(timestamp_with_time_zone(CannedReply::CreatedAt))
                    .col(timestamp_with_time_zone(CannedReply::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("canned_reply_shortcut")
                    .table(CannedReply::Table)
                    .col(CannedReply::WorkspaceId)
                    .col(CannedReply::Scope)
                    .col(CannedReply::Shortcut)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CannedReply::Table).to_owned())
            .await
    }
}
