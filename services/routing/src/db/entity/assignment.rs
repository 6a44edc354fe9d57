//! One period during which an agent held a conversation; open rows (`ended_at` null) use the
//! agent's capacity. At most one open row per conversation.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub workspace_id: Uuid,
    pub agent_id: Uuid,
    pub visitor_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// When the visitor started waiting for this assignment.
    pub waiting_since: DateTimeUtc,
    /// When the conversation entered routing's queue.
    pub queued_at: DateTimeUtc,
    pub assigned_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// `closed`, `conflict`, … once ended.
    pub end_reason: Option<String>,
    /// Whether conversation-history has recorded this assignment.
    pub confirmed: bool,
    /// `routed`, `claimed` or `transferred`.
    pub origin: String,
    /// The agent a transfer took the conversation from.
    pub transferred_from: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
