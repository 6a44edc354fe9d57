//! Read receipts: how far each participant has read each conversation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ConversationRead {
    Table,
    ConversationId,
    ReaderKind,
    ReaderId,
    LastReadSeq,
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
                    .table(ConversationRead::Table)
                    .col(uuid(ConversationRead::ConversationId))
                    .col(string(ConversationRead::ReaderKind))
                    .col(string(ConversationRead::ReaderId))
                    .col(big_integer(ConversationRead::LastReadSeq))
                    .col(timestamp_with_time_zone(ConversationRead::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationRead::ConversationId)
                            .col(ConversationRead::ReaderKind)
                            .col(ConversationRead::ReaderId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConversationRead::Table).to_owned())
            .await
    }
}
