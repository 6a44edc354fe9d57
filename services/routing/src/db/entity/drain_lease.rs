//! Who is walking a workspace's queue right now, and whether another drain was asked for
//! meanwhile.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_drain")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workspace_id: Uuid,
    pub holder: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub pending: bool,
}

impl ActiveModelBehavior for ActiveModel {}
