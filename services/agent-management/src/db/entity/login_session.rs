//! A login session; the token itself is never stored, only its SHA-256.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub agent_id: Uuid,
    pub workspace_id: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Where the session was opened from.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
