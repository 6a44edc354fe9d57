//! The event bus: how committed events reach other components.
//!
//! [`EventBus`] has two implementations behind one interface:
//! - [`nats::NatsBus`], JetStream on a real NATS server (distributed mode): a publish returns only
//!   once the server stored the event, and durable pull consumers ack after their handler
//!   succeeded;
//! - [`memory::MemoryBus`], in-process (the embedded `all-in-one` mode): a publish returns only
//!   once every matching durable consumer handled the event.
//!
//! In both, a publish that returns `Ok` means the event will not be lost by the bus, so the outbox
//! relay can mark its row done. Delivery is at-least-once: handlers must be idempotent. Ordering
//! and exactly-once *effects* come from the databases, not from here.

pub mod memory;
pub mod nats;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use std::fmt;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One event on the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Concrete subject, built by [`crate::subjects::Subjects`].
    pub subject: String,
    /// Stable id used for deduplication (`Nats-Msg-Id`): the same event always has the same id.
    pub msg_id: String,
    /// Protobuf-encoded `switchboard.events.v1.Envelope`.
    pub payload: Bytes,
    /// W3C `traceparent` of the change that produced the event (the `traceparent` header on
    /// NATS), so a consumer's span continues the producer's trace.
    pub trace_parent: Option<String>,
}

/// Returns the span a consumer handles `event` in: a child of the producer's trace when the
/// event carries one.
pub fn consume_span(event: &Event, durable: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "nats.consume",
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.destination.name = %event.subject,
        messaging.message.id = %event.msg_id,
        durable = %durable,
    );
    if let Some(trace_parent) = &event.trace_parent {
        crate::trace::continue_trace(&span, trace_parent);
    }
    span
}

/// Returns the W3C `traceparent` of the current span, when it belongs to a trace.
pub fn current_trace_parent() -> Option<String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::<String, String>::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier.remove("traceparent")
}

/// Error a handler returns to have the event delivered again later.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Handles one event of a durable consumer.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync>;

/// Live, non-durable stream of events (fan-out to connected clients).
pub type Subscription = BoxStream<'static, Event>;

/// A durable consumer: its name and the subjects it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Durable name; restarts continue where the previous process stopped.
    pub durable: String,
    /// NATS subject filter (`*` and `>` wildcards).
    pub filter: String,
}

/// Why the bus could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("a consumer failed to handle the event: {0}")]
    Consumer(String),
    #[error("bus setup failed: {0}")]
    Setup(String),
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

/// Transport for durable events and live fan-out.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + fmt::Debug {
    /// Publishes `event`; `Ok` only once the bus will not lose it.
    async fn publish(&self, event: Event) -> Result<(), BusError>;

    /// Publishes `events` in order and returns how many of the first ones the bus will not
    /// lose, with the error that stopped it (if any). Buses that can have several publishes in
    /// flight override this (the outbox relay publishes its batches through it); this default
    /// publishes one at a time.
    async fn publish_all(&self, events: Vec<Event>) -> (usize, Option<BusError>) {
        let mut published = 0;
        for event in events {
            if let Err(error) = self.publish(event).await {
                return (published, Some(error));
            }
            published += 1;
        }
        (published, None)
    }

    /// Starts a durable consumer that calls `handler` for each matching event until `shutdown`.
    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError>;

    /// Publishes `payload` to live subscribers only: not stored, not retried (typing and the
    /// like, which nobody needs once the moment has passed).
    async fn publish_live(&self, subject: &str, payload: Bytes) -> Result<(), BusError>;

    /// Subscribes to live events matching `filter`, without replay.
    async fn subscribe(&self, filter: &str) -> Result<Subscription, BusError>;

    /// Returns whether the bus can currently publish.
    fn is_connected(&self) -> bool;
}

/// A bus shared by every component of a process.
pub type SharedBus = Arc<dyn EventBus>;

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    Arc::new(move |event| Box::pin(f(event)))
}
