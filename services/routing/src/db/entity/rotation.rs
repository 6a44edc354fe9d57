//! Last agent served in a round-robin scope (a department, or a workspace for conversations
//! without one).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_rotation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope_id: Uuid,
    pub last_agent_id: Uuid,
}

impl ActiveModelBehavior for ActiveModel {}
