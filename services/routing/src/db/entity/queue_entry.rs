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
    pub enqueued_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
