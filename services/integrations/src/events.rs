//! The durable consumer that turns conversation events into deliveries.
//!
//! Each event also goes to the workspace's replayable feed (`ListEvents`/`SubscribeEvents`).
//! One consumer over every conversation subject keeps the stream's order, so a conversation's
//! deliveries are accepted in the order its events happened. Accepting is idempotent (one
//! delivery per endpoint and event), so redeliveries by the bus add nothing.

use crate::IntegrationsResult;
use crate::payload;
use crate::store::Store;
use prost::Message as _;
use std::sync::Arc;
use switchboard_platform::bus::{ConsumerSpec, Event, HandlerError, SharedBus, handler};
use switchboard_platform::subjects::Subjects;
use switchboard_proto::events::v1::Envelope;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

/// What a stored event wakes: the delivery worker and feed readers waiting for news.
#[derive(Debug, Default)]
pub struct Wake {
    pub deliveries: Notify,
    pub feed: Notify,
}

/// Registers the consumer on `bus`; it runs on `tasks` until `shutdown`.
pub async fn start(
    bus: &SharedBus,
    subjects: &Subjects,
    store: Store,
    wake: Arc<Wake>,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> IntegrationsResult<()> {
    let consumer = bus
        .consume(
            ConsumerSpec {
                durable: subjects.durable("integrations-webhooks"),
                filter: subjects.all_conversations(),
            },
            handler(move |event| handle(store.clone(), wake.clone(), event)),
            shutdown,
        )
        .await
        .map_err(|error| crate::IntegrationsError::Startup(error.to_string()))?;
    tasks.spawn(async move {
        let _ = consumer.await;
    });
    Ok(())
}

async fn handle(store: Store, wake: Arc<Wake>, event: Event) -> Result<(), HandlerError> {
    let envelope = match Envelope::decode(event.payload.as_ref()) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::error!(subject = %event.subject, %error, "undecodable event dropped");
            return Ok(());
        }
    };
    let Some(outgoing) = payload::outgoing(&envelope) else {
        return Ok(());
    };
    let Ok(workspace_id) = Uuid::parse_str(&envelope.workspace_id) else {
        tracing::error!(subject = %event.subject, "event without a workspace dropped");
        return Ok(());
    };
    let event_id = if envelope.event_id.is_empty() {
        event.msg_id.clone()
    } else {
        envelope.event_id.clone()
    };
    let occurred_at = payload::time_or_now(envelope.occurred_at.as_ref());
    let recorded = store
        .record_event(workspace_id, &event_id, &outgoing, occurred_at)
        .await?;
    let added = store
        .enqueue(
            workspace_id,
            &event_id,
            &outgoing,
            event.trace_parent.clone(),
        )
        .await?;
    if added > 0 {
        wake.deliveries.notify_one();
    }
    if recorded {
        wake.feed.notify_waiters();
    }
    Ok(())
}
