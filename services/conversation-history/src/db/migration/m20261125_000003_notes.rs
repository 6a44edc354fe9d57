//! Internal notes: agent-only remarks on a conversation, kept outside the message `seq`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ConversationNote {
    Table,
    Id,
    ConversationId,
    WorkspaceId,
    AuthorId,
    AuthorName,
    Text,
    CreatedAt,
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
                    .table(ConversationNote::Table)
                    .col(pk_uuid(ConversationNote::Id))
                    .col(uuid(ConversationNote::ConversationId))
                    .col(uuid(ConversationNote::WorkspaceId))
                    .col(string(ConversationNote::AuthorId))
                    .col(string(ConversationNote::AuthorName))
                    .col(text(ConversationNote::Text))
                    .col(timestamp_with_time_zone(ConversationNote::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("conversation_note_conversation")
                    .table(ConversationNote::Table)
                    .col(ConversationNote::ConversationId)
                    .col(ConversationNote::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConversationNote::Table).to_owned())
            .await
    }
}
