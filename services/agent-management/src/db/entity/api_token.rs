//! An API token of a workspace: only its SHA-256 is stored; the token is shown once.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// Comma-separated, sorted: `admin`, `read`, `write`.
    pub scopes: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The token's first characters, so people can tell tokens apart.
    pub prefix: String,
    /// Requests per minute this token may make (per gateway).
    pub rate_per_minute: i32,
    /// The admin who created it.
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
