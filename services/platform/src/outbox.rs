//! The transactional outbox: an event is written in the same database transaction as the change
//! it describes, and a relay publishes it afterwards.
//!
//! This is how "committed" and "published" stay in step: a service never publishes directly.
//! [`Outbox::enqueue`] runs inside the caller's transaction; after the commit the caller pokes
//! the relay ([`OutboxNotifier::notify`]), which publishes pending rows in id order with
//! `Nats-Msg-Id` = the row's `event_id` and deletes each row once the bus accepted it. If the bus
//! is down the relay retries with backoff, keeping order; if the process dies, the rows are still
//! there at the next start. A row published twice (crash between publish and delete, or two
//! replicas) is deduplicated by the broker and by idempotent consumers.
//!
//! Each service has its own outbox table (`<service>_outbox`), so services can share one
//! PostgreSQL database without sharing tables.

use crate::bus::{Event, SharedBus};
use bytes::Bytes;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Order, Query, Table, TableAlterStatement, TableCreateStatement,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use sea_orm_migration::schema::{
    big_pk_auto, blob, integer, string, string_null, string_uniq, timestamp_with_time_zone,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Rows the relay reads per batch.
const BATCH: u64 = 256;
/// Longest wait between two retries while the bus is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One service's outbox table.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    table: &'static str,
}

/// A pending outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Insertion order.
    pub id: i64,
    /// Stable event id, used as `Nats-Msg-Id`.
    pub event_id: String,
    /// Subject to publish on.
    pub subject: String,
    /// Encoded event.
    pub payload: Vec<u8>,
    /// When the change it describes was committed.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// W3C `traceparent` of the request that made the change.
    pub trace_parent: Option<String>,
}

impl Outbox {
    /// Returns the outbox stored in `table`.
    pub const fn new(table: &'static str) -> Self {
        Self { table }
    }

    /// Returns the table's name.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Returns the `CREATE TABLE` statement for a migration.
    pub fn create_table(&self) -> TableCreateStatement {
        Table::create()
            .table(Alias::new(self.table))
            .if_not_exists()
            .col(big_pk_auto(Alias::new("id")))
            .col(string_uniq(Alias::new("event_id")))
            .col(string(Alias::new("subject")))
            .col(blob(Alias::new("payload")))
            .col(integer(Alias::new("attempts")).default(0))
            .col(timestamp_with_time_zone(Alias::new("created_at")))
            .to_owned()
    }

    /// Returns the `ALTER TABLE` statement adding `trace_parent` (the W3C trace context of the
    /// change) to the table [`Self::create_table`] made; each service runs it in a migration of
    /// its own, after the one creating the table.
    pub fn add_trace_parent(&self) -> TableAlterStatement {
        Table::alter()
            .table(Alias::new(self.table))
            .add_column(string_null(Alias::new("trace_parent")))
            .to_owned()
    }

    /// Adds an event; call inside the transaction that makes the change it describes.
    pub async fn enqueue<C: ConnectionTrait>(
        &self,
        conn: &C,
        event_id: &str,
        subject: &str,
        payload: Vec<u8>,
    ) -> Result<(), DbErr> {
        let insert = Query::insert()
            .into_table(Alias::new(self.table))
            .columns([
                Alias::new("event_id"),
                Alias::new("subject"),
                Alias::new("payload"),
                Alias::new("attempts"),
                Alias::new("created_at"),
                Alias::new("trace_parent"),
            ])
            .values([
                event_id.into(),
                subject.into(),
                payload.into(),
                0i32.into(),
                chrono::Utc::now().into(),
                crate::bus::current_trace_parent().into(),
            ])
            .map_err(|error| DbErr::Custom(error.to_string()))?
            .to_owned();
        conn.execute(&insert).await?;
        Ok(())
    }

    /// Returns up to `limit` pending rows, oldest first.
    pub async fn pending<C: ConnectionTrait>(
        &self,
        conn: &C,
        limit: u64,
    ) -> Result<Vec<OutboxRow>, DbErr> {
        let select = Query::select()
            .columns([
                Alias::new("id"),
                Alias::new("event_id"),
                Alias::new("subject"),
                Alias::new("payload"),
                Alias::new("created_at"),
                Alias::new("trace_parent"),
            ])
            .from(Alias::new(self.table))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(limit)
            .to_owned();
        conn.query_all(&select)
            .await?
            .into_iter()
            .map(|row| {
                Ok(OutboxRow {
                    id: row.try_get("", "id")?,
                    event_id: row.try_get("", "event_id")?,
                    subject: row.try_get("", "subject")?,
                    payload: row.try_get("", "payload")?,
                    created_at: row.try_get("", "created_at")?,
                    trace_parent: row.try_get("", "trace_parent")?,
                })
            })
            .collect()
    }

