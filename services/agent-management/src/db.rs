//! Persistence of agent management: entities, migrations and the outbox table.
//!
//! Tables are named without a service prefix except the outbox (`agents_outbox`) and the
//! migration ledger (`seaql_migrations_agents`), which would otherwise collide with other
//! services sharing one PostgreSQL database.

pub mod entity;
pub mod migration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use switchboard_platform::outbox::Outbox;

/// This service's outbox.
pub const OUTBOX: Outbox = Outbox::new("agents_outbox");

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    migration::Migrator::up(db, None).await
}
