//! Transfers: an assignment remembers the agent it was taken over from, so that confirming it
//! with conversation-history (now or on a retry) is a transfer, not a first assignment.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RoutingAssignment {
    Table,
    TransferredFrom,
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
            .alter_table(
                Table::alter()
                    .table(RoutingAssignment::Table)
                    .add_column(uuid_null(RoutingAssignment::TransferredFrom))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RoutingAssignment::Table)
                    .drop_column(RoutingAssignment::TransferredFrom)
                    .to_owned(),
            )
            .await
    }
}
