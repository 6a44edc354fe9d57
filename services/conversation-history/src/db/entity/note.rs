//! An internal note on a conversation (agents only; not part of the message `seq`).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_note")]
pub struct Model {
    /// UUIDv7: orders notes by creation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub workspace_id: Uuid,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
