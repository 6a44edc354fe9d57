//! In-process bus for the embedded `all-in-one` mode.
//!
//! A publish delivers the event to every registered durable consumer whose filter matches, one
//! after the other, and returns only when all of them succeeded. Because the outbox relay
//! deletes its row only after that, an event is never lost by a crash: the row is still in the
//! database and is published again on restart. Live subscribers get a copy through a bounded
//! broadcast channel; a subscriber that falls behind loses events (and must resume from history).

use super::{BusError, ConsumerSpec, Event, EventBus, Handler, Subscription};
use crate::subjects;
use futures_util::StreamExt;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;

const LIVE_CAPACITY: usize = 4096;

type Registered = Vec<(u64, ConsumerSpec, Handler)>;

/// In-process event bus.
#[derive(Clone)]
pub struct MemoryBus {
    consumers: Arc<RwLock<Registered>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
    live: broadcast::Sender<Event>,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBus").finish_non_exhaustive()
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBus {
    /// Returns an empty bus.
    pub fn new() -> Self {
        Self {
            consumers: Arc::default(),
            next_id: Arc::default(),
            live: broadcast::channel(LIVE_CAPACITY).0,
        }
    }

    fn matching(&self, subject: &str) -> Vec<(ConsumerSpec, Handler)> {
        let consumers = self
            .consumers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        consumers
            .iter()
            .filter(|(_, spec, _)| subjects::matches(&spec.filter, subject))
            .map(|(_, spec, handler)| (spec.clone(), handler.clone()))
            .collect()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        for (spec, handler) in self.matching(&event.subject) {
            let span = super::consume_span(&event, &spec.durable);
            if let Err(error) = tracing::Instrument::instrument(handler(event.clone()), span).await
            {
                tracing::warn!(durable = %spec.durable, subject = %event.subject, %error, "in-process consumer failed");
                return Err(BusError::Consumer(format!("{}: {error}", spec.durable)));
            }
        }
        // No live subscriber is not an error.
        let _ = self.live.send(event);
        Ok(())
    }

    async fn publish_live(&self, subject: &str, payload: bytes::Bytes) -> Result<(), BusError> {
        let _ = self.live.send(Event {
            subject: subject.to_owned(),
            msg_id: String::new(),
            payload,
            trace_parent: None,
        });
        Ok(())
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.consumers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((id, spec, handler));
        let consumers = self.consumers.clone();
        Ok(tokio::spawn(async move {
            shutdown.cancelled().await;
            consumers
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .retain(|(registered, _, _)| *registered != id);
        }))
    }

    async fn subscribe(&self, filter: &str) -> Result<Subscription, BusError> {
        let filter = filter.to_owned();
        let stream = BroadcastStream::new(self.live.subscribe()).filter_map(move |item| {
            let keep = match item {
                Ok(event) if subjects::matches(&filter, &event.subject) => Some(event),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(%error, "live subscriber lagged, events dropped");
                    None
                }
            };
            std::future::ready(keep)
        });
        Ok(stream.boxed())
    }

    fn is_connected(&self) -> bool {
        true
    }
}
