//! JetStream implementation of [`EventBus`] for the distributed mode.
//!
//! - Publishing waits for the server's PubAck and sets `Nats-Msg-Id` to the event's id, so a relay
//!   retry after a lost ack is deduplicated by the server inside its duplicate window (and by the
//!   consumers' database keys after it).
//! - Consumers are durable pull consumers with explicit acks: an event is acked only after the
//!   handler succeeded (and therefore after its database commit), and NAK'd with a delay
//!   otherwise. Redeliveries may arrive out of order; handlers are idempotent.
//! - The stream is provisioned here at start-up with settings nats-server 2.9 understands
//!   (see shared/STACK.md: no 2.10+ fields, no KV create helpers).

use super::{BusError, ConsumerSpec, Event, EventBus, Handler, Subscription};
use crate::subjects::Subjects;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Oldest nats-server this code is written for.
const MIN_SERVER_VERSION: (u64, u64) = (2, 9);
/// How long an unacked delivery waits before redelivery.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Deliveries before a poison event is given up (logged by the handler each time).
const MAX_DELIVER: i64 = 100;
/// Delay before a failed event is redelivered.
const NAK_DELAY: Duration = Duration::from_secs(1);

/// Settings of the NATS connection and the events stream.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// `nats://host:port`.
    pub url: String,
    /// Subject prefix and stream names.
    pub subjects: Subjects,
    /// How long the events stream keeps events.
    pub max_age: Duration,
    /// How long to wait for the first connection.
    pub connect_timeout: Duration,
}

