//! A tenant: one company using Switchboard.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspace")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Public key embedded in the visitor widget.
    #[sea_orm(unique)]
    pub site_key: String,
    /// Shared secret for server-side integrations; never shown after creation.
    pub secret: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
