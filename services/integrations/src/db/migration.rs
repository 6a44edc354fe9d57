//! Migrations of integrations, recorded in `seaql_migrations_integrations`.

mod m20261129_000001_create_webhook_tables;
mod m20261129_000002_event_feed;

use sea_orm_migration::prelude::*;

/// Applies this service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_webhook_tables::Migration),
            Box::new(m20261129_000002_event_feed::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "seaql_migrations_integrations".into_iden()
    }
}
