//! A website visitor, anonymous unless the site tells us who it is.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visitor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Identity in the customer's own system, when known.
    pub external_id: Option<String>,
    pub display_name: String,
    /// JSON object of strings: page URL, user agent, …
    pub metadata: Json,
    pub created_at: DateTimeUtc,
    /// SHA-256 of the browser's visitor token.
    pub token_hash: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
