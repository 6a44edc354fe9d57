//! One socket's claim that its agent is present, valid until `expires_at`.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "presence_lease")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: String,
    pub agent_id: Uuid,
    pub workspace_id: Uuid,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
