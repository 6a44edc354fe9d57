//! Migrations of agent management, recorded in `seaql_migrations_agents`.

mod m20261125_000001_create_agent_tables;
mod m20261125_000002_routing_settings_and_agent_admin;
mod m20261125_000003_presence_leases;
mod m20261125_000004_canned_replies;
mod m20261125_000005_business_hours;
mod m20261125_000006_fallback_department;
mod m20261125_000007_outbox_trace_parent;
mod m20261129_000008_login_attempts;
mod m20261129_000009_audit_log;
mod m20261129_000010_api_tokens;
mod m20261129_000011_sessions_and_two_factor;

use sea_orm_migration::prelude::*;

/// Applies this service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_agent_tables::Migration),
            Box::new(m20261125_000002_routing_settings_and_agent_admin::Migration),
            Box::new(m20261125_000003_presence_leases::Migration),
            Box::new(m20261125_000004_canned_replies::Migration),
            Box::new(m20261125_000005_business_hours::Migration),
            Box::new(m20261125_000006_fallback_department::Migration),
            Box::new(m20261125_000007_outbox_trace_parent::Migration),
            Box::new(m20261129_000008_login_attempts::Migration),
            Box::new(m20261129_000009_audit_log::Migration),
            Box::new(m20261129_000010_api_tokens::Migration),
            Box::new(m20261129_000011_sessions_and_two_factor::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "seaql_migrations_agents".into_iden()
    }
}
