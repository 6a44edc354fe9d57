//! A conversation waiting for an agent.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_queue_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    pub workspace_id: Uuid,
    pub department_id: Option<Uuid>,
    /// When the visitor started waiting; the queue is served oldest first within a priority.
    pub enqueued_at: DateTimeUtc,
    /// Higher is served first.
    pub priority: i32,
    pub visitor_id: Option<Uuid>,
    /// When routing stored the entry (null for entries older than this column).
    pub queued_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
