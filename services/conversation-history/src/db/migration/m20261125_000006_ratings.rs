//! Customer satisfaction: a rating request when closing, and the visitor's rating.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Conversation {
    Table,
    RatingRequested,
    RatingScore,
    RatingComment,
    RatedAt,
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
        for column in [
            boolean(Conversation::RatingRequested)
                .default(false)
                .to_owned(),
            integer_null(Conversation::RatingScore),
            text_null(Conversation::RatingComment),
            timestamp_with_time_zone_null(Conversation::RatedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversation::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Conversation::RatedAt,
            Conversation::RatingComment,
            Conversation::RatingScore,
            Conversation::RatingRequested,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversation::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
