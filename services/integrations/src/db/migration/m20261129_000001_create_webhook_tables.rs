//! Webhook endpoints, deliveries and workspace settings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum IntegrationsWebhook {
    Table,
    Id,
    WorkspaceId,
    Url,
    Events,
    Description,
    Enabled,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IntegrationsDelivery {
    Table,
    Id,
    WebhookId,
    WorkspaceId,
    EventId,
    MessageId,
    EventType,
    OrderingKey,
    Payload,
    TraceParent,
    Status,
    Attempts,
    LastStatusCode,
    LastError,
    NextAttemptAt,
    LockedUntil,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum IntegrationsSettings {
    Table,
    WorkspaceId,
    AllowPrivateNetwork,
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
                    .table(IntegrationsWebhook::Table)
                    .col(pk_uuid(IntegrationsWebhook::Id))
                    .col(uuid(IntegrationsWebhook::WorkspaceId))
                    .col(text(IntegrationsWebhook::Url))
                    .col(text(IntegrationsWebhook::Events))
                    .col(text(IntegrationsWebhook::Description))
                    .col(boolean(IntegrationsWebhook::Enabled))
                    .col(string(IntegrationsWebhook::Secret))
                    .col(string_null(IntegrationsWebhook::PreviousSecret))
                    .col(timestamp_with_time_zone_null(
                        IntegrationsWebhook::PreviousSecretExpiresAt,
                    ))
                    .col(timestamp_with_time_zone(IntegrationsWebhook::CreatedAt))
                    .col(timestamp_with_time_zone(IntegrationsWebhook::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_webhook_workspace")
                    .table(IntegrationsWebhook::Table)
                    .col(IntegrationsWebhook::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IntegrationsDelivery::Table)
                    .col(big_pk_auto(IntegrationsDelivery::Id))
                    .col(uuid(IntegrationsDelivery::WebhookId))
                    .col(uuid(IntegrationsDelivery::WorkspaceId))
                    .col(string(IntegrationsDelivery::EventId))
                    .col(string(IntegrationsDelivery::MessageId))
                    .col(string(IntegrationsDelivery::EventType))
                    .col(string(IntegrationsDelivery::OrderingKey))
                    .col(text(IntegrationsDelivery::Payload))
                    .col(string_null(IntegrationsDelivery::TraceParent))
                    .col(string(IntegrationsDelivery::Status))
                    .col(integer(IntegrationsDelivery::Attempts))
                    .col(integer(IntegrationsDelivery::LastStatusCode))
                    .col(text(IntegrationsDelivery::LastError))
                    .col(timestamp_with_time_zone(
                        IntegrationsDelivery::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        IntegrationsDelivery::LockedUntil,
                    ))
                    .col(timestamp_with_time_zone(IntegrationsDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        IntegrationsDelivery::DeliveredAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IntegrationsDelivery::Table, IntegrationsDelivery::WebhookId)
                            .to(IntegrationsWebhook::Table, IntegrationsWebhook::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "integrations_delivery_event",
                vec![
                    IntegrationsDelivery::WebhookId,
                    IntegrationsDelivery::EventId,
                ],
                true,
            ),
            (
                "integrations_delivery_due",
                vec![
                    IntegrationsDelivery::Status,
                    IntegrationsDelivery::NextAttemptAt,
                ],
                false,
            ),
            (
                "integrations_delivery_order",
                vec![
                    IntegrationsDelivery::WebhookId,
                    IntegrationsDelivery::OrderingKey,
                    IntegrationsDelivery::Id,
                ],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(IntegrationsDelivery::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(IntegrationsSettings::Table)
                    .col(pk_uuid(IntegrationsSettings::WorkspaceId))
                    .col(boolean(IntegrationsSettings::AllowPrivateNetwork))
                    .col(timestamp_with_time_zone(IntegrationsSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IntegrationsSettings::Table.into_iden(),
            IntegrationsDelivery::Table.into_iden(),
            IntegrationsWebhook::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
