//! The outbox keeps the W3C trace context of the change, so consumers continue its trace.

use crate::db::OUTBOX;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(OUTBOX.add_trace_parent()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new(OUTBOX.table()))
                    .drop_column(Alias::new("trace_parent"))
                    .to_owned(),
            )
            .await
    }
}
