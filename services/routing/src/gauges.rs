//! Queue gauges: how many conversations wait, and for how long, in all and per department.
//!
//! Measured from the database by the sweep (one grouped query), so every routing replica reports
//! the same values; dashboards take `max` across replicas, not `sum`. A department whose queue
//! emptied is reported as 0 once rather than left at its last value.

use crate::RoutingResult;
use crate::db::entity::queue_entry;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QuerySelect};
use std::collections::HashSet;
use std::sync::Mutex;
use uuid::Uuid;

/// Label of conversations that wait for no department in particular.
const NO_DEPARTMENT: &str = "none";

/// The departments reported last time, so that emptied queues drop to zero.
#[derive(Debug, Default)]
pub struct QueueGauges {
    reported: Mutex<HashSet<String>>,
}

#[derive(Debug, FromQueryResult)]
struct DepartmentQueue {
    department_id: Option<Uuid>,
    length: i64,
    oldest: Option<DateTime<Utc>>,
}

impl QueueGauges {
    /// Measures the queues and sets `switchboard_routing_queue_length`,
    /// `switchboard_routing_oldest_wait_seconds` and their per-department twins.
    pub async fn record(&self, db: &DatabaseConnection) -> RoutingResult<()> {
        let queues = queue_entry::Entity::find()
            .select_only()
            .column(queue_entry::Column::DepartmentId)
            .column_as(queue_entry::Column::ConversationId.count(), "length")
            .column_as(queue_entry::Column::EnqueuedAt.min(), "oldest")
            .group_by(queue_entry::Column::DepartmentId)
            .into_model::<DepartmentQueue>()
            .all(db)
            .await?;
        let now = Utc::now();
        let waited = |since: Option<DateTime<Utc>>| {
            since
                .and_then(|since| (now - since).to_std().ok())
                .unwrap_or_default()
                .as_secs_f64()
        };
        let mut seen = HashSet::new();
        for queue in &queues {
            let department = queue
                .department_id
                .map_or_else(|| NO_DEPARTMENT.to_owned(), |id| id.to_string());
            metrics::gauge!("switchboard_routing_department_queue_length", "department" => department.clone())
                .set(queue.length as f64);
            metrics::gauge!("switchboard_routing_department_oldest_wait_seconds", "department" => department.clone())
                .set(waited(queue.oldest));
            seen.insert(department);
        }
        let mut reported = self
            .reported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for gone in reported.difference(&seen) {
            metrics::gauge!("switchboard_routing_department_queue_length", "department" => gone.clone())
                .set(0.0);
            metrics::gauge!("switchboard_routing_department_oldest_wait_seconds", "department" => gone.clone())
                .set(0.0);
        }
        *reported = seen;
        let length: i64 = queues.iter().map(|queue| queue.length).sum();
        let oldest = queues.iter().filter_map(|queue| queue.oldest).min();
        metrics::gauge!("switchboard_routing_queue_length").set(length as f64);
        metrics::gauge!("switchboard_routing_oldest_wait_seconds").set(waited(oldest));
        Ok(())
    }
}
