//! Persistence of routing: queue entries, assignments and the (so far quiet) outbox.

pub mod entity;
pub mod migration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use switchboard_platform::outbox::Outbox;

/// This service's outbox.
pub const OUTBOX: Outbox = Outbox::new("routing_outbox");

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    migration::Migrator::up(db, None).await
}
