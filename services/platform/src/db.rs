//! Opening a service's database: PostgreSQL (distributed mode) or a SQLite file (embedded mode).
//!
//! SQLite is opened for durability first: WAL journal, `synchronous=FULL` (a commit is on disk
//! before we acknowledge anything), foreign keys on and a busy timeout so that concurrent writers
//! wait for the single write lock instead of failing.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// How long a SQLite writer waits for the write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` (`postgres://…` or `sqlite://path?mode=rwc`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if is_sqlite(url) {
        if let Some(parent) = sqlite_path(url).and_then(|path| path.parent().map(ToOwned::to_owned))
        {
            std::fs::create_dir_all(&parent).map_err(|error| {
                DbErr::Custom(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        options.max_connections(8).map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .create_if_missing(true)
        });
    } else {
        options.max_connections(20).min_connections(1);
    }
    Database::connect(options).await
}

/// Returns whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Returns the URL of a SQLite file, created when missing.
pub fn sqlite_file_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Returns whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_file_path() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/x/a.db?mode=rwc"),
            Some(std::path::PathBuf::from("/tmp/x/a.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert!(is_sqlite(&sqlite_file_url(std::path::Path::new(
            "/tmp/a.db"
        ))));
        assert!(!is_sqlite("postgres://localhost/test"));
    }
}