impl NatsSettings {
    /// Returns production defaults for `url` and `subjects`.
    pub fn new(url: impl Into<String>, subjects: Subjects) -> Self {
        Self {
            url: url.into(),
            subjects,
            max_age: Duration::from_secs(7 * 24 * 3600),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Event bus on NATS JetStream.
#[derive(Debug, Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream_name: String,
}

impl NatsBus {
    /// Connects, checks the server version and provisions the events stream.
    pub async fn connect(settings: &NatsSettings) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .name("switchboard")
            .connect(&settings.url)
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        wait_connected(&client, settings.connect_timeout).await?;
        check_version(&client.server_info().version)?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(Duration::from_secs(2));
        let stream_name = settings.subjects.events_stream();
        jetstream
            .get_or_create_stream(stream::Config {
                name: stream_name.clone(),
                subjects: settings.subjects.events_stream_subjects(),
                storage: stream::StorageType::File,
                max_age: settings.max_age,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|error| BusError::Setup(error.to_string()))?;
        Ok(Self {
            client,
            jetstream,
            stream_name,
        })
    }

    /// Returns the underlying client (for live subscriptions and tests).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Returns the JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// Returns the name of the events stream.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }
}

async fn wait_connected(client: &async_nats::Client, timeout: Duration) -> Result<(), BusError> {
    let deadline = tokio::time::Instant::now() + timeout;
    while client.connection_state() != async_nats::connection::State::Connected {
        if tokio::time::Instant::now() >= deadline {
            return Err(BusError::Unavailable("no connection to nats".into()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn check_version(version: &str) -> Result<(), BusError> {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found < MIN_SERVER_VERSION {
        return Err(BusError::Setup(format!(
            "nats-server {version} is older than {}.{}",
            MIN_SERVER_VERSION.0, MIN_SERVER_VERSION.1
        )));
    }
    Ok(())
}

#[async_trait::async_trait]
impl EventBus for NatsBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, event.msg_id.as_str());
        if let Some(trace_parent) = &event.trace_parent {
            headers.insert("traceparent", trace_parent.as_str());
        }
        let ack = self
            .jetstream
            .publish_with_headers(event.subject, headers, event.payload)
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        ack.await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        Ok(())
    }

    /// Sends every publish before awaiting any acknowledgement, so a batch costs about one round
    /// trip instead of one per event. JetStream stores a connection's publishes in the order
    /// sent; acknowledgements are awaited in that order and counting stops at the first that
    /// fails. Events after it that were stored anyway are sent again with the rest (same
    /// `Nats-Msg-Id`, so the stream drops the copies).
    async fn publish_all(&self, events: Vec<Event>) -> (usize, Option<BusError>) {
        let mut acks = Vec::with_capacity(events.len());
        let mut failure = None;
        for event in events {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, event.msg_id.as_str());
            if let Some(trace_parent) = &event.trace_parent {
                headers.insert("traceparent", trace_parent.as_str());
            }
            match self
                .jetstream
                .publish_with_headers(event.subject, headers, event.payload)
                .await
            {
                Ok(ack) => acks.push(ack),
                Err(error) => {
                    failure = Some(BusError::Unavailable(error.to_string()));
                    break;
                }
            }
        }
        let mut published = 0;
        for ack in acks {
            if let Err(error) = ack.await {
                return (published, Some(BusError::Unavailable(error.to_string())));
            }
            published += 1;
        }
        (published, failure)
    }

    async fn publish_live(&self, subject: &str, payload: bytes::Bytes) -> Result<(), BusError> {
        self.client
            .publish(subject.to_owned(), payload)
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))
    }

    async fn consume(
        &self,
        spec: ConsumerSpec,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, BusError> {
        let stream = self
            .jetstream
            .get_stream(&self.stream_name)
            .await
            .map_err(|error| BusError::Setup(error.to_string()))?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                &spec.durable,
                consumer::pull::Config {
                    durable_name: Some(spec.durable.clone()),
                    filter_subject: spec.filter.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_deliver: MAX_DELIVER,
                    max_ack_pending: 1000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| BusError::Setup(error.to_string()))?;
        tokio::spawn(watch_pending(
            spec.durable.clone(),
            consumer.clone(),
            shutdown.clone(),
        ));
        Ok(tokio::spawn(run_consumer(
            spec, consumer, handler, shutdown,
        )))
    }

    async fn subscribe(&self, filter: &str) -> Result<Subscription, BusError> {
        let subscriber = self
            .client
            .subscribe(filter.to_owned())
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        // Round-trip so the server has the subscription before the caller reads history:
        // otherwise an event published in between would reach nobody.
        self.client
            .flush()
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        Ok(subscriber.map(|message| event_of(&message)).boxed())
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}

/// How often a consumer's backlog is measured.
const PENDING_PERIOD: Duration = Duration::from_secs(5);

/// Every [`PENDING_PERIOD`] until `shutdown`: sets `switchboard_nats_consumer_pending` (stored
/// events the durable consumer has not been given yet) and `…_ack_pending` (given, not yet
/// acknowledged) from the server's consumer info. Growing values mean the consumer falls behind.
async fn watch_pending(
    durable: String,
    consumer: consumer::PullConsumer,
    shutdown: CancellationToken,
) {
    loop {
        match consumer.get_info().await {
            Ok(info) => {
                metrics::gauge!("switchboard_nats_consumer_pending", "durable" => durable.clone())
                    .set(info.num_pending as f64);
                metrics::gauge!("switchboard_nats_consumer_ack_pending", "durable" => durable.clone())
                    .set(info.num_ack_pending as f64);
            }
            Err(error) => tracing::debug!(%durable, %error, "cannot read consumer info"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PENDING_PERIOD) => {}
        }
    }
}

/// Returns the bus event a NATS message carries: its id and trace context come from headers.
fn event_of(message: &async_nats::Message) -> Event {
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.as_str().to_owned())
    };
    Event {
        subject: message.subject.to_string(),
        msg_id: header(async_nats::header::NATS_MESSAGE_ID.as_ref()).unwrap_or_default(),
        payload: message.payload.clone(),
        trace_parent: header("traceparent"),
    }
}

async fn run_consumer(
    spec: ConsumerSpec,
    consumer: consumer::PullConsumer,
    handler: Handler,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let mut messages = match consumer.messages().await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(durable = %spec.durable, %error, "cannot pull from consumer, retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return,
                next = messages.next() => next,
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::warn!(durable = %spec.durable, %error, "consumer stream error");
                    continue;
                }
                None => break,
            };
            let event = event_of(&message);
            let span = super::consume_span(&event, &spec.durable);
            let outcome = handler(event).instrument(span).await;
            let ack = match outcome {
                Ok(()) => message.ack().await,
                Err(error) => {
                    tracing::warn!(%error, "event handler failed, will be redelivered");
                    message.ack_with(AckKind::Nak(Some(NAK_DELAY))).await
                }
            };
            if let Err(error) = ack {
                tracing::warn!(%error, "ack failed, event will be redelivered");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_version;

    #[test]
    fn refuses_servers_older_than_2_9() {
        assert!(check_version("2.9.10").is_ok());
        assert!(check_version("2.15.1").is_ok());
        assert!(check_version("2.8.4").is_err());
        assert!(check_version("garbage").is_err());
    }
}
