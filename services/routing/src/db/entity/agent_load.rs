//! An agent's open assignment count, the row every reservation locks.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_agent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: Uuid,
    pub workspace_id: Uuid,
    /// Open assignments; changed only together with `routing_assignment` rows.
    pub open_count: i32,
    pub last_assigned_at: Option<DateTimeUtc>,
    pub last_released_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
