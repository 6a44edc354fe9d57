//! A conversation between one visitor and the workspace's agents.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub visitor_id: Uuid,
    pub department_id: Option<Uuid>,
    /// `queued`, `assigned` or `closed`.
    pub status: String,
    pub assigned_agent_id: Option<Uuid>,
    /// Highest `seq` handed out; the next message gets `last_seq + 1`.
    pub last_seq: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// JSON array of tags.
    pub tags: String,
    /// Opened while nobody could answer.
    pub offline: bool,
    /// Where the visitor asked to be answered.
    pub contact_email: Option<String>,
    /// The agent asked for a rating when closing.
    pub rating_requested: bool,
    /// 1 to 5, once the visitor rated.
    pub rating_score: Option<i32>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
