//! The replayable event feed: a workspace's events after a cursor, as a page (long poll) or a
//! stream, so an integration that was down resumes exactly where it stopped.
//!
//! A cursor is the feed row's id. Cursors are checked: one from the future is refused, one
//! older than the retention window fails with `CursorExpired` rather than silently skipping the
//! events that were dropped.

use crate::db::entity::event;
use crate::events::Wake;
use crate::store::Store;
use crate::{IntegrationsError, IntegrationsResult};
use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::grpc::timestamp;
use switchboard_proto::integrations::v1 as pb;
use tokio::sync::mpsc;
use uuid::Uuid;

/// How often waiting readers look for events added by another replica.
const POLL: Duration = Duration::from_millis(500);
/// Longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Reads feeds.
#[derive(Debug, Clone)]
pub struct Feed {
    store: Store,
    wake: Arc<Wake>,
}

impl Feed {
    /// Returns a feed reader over `store`, woken by `wake.feed`.
    pub fn new(store: Store, wake: Arc<Wake>) -> Self {
        Self { store, wake }
    }

    /// Checks `raw` (empty: the oldest event kept) and returns the cursor to read after.
    pub async fn cursor(&self, raw: &str) -> IntegrationsResult<i64> {
        let purged = self.store.purged_through().await?;
        if raw.is_empty() {
            return Ok(purged);
        }
        let cursor = raw
            .parse::<i64>()
            .ok()
            .filter(|cursor| *cursor >= 0)
            .ok_or_else(|| IntegrationsError::invalid("after_cursor", "not a cursor"))?;
        if cursor > self.store.last_cursor().await? {
            return Err(IntegrationsError::invalid("after_cursor", "unknown cursor"));
        }
        if cursor < purged {
            return Err(IntegrationsError::CursorExpired);
        }
        Ok(cursor)
    }

    /// Returns up to `limit` events after `after`, waiting up to `wait` for the first one.
    pub async fn page(
        &self,
        workspace_id: Uuid,
        after: i64,
        limit: u64,
        wait: Duration,
    ) -> IntegrationsResult<Vec<event::Model>> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        loop {
            // Registered before reading, so an event stored in between still wakes us.
            let woken = self.wake.feed.notified();
            let events = self.store.events_after(workspace_id, after, limit).await?;
            let now = tokio::time::Instant::now();
            if !events.is_empty() || now >= deadline {
                return Ok(events);
            }
            let _ = tokio::time::timeout((deadline - now).min(POLL), woken).await;
        }
    }

    /// Streams the events after `after`, then each new one, until the receiver goes away.
    pub fn subscribe(
        &self,
        workspace_id: Uuid,
        mut after: i64,
    ) -> mpsc::Receiver<Result<pb::FeedEvent, tonic::Status>> {
        let (sender, receiver) = mpsc::channel(64);
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                let page = tokio::select! {
                    () = sender.closed() => return,
                    page = feed.page(workspace_id, after, 500, MAX_WAIT) => page,
                };
                match page {
                    Ok(events) => {
                        for event in events {
                            after = event.id;
                            if sender.send(Ok(view(&event))).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error.into())).await;
                        return;
                    }
                }
            }
        });
        receiver
    }
}

/// Returns the proto form of a feed row.
pub fn view(event: &event::Model) -> pb::FeedEvent {
    pb::FeedEvent {
        cursor: event.id.to_string(),
        event_type: event.event_type.clone(),
        conversation_id: event.conversation_id.clone(),
        payload: event.payload.clone(),
        occurred_at: Some(timestamp(event.occurred_at)),
    }
}
