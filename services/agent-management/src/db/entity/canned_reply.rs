//! A prepared answer, shared by the workspace or personal to one agent.

use sea_orm::entity::prelude::*;

/// `scope` of replies shared by the whole workspace.
pub const WORKSPACE_SCOPE: &str = "workspace";

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "canned_reply")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// [`WORKSPACE_SCOPE`] or the owning agent's id.
    pub scope: String,
    pub shortcut: String,
    pub text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
