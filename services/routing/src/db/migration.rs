//! Migrations of routing, recorded in `seaql_migrations_routing`.

mod m20261125_000001_create_routing_tables;
mod m20261125_000002_assignment_history_and_capacity;
mod m20261125_000003_transfers;
mod m20261125_000004_outbox_trace_parent;

use sea_orm_migration::prelude::*;

/// Applies this service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_routing_tables::Migration),
            Box::new(m20261125_000002_assignment_history_and_capacity::Migration),
            Box::new(m20261125_000003_transfers::Migration),
            Box::new(m20261125_000004_outbox_trace_parent::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "seaql_migrations_routing".into_iden()
    }
}
