//! One message of a conversation, at its `seq`.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: Uuid,
    pub seq: i64,
    /// `visitor`, `agent` or `system`.
    pub sender_kind: String,
    pub sender_id: String,
    pub client_msg_id: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub created_at: DateTimeUtc,
    /// Sender's display name at the time of sending.
    pub sender_name: String,
}

impl ActiveModelBehavior for ActiveModel {}
