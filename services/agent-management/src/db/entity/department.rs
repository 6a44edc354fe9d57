//! A team inside a workspace (sales, support, …) that conversations can be routed to.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "department")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// `least_loaded`, `round_robin` or `longest_idle`.
    pub strategy: String,
    /// Seconds a returning visitor goes back to its last agent; 0 = off.
    pub sticky_window_secs: i32,
    /// JSON array of skills every agent taking this department's conversations must have.
    pub required_skills: String,
    /// JSON [`crate::hours::BusinessHours`]; null = always open.
    pub business_hours: Option<String>,
    /// Where conversations go when their agent leaves; null = this department.
    pub fallback_department_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
