//! The audit log: admin and security actions of a workspace (who, what, when, from where).
//!
//! Actions of this service are recorded inside the transaction that makes the change, so the log
//! and the data cannot disagree. Actions other services carry out for an admin (erasing a
//! visitor, changing webhooks or retention) are recorded by the gateway through
//! `RecordAuditEvent` *before* it asks for them (outcome `requested`, refused if the log cannot be
//! written), then completed with the outcome; an entry left `requested` means the process died
//! in between, which the log then shows rather than hides.

use crate::db::entity::audit_event;
use crate::{AgentError, AgentResult};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::BTreeMap;
use switchboard_platform::actor::RequestActor;
use uuid::Uuid;

/// Largest page of [`list`].
pub const MAX_PAGE: u64 = 500;

/// Outcome of an action.
pub mod outcome {
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const DENIED: &str = "denied";
    pub const REQUESTED: &str = "requested";
    /// Every outcome a caller may record.
    pub const ALL: [&str; 4] = [SUCCEEDED, FAILED, DENIED, REQUESTED];
}

/// One action to record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub workspace_id: Uuid,
    pub action: String,
    pub target: Option<(String, String)>,
    pub outcome: &'static str,
    pub detail: BTreeMap<String, String>,
}

impl Entry {
    /// A succeeded `action` on `target_kind` `target_id`.
    pub fn succeeded(
        workspace_id: Uuid,
        action: &str,
        target_kind: &str,
        target_id: impl ToString,
    ) -> Self {
        Self {
            workspace_id,
            action: action.to_owned(),
            target: Some((target_kind.to_owned(), target_id.to_string())),
            outcome: outcome::SUCCEEDED,
            detail: BTreeMap::new(),
        }
    }

    /// Adds a detail (what changed; never a secret).
    #[must_use]
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.detail.insert(key.to_owned(), value.to_string());
        self
    }
}

/// Records `entry` by `actor` on `db` (a transaction, normally); returns its id.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &RequestActor,
    entry: Entry,
) -> AgentResult<i64> {
    let (target_kind, target_id) = entry.target.unzip();
    let detail = serde_json::to_string(&entry.detail).unwrap_or_else(|_| "{}".to_owned());
    let inserted = audit_event::ActiveModel {
        workspace_id: Set(entry.workspace_id),
        occurred_at: Set(Utc::now()),
        actor_id: Set(actor.actor_id.clone()),
        action: Set(entry.action),
        target_kind: Set(target_kind),
        target_id: Set(target_id),
        outcome: Set(entry.outcome.to_owned()),
        client_ip: Set(actor.client_ip.clone()),
        user_agent: Set(actor.user_agent.clone()),
        detail: Set(detail),
        ..Default::default()
    }
    .insert(db)
    .await?;
    metrics::counter!("switchboard_audit_events_total", "outcome" => entry.outcome).increment(1);
    Ok(inserted.id)
}

/// Sets the outcome of a `requested` entry of the workspace (once) and merges `detail` in.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    workspace_id: Uuid,
    id: i64,
    outcome: &'static str,
    detail: BTreeMap<String, String>,
) -> AgentResult<()> {
    let current = audit_event::Entity::find_by_id(id)
        .filter(audit_event::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or(AgentError::AuditEventNotFound)?;
    if current.outcome != outcome::REQUESTED {
        return Err(AgentError::invalid("id", "the entry is already complete"));
    }
    let mut merged: BTreeMap<String, String> =
        serde_json::from_str(&current.detail).unwrap_or_default();
    merged.extend(detail);
    let mut active: audit_event::ActiveModel = current.into();
    active.outcome = Set(outcome.to_owned());
    active.detail = Set(serde_json::to_string(&merged).unwrap_or_else(|_| "{}".to_owned()));
    active.update(db).await?;
    metrics::counter!("switchboard_audit_events_total", "outcome" => outcome).increment(1);
    Ok(())
}

/// Which entries [`list`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only entries older than this id (the cursor of the next page).
    pub before_id: Option<i64>,
    /// Only actions starting with this, e.g. `auth.` or `agent.create`.
    pub action_prefix: Option<String>,
    pub actor_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Returns up to `limit` entries of a workspace, newest first, and the cursor of the next page.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    workspace_id: Uuid,
    filter: Filter,
    limit: u64,
) -> AgentResult<(Vec<audit_event::Model>, Option<i64>)> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = audit_event::Entity::find()
        .filter(audit_event::Column::WorkspaceId.eq(workspace_id))
        .order_by_desc(audit_event::Column::Id)
        .limit(limit + 1);
    if let Some(before) = filter.before_id {
        query = query.filter(audit_event::Column::Id.lt(before));
    }
    if let Some(prefix) = filter.action_prefix {
        query = query.filter(audit_event::Column::Action.starts_with(prefix));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_event::Column::ActorId.eq(actor));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_event::Column::OccurredAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_event::Column::OccurredAt.lt(until));
    }
    let mut events = query.all(db).await?;
    let next = if events.len() as u64 > limit {
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        events.last().map(|event| event.id)
    } else {
        None
    };
    Ok((events, next))
}