    /// Deletes the rows `ids` (published ones) in one statement.
    async fn remove<C: ConnectionTrait>(&self, conn: &C, ids: &[i64]) -> Result<(), DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        let delete = Query::delete()
            .from_table(Alias::new(self.table))
            .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
            .to_owned();
        conn.execute(&delete).await?;
        Ok(())
    }

    async fn record_attempt<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<(), DbErr> {
        let update = Query::update()
            .table(Alias::new(self.table))
            .value(
                Alias::new("attempts"),
                Expr::col(Alias::new("attempts")).add(1),
            )
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        conn.execute(&update).await?;
        Ok(())
    }
}

/// Wakes the relay after a commit so events leave without waiting for the poll interval.
#[derive(Debug, Clone, Default)]
pub struct OutboxNotifier(Arc<Notify>);

impl OutboxNotifier {
    /// Tells the relay that new rows were committed.
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// Publishes committed outbox rows to the bus.
#[derive(Debug)]
pub struct Relay {
    db: DatabaseConnection,
    outbox: Outbox,
    bus: SharedBus,
    notifier: OutboxNotifier,
    poll_interval: Duration,
}

impl Relay {
    /// Returns a relay for `outbox` in `db`, woken by `notifier`.
    pub fn new(
        db: DatabaseConnection,
        outbox: Outbox,
        bus: SharedBus,
        notifier: OutboxNotifier,
    ) -> Self {
        Self {
            db,
            outbox,
            bus,
            notifier,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Publishes until `shutdown`; rows left over are published by the next start.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.publish_batch().await {
                Ok(0) => {
                    backoff = Duration::from_millis(100);
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = self.notifier.0.notified() => {}
                        () = tokio::time::sleep(self.poll_interval) => {}
                    }
                }
                Ok(_) => backoff = Duration::from_millis(100),
                Err(error) => {
                    tracing::warn!(table = self.outbox.table, %error, ?backoff, "outbox relay cannot publish, retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Publishes one batch in order (all in flight at once, see [`EventBus::publish_all`]),
    /// then deletes the rows the bus accepted in one statement; stops at the first failure so
    /// order is kept.
    ///
    /// [`EventBus::publish_all`]: crate::bus::EventBus::publish_all
    async fn publish_batch(&self) -> Result<usize, RelayError> {
        let rows = self.outbox.pending(&self.db, BATCH).await?;
        let events = rows
            .iter()
            .map(|row| Event {
                subject: row.subject.clone(),
                msg_id: row.event_id.clone(),
                payload: Bytes::from(row.payload.clone()),
                trace_parent: row.trace_parent.clone(),
            })
            .collect();
        let (published, failure) = self.bus.publish_all(events).await;
        let done = &rows[..published];
        let ids: Vec<i64> = done.iter().map(|row| row.id).collect();
        self.outbox.remove(&self.db, &ids).await?;
        let now = chrono::Utc::now();
        for row in done {
            // Commit to published: how far the bus lags behind the database.
            let lag = (now - row.created_at).to_std().unwrap_or_default();
            metrics::histogram!("switchboard_outbox_lag_seconds", "table" => self.outbox.table)
                .record(lag.as_secs_f64());
        }
        metrics::counter!("switchboard_outbox_published_total", "table" => self.outbox.table)
            .increment(published as u64);
        if let Some(error) = failure {
            if let Some(stuck) = rows.get(published) {
                // Best effort: the attempt count is for operators, not for correctness.
                let _ = self.outbox.record_attempt(&self.db, stuck.id).await;
            }
            metrics::counter!("switchboard_outbox_publish_failures_total", "table" => self.outbox.table)
                .increment(1);
            return Err(error.into());
        }
        Ok(rows.len())
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Bus(#[from] crate::bus::BusError),
    #[error(transparent)]
    Db(#[from] DbErr),
}
