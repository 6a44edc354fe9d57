//! Failed login counters for throttling and lockout.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum LoginAttempt {
    Table,
    Email,
    Failures,
    WindowStartedAt,
    LockedUntil,
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
                    .table(LoginAttempt::Table)
                    .col(string(LoginAttempt::Email).primary_key())
                    .col(integer(LoginAttempt::Failures))
                    .col(timestamp_with_time_zone(LoginAttempt::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(LoginAttempt::LockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginAttempt::Table).to_owned())
            .await
    }
}
