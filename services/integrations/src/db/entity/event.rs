//! A workspace's event feed: every event integrations receive, kept for the retention window.
//! The auto-increment `id` is the feed's cursor.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: Uuid,
    /// The bus event; unique, so a redelivered event is kept once.
    pub event_id: String,
    pub event_type: String,
    pub conversation_id: String,
    /// The Standard Webhooks JSON body.
    pub payload: String,
    pub occurred_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
