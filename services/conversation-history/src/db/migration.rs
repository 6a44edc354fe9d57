//! Migrations of conversation history, recorded in `seaql_migrations_history`.

mod m20261125_000001_create_history_tables;
mod m20261125_000002_visitor_tokens_and_sender_names;
mod m20261125_000003_notes;
mod m20261125_000004_conversation_tags;
mod m20261125_000005_offline_messages;
mod m20261125_000006_ratings;
mod m20261125_000007_read_marks;
mod m20261125_000008_message_search;
mod m20261125_000009_outbox_trace_parent;
mod m20261129_000010_retention;

use sea_orm_migration::prelude::*;

/// Applies this service's migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_history_tables::Migration),
            Box::new(m20261125_000002_visitor_tokens_and_sender_names::Migration),
            Box::new(m20261125_000003_notes::Migration),
            Box::new(m20261125_000004_conversation_tags::Migration),
            Box::new(m20261125_000005_offline_messages::Migration),
            Box::new(m20261125_000006_ratings::Migration),
            Box::new(m20261125_000007_read_marks::Migration),
            Box::new(m20261125_000008_message_search::Migration),
            Box::new(m20261125_000009_outbox_trace_parent::Migration),
            Box::new(m20261129_000010_retention::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "seaql_migrations_history".into_iden()
    }
}
