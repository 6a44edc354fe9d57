//! Browser visitor tokens (stored hashed) and the sender's name on each message.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Visitor {
    Table,
    TokenHash,
}

#[derive(DeriveIden)]
enum Message {
    Table,
    SenderName,
}

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite allows one change per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Visitor::Table)
                    .add_column(string_null(Visitor::TokenHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("visitor_token_hash")
                    .table(Visitor::Table)
                    .col(Visitor::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Message::Table)
                    .add_column(string(Message::SenderName).default(""))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Message::Table)
                    .drop_column(Message::SenderName)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("visitor_token_hash")
                    .table(Visitor::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Visitor::Table)
                    .drop_column(Visitor::TokenHash)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
