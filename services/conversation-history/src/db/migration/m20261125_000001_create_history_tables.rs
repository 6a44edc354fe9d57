//! Visitors, conversations, messages (with the ordering and idempotency keys) and the outbox.

use crate::db::OUTBOX;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Visitor {
    Table,
    Id,
    WorkspaceId,
    ExternalId,
    DisplayName,
    Metadata,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversation {
    Table,
    Id,
    WorkspaceId,
    VisitorId,
    DepartmentId,
    Status,
    AssignedAgentId,
    LastSeq,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Message {
    Table,
    Id,
    ConversationId,
    Seq,
    SenderKind,
    SenderId,
    ClientMsgId,
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
                    .table(Visitor::Table)
                    .col(pk_uuid(Visitor::Id))
                    .col(uuid(Visitor::WorkspaceId))
                    .col(string_null(Visitor::ExternalId))
                    .col(string(Visitor::DisplayName))
                    .col(json(Visitor::Metadata))
                    .col(timestamp_with_time_zone(Visitor::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visitor_workspace_external")
                    .table(Visitor::Table)
                    .col(Visitor::WorkspaceId)
                    .col(Visitor::ExternalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Conversation::Table)
                    .col(pk_uuid(Conversation::Id))
                    .col(uuid(Conversation::WorkspaceId))
                    .col(uuid(Conversation::VisitorId))
                    .col(uuid_null(Conversation::DepartmentId))
                    .col(string(Conversation::Status))
                    .col(uuid_null(Conversation::AssignedAgentId))
                    .col(big_integer(Conversation::LastSeq).default(0))
                    .col(timestamp_with_time_zone(Conversation::CreatedAt))
                    .col(timestamp_with_time_zone(Conversation::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Conversation::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversation::Table, Conversation::VisitorId)
                            .to(Visitor::Table, Visitor::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "conversation_workspace_status",
                vec![Conversation::WorkspaceId, Conversation::Status],
            ),
            ("conversation_visitor", vec![Conversation::VisitorId]),
            ("conversation_agent", vec![Conversation::AssignedAgentId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Conversation::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Message::Table)
                    .col(big_pk_auto(Message::Id))
                    .col(uuid(Message::ConversationId))
                    .col(big_integer(Message::Seq))
                    .col(string(Message::SenderKind))
                    .col(string(Message::SenderId))
                    .col(string(Message::ClientMsgId))
                    .col(text(Message::Text))
                    .col(timestamp_with_time_zone(Message::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Message::Table, Message::ConversationId)
                            .to(Conversation::Table, Conversation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Ordering: one message per (conversation, seq).
        manager
            .create_index(
                Index::create()
                    .name("message_conversation_seq")
                    .table(Message::Table)
                    .col(Message::ConversationId)
                    .col(Message::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Idempotency: a retried send finds the original.
        manager
            .create_index(
                Index::create()
                    .name("message_conversation_sender_client_msg")
                    .table(Message::Table)
                    .col(Message::ConversationId)
                    .col(Message::SenderId)
                    .col(Message::ClientMsgId)
                    .unique()
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
            Message::Table.into_iden(),
            Conversation::Table.into_iden(),
            Visitor::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
