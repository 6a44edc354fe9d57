//! Where sessions were opened from (so people can tell them apart and revoke them), and TOTP
//! two-factor secrets.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum LoginSession {
    Table,
    ClientIp,
    UserAgent,
}

#[derive(DeriveIden)]
enum AgentTotp {
    Table,
    AgentId,
    Secret,
    EnabledAt,
    LastStep,
}

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            string_null(LoginSession::ClientIp),
            string_null(LoginSession::UserAgent),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(LoginSession::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AgentTotp::Table)
                    .col(pk_uuid(AgentTotp::AgentId))
                    .col(string(AgentTotp::Secret))
                    .col(timestamp_with_time_zone_null(AgentTotp::EnabledAt))
                    .col(big_integer_null(AgentTotp::LastStep))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgentTotp::Table).to_owned())
            .await?;
        for column in [LoginSession::ClientIp, LoginSession::UserAgent] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LoginSession::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
