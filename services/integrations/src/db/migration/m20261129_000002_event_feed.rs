//! The replayable event feed and its trim horizon.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum IntegrationsEvent {
    Table,
    Id,
    WorkspaceId,
    EventId,
    EventType,
    ConversationId,
    Payload,
    OccurredAt,
}

#[derive(DeriveIden)]
enum IntegrationsEventHorizon {
    Table,
    Id,
    PurgedThrough,
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
                    .table(IntegrationsEvent::Table)
                    .col(big_pk_auto(IntegrationsEvent::Id))
                    .col(uuid(IntegrationsEvent::WorkspaceId))
                    .col(string_uniq(IntegrationsEvent::EventId))
                    .col(string(IntegrationsEvent::EventType))
                    .col(string(IntegrationsEvent::ConversationId))
                    .col(text(IntegrationsEvent::Payload))
                    .col(timestamp_with_time_zone(IntegrationsEvent::OccurredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_event_feed")
                    .table(IntegrationsEvent::Table)
                    .col(IntegrationsEvent::WorkspaceId)
                    .col(IntegrationsEvent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IntegrationsEventHorizon::Table)
                    .col(integer(IntegrationsEventHorizon::Id).primary_key())
                    .col(big_integer(IntegrationsEventHorizon::PurgedThrough))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IntegrationsEventHorizon::Table.into_iden(),
            IntegrationsEvent::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
