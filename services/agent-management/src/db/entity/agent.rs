//! A person who answers conversations (role `agent`) or also administers the workspace (`admin`).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// Lowercased; unique across workspaces because login is by email alone.
    #[sea_orm(unique)]
    pub email: String,
    /// `admin` or `agent`.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Conversations this agent may hold at once.
    pub max_concurrent: i32,
    /// `online`, `away` or `offline`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// JSON array of skills and languages.
    pub skills: String,
    /// Disabled agents cannot log in and receive no conversations.
    pub disabled: bool,
}

impl ActiveModelBehavior for ActiveModel {}
