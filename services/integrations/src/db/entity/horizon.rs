//! How far the event feed has been trimmed: cursors at or below `purged_through` point at
//! events that are gone (one row, id 1).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations_event_horizon")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub purged_through: i64,
}

impl ActiveModelBehavior for ActiveModel {}
