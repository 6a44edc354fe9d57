//! Persistence of integrations: webhook endpoints, their deliveries and workspace settings.
//!
//! Tables are prefixed `integrations_` so the service can share one PostgreSQL database with
//! the others; the migration ledger is `seaql_migrations_integrations`.

pub mod entity;
pub mod migration;

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    migration::Migrator::up(db, None).await
}
