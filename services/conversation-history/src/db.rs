//! Persistence of conversation history: entities, migrations and the outbox table.

pub mod entity;
pub mod migration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use switchboard_platform::outbox::Outbox;

/// This service's outbox.
pub const OUTBOX: Outbox = Outbox::new("history_outbox");

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    migration::Migrator::up(db, None).await
}
