//! The integrations tables: endpoints, the delivery queue and log, and workspace settings.
//!
//! The delivery table is both the durable queue and the log. A delivery is accepted once per
//! endpoint and event (unique key), so a redelivered bus event adds nothing. Workers take a due
//! delivery with a conditional update (a lease), which is safe with several replicas on one
//! PostgreSQL database, and a delivery is due only when no earlier delivery of the same endpoint
//! and conversation is still pending: that is what keeps each conversation in order.

use crate::db::entity::{delivery, event, horizon, settings, webhook};
use crate::payload::Outgoing;
use crate::{IntegrationsError, IntegrationsResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::time::Duration;
use uuid::Uuid;

/// Delivery states, as stored.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";

/// Access to the integrations tables.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered {
        status_code: u16,
    },
    /// Failed; try again at `retry_at`, or dead-letter when `None`.
    Failed {
        status_code: u16,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Store {
    /// Returns a store over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Returns whether `workspace_id` lets webhooks call private networks.
    pub async fn allows_private_network(&self, workspace_id: Uuid) -> IntegrationsResult<bool> {
        Ok(settings::Entity::find_by_id(workspace_id)
            .one(&self.db)
            .await?
            .is_some_and(|settings| settings.allow_private_network))
    }

    /// Stores the workspace's settings.
    pub async fn set_allow_private_network(
        &self,
        workspace_id: Uuid,
        allow: bool,
    ) -> IntegrationsResult<()> {
        settings::Entity::insert(settings::ActiveModel {
            workspace_id: Set(workspace_id),
            allow_private_network: Set(allow),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(settings::Column::WorkspaceId)
                .update_columns([
                    settings::Column::AllowPrivateNetwork,
                    settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// Stores a new endpoint with `secret`.
    pub async fn create_webhook(
        &self,
        workspace_id: Uuid,
        url: String,
        events: &[String],
        description: String,
        secret: String,
    ) -> IntegrationsResult<webhook::Model> {
        let now = Utc::now();
        Ok(webhook::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            url: Set(url),
            events: Set(events.join(",")),
            description: Set(description),
            enabled: Set(true),
            secret: Set(secret),
            previous_secret: Set(None),
            previous_secret_expires_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?)
    }

    /// Returns the workspace's endpoints, oldest first.
    pub async fn webhooks(&self, workspace_id: Uuid) -> IntegrationsResult<Vec<webhook::Model>> {
        Ok(webhook::Entity::find()
            .filter(webhook::Column::WorkspaceId.eq(workspace_id))
            .order_by_asc(webhook::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Returns one endpoint of the workspace.
    pub async fn webhook(
        &self,
        workspace_id: Uuid,
        webhook_id: Uuid,
    ) -> IntegrationsResult<webhook::Model> {
        webhook::Entity::find_by_id(webhook_id)
            .filter(webhook::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(IntegrationsError::WebhookNotFound)
    }

    /// Saves changed fields of an endpoint.
    pub async fn update_webhook(
        &self,
        current: webhook::Model,
        change: impl FnOnce(&mut webhook::ActiveModel),
    ) -> IntegrationsResult<webhook::Model> {
        let mut active: webhook::ActiveModel = current.into();
        change(&mut active);
        active.updated_at = Set(Utc::now());
        Ok(active.update(&self.db).await?)
    }

    /// Deletes an endpoint with its deliveries.
    pub async fn delete_webhook(
        &self,
        workspace_id: Uuid,
        webhook_id: Uuid,
    ) -> IntegrationsResult<()> {
        let deleted = webhook::Entity::delete_many()
            .filter(webhook::Column::Id.eq(webhook_id))
            .filter(webhook::Column::WorkspaceId.eq(workspace_id))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(IntegrationsError::WebhookNotFound);
        }
        // SQLite enforces the cascade only with foreign keys on; do it explicitly.
        delivery::Entity::delete_many()
            .filter(delivery::Column::WebhookId.eq(webhook_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Queues `event` for every enabled endpoint of the workspace that subscribed to its type;
    /// returns how many deliveries were added (0 for a redelivered event).
    pub async fn enqueue(
        &self,
        workspace_id: Uuid,
        event_id: &str,
        event: &Outgoing,
        trace_parent: Option<String>,
    ) -> IntegrationsResult<u64> {
        let endpoints = webhook::Entity::find()
            .filter(webhook::Column::WorkspaceId.eq(workspace_id))
            .filter(webhook::Column::Enabled.eq(true))
            .all(&self.db)
            .await?;
        let now = Utc::now();
        let mut added = 0;
        for endpoint in endpoints.iter().filter(|endpoint| {
            endpoint.events.is_empty()
                || endpoint
                    .events
                    .split(',')
                    .any(|wanted| wanted == event.event_type)
        }) {
            let inserted = delivery::Entity::insert(delivery::ActiveModel {
                webhook_id: Set(endpoint.id),
                workspace_id: Set(workspace_id),
                event_id: Set(event_id.to_owned()),
                message_id: Set(format!("msg_{event_id}")),
                event_type: Set(event.event_type.to_owned()),
                ordering_key: Set(event.conversation_id.clone()),
                payload: Set(event.body.clone()),
                trace_parent: Set(trace_parent.clone()),
                status: Set(PENDING.to_owned()),
                attempts: Set(0),
                last_status_code: Set(0),
                last_error: Set(String::new()),
                next_attempt_at: Set(now),
                locked_until: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([delivery::Column::WebhookId, delivery::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
            added += inserted;
        }
        Ok(added)
    }

    /// Returns up to `limit` deliveries due now whose earlier deliveries (same endpoint and
    /// conversation) are all done, oldest first.
    pub async fn due(&self, limit: u64) -> IntegrationsResult<Vec<delivery::Model>> {
        let now = Utc::now();
        let earlier = Alias::new("earlier");
        let blocked = Query::select()
            .expr(Expr::val(1))
            .from_as(delivery::Entity, earlier.clone())
            .and_where(
                Expr::col((earlier.clone(), delivery::Column::WebhookId))
                    .equals((delivery::Entity, delivery::Column::WebhookId)),
            )
            .and_where(
                Expr::col((earlier.clone(), delivery::Column::OrderingKey))
                    .equals((delivery::Entity, delivery::Column::OrderingKey)),
            )
            .and_where(Expr::col((earlier.clone(), delivery::Column::Status)).eq(PENDING))
            .and_where(
                Expr::col((earlier, delivery::Column::Id))
                    .lt(Expr::col((delivery::Entity, delivery::Column::Id))),
            )
            .to_owned();
        Ok(delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::LockedUntil.is_null())
                    .add(delivery::Column::LockedUntil.lt(now)),
            )
            .filter(Expr::exists(blocked).not())
            .order_by_asc(delivery::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Takes `delivery` for `lease`; false when another worker has it.
    pub async fn claim(
        &self,
        delivery: &delivery::Model,
        lease: Duration,
    ) -> IntegrationsResult<bool> {
        let now = Utc::now();
        let until =
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
        let claimed = delivery::Entity::update_many()
            .col_expr(delivery::Column::LockedUntil, Expr::val(until))
            .filter(delivery::Column::Id.eq(delivery.id))
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(
                Condition::any()
                    .add(delivery::Column::LockedUntil.is_null())
                    .add(delivery::Column::LockedUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Records the outcome of one attempt of a claimed delivery.
    pub async fn record(&self, id: i64, attempt: Attempt) -> IntegrationsResult<()> {
        let now = Utc::now();
        let mut update = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).add(1),
            )
            .col_expr(
                delivery::Column::LockedUntil,
                Expr::val(None::<DateTime<Utc>>),
            );
        update = match attempt {
            Attempt::Delivered { status_code } => update
                .col_expr(delivery::Column::Status, Expr::val(DELIVERED))
                .col_expr(
                    delivery::Column::LastStatusCode,
                    Expr::val(i32::from(status_code)),
                )
                .col_expr(delivery::Column::LastError, Expr::val(""))
                .col_expr(delivery::Column::DeliveredAt, Expr::val(now)),
            Attempt::Failed {
                status_code,
                error,
                retry_at,
            } => {
                let update = update
                    .col_expr(
                        delivery::Column::LastStatusCode,
                        Expr::val(i32::from(status_code)),
                    )
                    .col_expr(delivery::Column::LastError, Expr::val(error));
                match retry_at {
                    Some(at) => update.col_expr(delivery::Column::NextAttemptAt, Expr::val(at)),
                    None => update.col_expr(delivery::Column::Status, Expr::val(DEAD)),
                }
            }
        };
        update
            .filter(delivery::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Gives a claimed delivery back until `until`, without counting an attempt (its endpoint
    /// is disabled).
    pub async fn postpone(&self, id: i64, until: DateTime<Utc>) -> IntegrationsResult<()> {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::NextAttemptAt, Expr::val(until))
            .col_expr(
                delivery::Column::LockedUntil,
                Expr::val(None::<DateTime<Utc>>),
            )
            .filter(delivery::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Returns a delivery of the workspace.
    pub async fn delivery(
        &self,
        workspace_id: Uuid,
        id: i64,
    ) -> IntegrationsResult<delivery::Model> {
        delivery::Entity::find_by_id(id)
            .filter(delivery::Column::WorkspaceId.eq(workspace_id))
            .one(&self.db)
            .await?
            .ok_or(IntegrationsError::DeliveryNotFound)
    }

    /// Returns an endpoint's deliveries, newest first, older than `before` (a cursor).
    pub async fn deliveries(
        &self,
        workspace_id: Uuid,
        webhook_id: Uuid,
        status: Option<&str>,
        before: Option<i64>,
        limit: u64,
    ) -> IntegrationsResult<Vec<delivery::Model>> {
        let mut query = delivery::Entity::find()
            .filter(delivery::Column::WorkspaceId.eq(workspace_id))
            .filter(delivery::Column::WebhookId.eq(webhook_id));
        if let Some(status) = status {
            query = query.filter(delivery::Column::Status.eq(status));
        }
        if let Some(before) = before {
            query = query.filter(delivery::Column::Id.lt(before));
        }
        Ok(query
            .order_by_desc(delivery::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Sends a delivery again from its first attempt (a dead one, or one to resend).
    pub async fn replay(&self, workspace_id: Uuid, id: i64) -> IntegrationsResult<delivery::Model> {
        let current = self.delivery(workspace_id, id).await?;
        let mut active: delivery::ActiveModel = current.into();
        active.status = Set(PENDING.to_owned());
        active.attempts = Set(0);
        active.next_attempt_at = Set(Utc::now());
        active.locked_until = Set(None);
        active.delivered_at = Set(None);
        Ok(active.update(&self.db).await?)
    }

    /// Adds an event to its workspace's feed; false when it was already there.
    pub async fn record_event(
        &self,
        workspace_id: Uuid,
        event_id: &str,
        outgoing: &Outgoing,
        occurred_at: DateTime<Utc>,
    ) -> IntegrationsResult<bool> {
        let inserted = event::Entity::insert(event::ActiveModel {
            workspace_id: Set(workspace_id),
            event_id: Set(event_id.to_owned()),
            event_type: Set(outgoing.event_type.to_owned()),
            conversation_id: Set(outgoing.conversation_id.clone()),
            payload: Set(outgoing.body.clone()),
            occurred_at: Set(occurred_at),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(event::Column::EventId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(inserted > 0)
    }

    /// Returns up to `limit` events of the workspace's feed after cursor `after`, oldest first.
    pub async fn events_after(
        &self,
        workspace_id: Uuid,
        after: i64,
        limit: u64,
    ) -> IntegrationsResult<Vec<event::Model>> {
        Ok(event::Entity::find()
            .filter(event::Column::WorkspaceId.eq(workspace_id))
            .filter(event::Column::Id.gt(after))
            .order_by_asc(event::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Returns the newest cursor of any workspace (0 when the feed is empty).
    pub async fn last_cursor(&self) -> IntegrationsResult<i64> {
        Ok(event::Entity::find()
            .order_by_desc(event::Column::Id)
            .one(&self.db)
            .await?
            .map_or(0, |newest| newest.id))
    }

    /// Returns the cursor up to which events were dropped by the retention window.
    pub async fn purged_through(&self) -> IntegrationsResult<i64> {
        Ok(horizon::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .map_or(0, |horizon| horizon.purged_through))
    }

    /// Drops, in batches, feed events and finished deliveries older than `before`; returns how
    /// many rows went. Runs beside chat without long locks: each batch is its own statement.
    pub async fn purge(&self, before: DateTime<Utc>, batch: u64) -> IntegrationsResult<u64> {
        let mut removed = 0;
        loop {
            let old: Vec<i64> = event::Entity::find()
                .select_only()
                .column(event::Column::Id)
                .filter(event::Column::OccurredAt.lt(before))
                .order_by_asc(event::Column::Id)
                .limit(batch)
                .into_tuple()
                .all(&self.db)
                .await?;
            let Some(&through) = old.last() else { break };
            // The horizon moves first: a reader must never miss that events are gone.
            horizon::Entity::insert(horizon::ActiveModel {
                id: Set(1),
                purged_through: Set(through),
            })
            .on_conflict(
                OnConflict::column(horizon::Column::Id)
                    .update_column(horizon::Column::PurgedThrough)
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
            removed += event::Entity::delete_many()
                .filter(event::Column::Id.lte(through))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        loop {
            let old: Vec<i64> = delivery::Entity::find()
                .select_only()
                .column(delivery::Column::Id)
                .filter(delivery::Column::Status.ne(PENDING))
                .filter(delivery::Column::CreatedAt.lt(before))
                .limit(batch)
                .into_tuple()
                .all(&self.db)
                .await?;
            if old.is_empty() {
                break;
            }
            removed += delivery::Entity::delete_many()
                .filter(delivery::Column::Id.is_in(old))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        Ok(removed)
    }

    /// Returns how many deliveries wait (pending), over every workspace.
    pub async fn backlog(&self) -> IntegrationsResult<u64> {
        Ok(delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .count(&self.db)
            .await?)
    }
}
