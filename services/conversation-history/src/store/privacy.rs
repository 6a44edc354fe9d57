//! Erasing a visitor on request and deleting conversations past a workspace's retention.
//!
//! Both delete a set of conversations with everything under them (read marks, notes, messages,
//! then the conversation rows: children first, so the foreign keys hold at every step).
//! Erasure is one transaction, so a visitor is either still whole or entirely gone. The purge
//! works in batches of [`PURGE_BATCH`] conversations, each its own short transaction, so it
//! never holds the database (SQLite's single writer above all) long enough to slow chat down.

use super::{Store, status};
use crate::db::entity::{conversation, message, note, read_mark, retention_policy, visitor};
use crate::grpc::convert;
use crate::{HistoryError, HistoryResult};
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use switchboard_proto::events::v1::{self as events, envelope::Payload};
use uuid::Uuid;

/// Conversations deleted per purge transaction.
pub const PURGE_BATCH: u64 = 200;
/// Longest retention a workspace may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What an erasure or a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    pub conversations: u64,
    pub messages: u64,
    pub notes: u64,
    pub visitors: u64,
}

impl Deleted {
    fn add(&mut self, other: Self) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.notes += other.notes;
        self.visitors += other.visitors;
    }
}

/// Deletes the conversations `ids` and everything under them, inside the caller's transaction.
async fn delete_conversations<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> HistoryResult<Deleted> {
    if ids.is_empty() {
        return Ok(Deleted::default());
    }
    read_mark::Entity::delete_many()
        .filter(read_mark::Column::ConversationId.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    let notes = note::Entity::delete_many()
        .filter(note::Column::ConversationId.is_in(ids.iter().copied()))
        .exec(db)
        .await?
        .rows_affected;
    let messages = message::Entity::delete_many()
        .filter(message::Column::ConversationId.is_in(ids.iter().copied()))
        .exec(db)
        .await?
        .rows_affected;
    let conversations = conversation::Entity::delete_many()
        .filter(conversation::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Deleted {
        conversations,
        messages,
        notes,
        visitors: 0,
    })
}

impl Store {
    /// Erases a visitor of `workspace_id` and all it said and was said to it.
    ///
    /// Open conversations are closed first, with their `ConversationClosed` event in the same
    /// transaction, so routing frees the agent and gateways end the chat. Erasing a visitor that
    /// does not exist (or is another workspace's) is `VisitorNotFound` and changes nothing.
    pub async fn erase_visitor(
        &self,
        workspace_id: Uuid,
        visitor_id: Uuid,
    ) -> HistoryResult<Deleted> {
        let txn = self.db.begin().await?;
        let found = visitor::Entity::find_by_id(visitor_id)
            .filter(visitor::Column::WorkspaceId.eq(workspace_id))
            .one(&txn)
            .await?;
        if found.is_none() {
            txn.rollback().await?;
            return Err(HistoryError::VisitorNotFound);
        }
        let now = Utc::now();
        let closed = conversation::Entity::update_many()
            .col_expr(conversation::Column::Status, Expr::value(status::CLOSED))
            .col_expr(conversation::Column::ClosedAt, Expr::value(now))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
            .filter(conversation::Column::VisitorId.eq(visitor_id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .filter(conversation::Column::Status.ne(status::CLOSED))
            .exec_with_returning(&txn)
            .await?;
        for conversation in &closed {
            self.enqueue(
                &txn,
                &self
                    .subjects
                    .conversation_lifecycle(&conversation.id.to_string()),
                workspace_id,
                Payload::ConversationClosed(events::ConversationClosed {
                    conversation: Some(convert::conversation(conversation)),
                }),
            )
            .await?;
        }
        let ids: Vec<Uuid> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::VisitorId.eq(visitor_id))
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .into_tuple()
            .all(&txn)
            .await?;
        let mut deleted = delete_conversations(&txn, &ids).await?;
        deleted.visitors = visitor::Entity::delete_by_id(visitor_id)
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if !closed.is_empty() {
            self.notifier.notify();
        }
        metrics::counter!("switchboard_visitors_erased_total").increment(1);
        Ok(deleted)
    }

    /// Returns a workspace's retention in days (0: kept forever) and when it was last set.
    pub async fn retention(
        &self,
        workspace_id: Uuid,
    ) -> HistoryResult<Option<retention_policy::Model>> {
        Ok(retention_policy::Entity::find_by_id(workspace_id)
            .one(&self.db)
            .await?)
    }

    /// Sets a workspace's retention; 0 removes it (kept forever).
    pub async fn set_retention(
        &self,
        workspace_id: Uuid,
        days: u32,
    ) -> HistoryResult<Option<retention_policy::Model>> {
        if days == 0 {
            retention_policy::Entity::delete_by_id(workspace_id)
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        let policy = retention_policy::ActiveModel {
            workspace_id: Set(workspace_id),
            days: Set(i32::try_from(days.min(MAX_RETENTION_DAYS)).unwrap_or(i32::MAX)),
            updated_at: Set(Utc::now()),
        };
        retention_policy::Entity::insert(policy)
            .on_conflict(
                OnConflict::column(retention_policy::Column::WorkspaceId)
                    .update_columns([
                        retention_policy::Column::Days,
                        retention_policy::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        self.retention(workspace_id).await
    }

    /// Deletes, for every workspace with a retention, closed conversations closed more than its
    /// days ago, and then its visitors left with no conversation that are as old. Works in
    /// batches until nothing is left or `shutdown` is set; returns what it deleted.
    pub async fn purge_expired(
        &self,
        shutdown: &tokio_util::sync::CancellationToken,
    ) -> HistoryResult<Deleted> {
        let policies = retention_policy::Entity::find().all(&self.db).await?;
        let mut total = Deleted::default();
        for policy in policies {
            let cutoff = Utc::now() - chrono::Duration::days(i64::from(policy.days));
            loop {
                if shutdown.is_cancelled() {
                    return Ok(total);
                }
                let batch = self.purge_batch(policy.workspace_id, cutoff).await?;
                total.add(batch);
                if batch.conversations < PURGE_BATCH {
                    break;
                }
            }
            total.visitors += self
                .purge_orphan_visitors(policy.workspace_id, cutoff)
                .await?;
        }
        if total != Deleted::default() {
            metrics::counter!("switchboard_retention_deleted_total", "kind" => "conversation")
                .increment(total.conversations);
            metrics::counter!("switchboard_retention_deleted_total", "kind" => "message")
                .increment(total.messages);
            metrics::counter!("switchboard_retention_deleted_total", "kind" => "visitor")
                .increment(total.visitors);
        }
        Ok(total)
    }

    /// Deletes up to one batch of a workspace's conversations closed before `cutoff`.
    async fn purge_batch(
        &self,
        workspace_id: Uuid,
        cutoff: chrono::DateTime<Utc>,
    ) -> HistoryResult<Deleted> {
        let txn = self.db.begin().await?;
        // Status and closed_at are checked again under the transaction: a conversation cannot
        // reopen, so a closed one found here is still closed when deleted.
        let ids: Vec<Uuid> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::WorkspaceId.eq(workspace_id))
            .filter(conversation::Column::Status.eq(status::CLOSED))
            .filter(conversation::Column::ClosedAt.lt(cutoff))
            .order_by_asc(conversation::Column::ClosedAt)
            .limit(PURGE_BATCH)
            .into_tuple()
            .all(&txn)
            .await?;
        let deleted = delete_conversations(&txn, &ids).await?;
        txn.commit().await?;
        Ok(deleted)
    }

    /// Deletes a workspace's visitors created before `cutoff` that have no conversation left.
    async fn purge_orphan_visitors(
        &self,
        workspace_id: Uuid,
        cutoff: chrono::DateTime<Utc>,
    ) -> HistoryResult<u64> {
        let mut deleted = 0;
        loop {
            let txn = self.db.begin().await?;
            let orphans: Vec<Uuid> = visitor::Entity::find()
                .select_only()
                .column(visitor::Column::Id)
                .filter(visitor::Column::WorkspaceId.eq(workspace_id))
                .filter(visitor::Column::CreatedAt.lt(cutoff))
                .filter(
                    visitor::Column::Id.not_in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(conversation::Column::VisitorId)
                            .from(conversation::Entity)
                            .and_where(conversation::Column::WorkspaceId.eq(workspace_id))
                            .to_owned(),
                    ),
                )
                .limit(PURGE_BATCH)
                .into_tuple()
                .all(&txn)
                .await?;
            let count = visitor::Entity::delete_many()
                .filter(visitor::Column::Id.is_in(orphans.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
            txn.commit().await?;
            deleted += count;
            if (orphans.len() as u64) < PURGE_BATCH {
                return Ok(deleted);
            }
        }
    }
}
