//! One entry of a workspace's audit log: who did what to what, when, from where, with what outcome.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: Uuid,
    pub occurred_at: DateTimeUtc,
    /// Agent (or API token) id; none when nobody was signed in (a failed login).
    pub actor_id: Option<String>,
    /// Dotted name, e.g. `agent.create`, `auth.login_failed`, `visitor.erase`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// `succeeded`, `failed`, `denied`, or `requested` while a cross-service action runs.
    pub outcome: String,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// JSON object of string values: what changed (never secrets or passwords).
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

impl ActiveModelBehavior for ActiveModel {}
