//! How far one participant (visitor or agent) has read one conversation.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_read")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    /// `visitor` or `agent`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub reader_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub reader_id: String,
    pub last_read_seq: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
