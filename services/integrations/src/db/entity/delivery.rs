//! One event for one endpoint, with its attempts. The auto-increment `id` is the order in which
//! events were accepted; deliveries of one endpoint with the same `ordering_key` (the
//! conversation) are attempted strictly in that order.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: Uuid,
    pub workspace_id: Uuid,
    /// The bus event this delivery carries; unique per endpoint (redeliveries add nothing).
    pub event_id: String,
    /// `webhook-id` header: the same for every attempt and replay.
    pub message_id: String,
    pub event_type: String,
    /// The conversation; deliveries with the same key go out in `id` order.
    pub ordering_key: String,
    /// The JSON body.
    pub payload: String,
    /// W3C `traceparent` of the change behind the event.
    pub trace_parent: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub last_status_code: i32,
    pub last_error: String,
    pub next_attempt_at: DateTimeUtc,
    /// Set while one worker sends it; expired leases are taken over.
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
