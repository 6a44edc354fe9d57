//! Routing settings of departments (strategy, stickiness, required skills) and agents' skills
//! and disabled flag. Lists are stored as JSON arrays of strings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Department {
    Table,
    Strategy,
    StickyWindowSecs,
    RequiredSkills,
}

#[derive(DeriveIden)]
enum Agent {
    Table,
    Skills,
    Disabled,
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
        let columns = [
            (
                Department::Table.into_iden(),
                string(Department::Strategy)
                    .default("least_loaded")
                    .to_owned(),
            ),
            (
                Department::Table.into_iden(),
                integer(Department::StickyWindowSecs).default(0).to_owned(),
            ),
            (
                Department::Table.into_iden(),
                text(Department::RequiredSkills).default("[]").to_owned(),
            ),
            (
                Agent::Table.into_iden(),
                text(Agent::Skills).default("[]").to_owned(),
            ),
            (
                Agent::Table.into_iden(),
                boolean(Agent::Disabled).default(false).to_owned(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Agent::Table.into_iden(), Agent::Disabled.into_iden()),
            (Agent::Table.into_iden(), Agent::Skills.into_iden()),
            (
                Department::Table.into_iden(),
                Department::RequiredSkills.into_iden(),
            ),
            (
                Department::Table.into_iden(),
                Department::StickyWindowSecs.into_iden(),
            ),
            (
                Department::Table.into_iden(),
                Department::Strategy.into_iden(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
