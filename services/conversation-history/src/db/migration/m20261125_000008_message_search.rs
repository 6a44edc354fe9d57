//! Full-text search over message text: a generated `tsvector` with a GIN index on PostgreSQL,
//! an FTS5 table with the trigram tokenizer (substring matches, Chinese included) kept in step
//! by triggers on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE message ADD COLUMN search tsvector \
     GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
    "CREATE INDEX message_search ON message USING GIN (search)",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE message_fts USING fts5(text, content='message', content_rowid='id', \
     tokenize='trigram')",
    "INSERT INTO message_fts (rowid, text) SELECT id, text FROM message",
    "CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN \
     INSERT INTO message_fts (rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN \
     INSERT INTO message_fts (message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON message BEGIN \
     INSERT INTO message_fts (message_fts, rowid, text) VALUES ('delete', old.id, old.text); \
     INSERT INTO message_fts (rowid, text) VALUES (new.id, new.text); END",
];

// The trait's async_trait signature elides SchemaManager's lifetime; spelling it breaks the match.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_UP,
            DatabaseBackend::Sqlite => SQLITE_UP,
            other => {
                return Err(DbErr::Migration(format!(
                    "message search is not implemented for {other:?}"
                )));
            }
        };
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "DROP INDEX message_search",
                "ALTER TABLE message DROP COLUMN search",
            ],
            _ => &[
                "DROP TRIGGER message_fts_update",
                "DROP TRIGGER message_fts_delete",
                "DROP TRIGGER message_fts_insert",
                "DROP TABLE message_fts",
            ],
        };
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        Ok(())
    }
}
