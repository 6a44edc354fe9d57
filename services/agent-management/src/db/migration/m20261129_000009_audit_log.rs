//! The audit log of admin and security actions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    WorkspaceId,
    OccurredAt,
    ActorId,
    Action,
    TargetKind,
    TargetId,
    Outcome,
    ClientIp,
    UserAgent,
    Detail,
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
                    .table(AuditEvent::Table)
                    .col(big_pk_auto(AuditEvent::Id))
                    .col(uuid(AuditEvent::WorkspaceId))
                    .col(timestamp_with_time_zone(AuditEvent::OccurredAt))
                    .col(string_null(AuditEvent::ActorId))
                    .col(string(AuditEvent::Action))
                    .col(string_null(AuditEvent::TargetKind))
                    .col(string_null(AuditEvent::TargetId))
                    .col(string(AuditEvent::Outcome))
                    .col(string_null(AuditEvent::ClientIp))
                    .col(string_null(AuditEvent::UserAgent))
                    .col(text(AuditEvent::Detail))
                    .to_owned(),
            )
            .await?;
        // Newest first within a workspace: the page order of the audit API.
        manager
            .create_index(
                Index::create()
                    .name("audit_event_workspace_id")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::WorkspaceId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await
    }
}
