//! One visitor message is one trace: from the browser's `traceparent` through the gateway's
//! frame span, conversation-history (gRPC, then its database transaction), the outbox and NATS,
//! routing's consumer and its gRPC calls, the webhook sent to the workspace's CRM, and back to
//! the gateway delivering the message live to the agent.

use super::{online_agent, spawn, visitor};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use switchboard_platform::testing::wait_until;

/// A span of the browser, as the widget would send it: a fresh trace id and span id.
fn browser_span() -> (TraceId, SpanId, String) {
    let trace = TraceId::from(uuid::Uuid::new_v4().as_u128());
    let span = SpanId::from(u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .expect("8 bytes"),
    ));
    (trace, span, format!("00-{trace}-{span}-01"))
}

fn trace_spans(trace: TraceId) -> Vec<SpanData> {
    switchboard_platform::testing::spans()
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|span| span.span_context.trace_id() == trace)
        .collect()
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|span| span.name == name).collect()
}

/// Returns the span ids above `span` in `spans`, nearest first.
fn ancestors<'a>(spans: &'a [SpanData], span: &SpanData) -> impl Iterator<Item = SpanId> + 'a {
    let mut parent = span.parent_span_id;
    std::iter::from_fn(move || {
        let above = spans
            .iter()
            .find(|candidate| candidate.span_context.span_id() == parent)?;
        parent = above.parent_span_id;
        Some(above.span_context.span_id())
    })
}

/// Returns whether every span of the trace hangs off `root` or another span of the trace (a
/// span still running is not exported yet, so a chain may be incomplete for a moment).
fn is_one_tree(spans: &[SpanData], root: SpanId) -> bool {
    let ids: HashSet<SpanId> = spans
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    spans
        .iter()
        .all(|span| span.parent_span_id == root || ids.contains(&span.parent_span_id))
}

/// Asserts every span of the trace hangs off the browser's span or another span of the trace.
fn assert_one_tree(spans: &[SpanData], root: SpanId) {
    let ids: HashSet<SpanId> = spans
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    for span in spans {
        assert!(
            span.parent_span_id == root || ids.contains(&span.parent_span_id),
            "{} has a parent outside the trace: {:?}",
            span.name,
            span.parent_span_id
        );
    }
}

const APPEND: &str = "switchboard.history.v1.ConversationHistoryService/AppendMessage";

#[tokio::test]
async fn a_visitor_message_is_one_trace_across_gateway_history_nats_and_routing() {
    let spans = switchboard_platform::testing::spans();
    let system = spawn().await;
    let (site_key, token) = system.bootstrap().await;
    let receiver = webhook_receiver(&system, &token).await;
    let mut agent = online_agent(&system.base, &token).await;
    let mut visitor = visitor(&system.base, &site_key).await;

    // First message: opens the conversation, which routing assigns (via NATS) to the agent.
    let (first_trace, first_root, traceparent) = browser_span();
    visitor
        .send(json!({"type": "message", "client_msg_id": "m1", "text": "Where is my order?", "traceparent": traceparent}))
        .await;
    let ack = visitor.expect("ack").await;
    assert_eq!(
        ack["trace_id"],
        first_trace.to_string(),
        "the ack names the trace"
    );
    agent.expect("assigned").await;

    let assign = "switchboard.history.v1.ConversationHistoryService/AssignConversation";
    wait_until(
        Duration::from_secs(20),
        "routing's consumer, its assignment call and the webhook in the first message's trace",
        || async {
            // Spans are exported when they end: routing's consumer span ends after the calls
            // it made, so wait for the whole chain rather than for its parts.
            let spans = trace_spans(first_trace);
            let consumed: HashSet<SpanId> = named(&spans, "nats.consume")
                .iter()
                .map(|span| span.span_context.span_id())
                .collect();
            named(&spans, assign)
                .iter()
                .any(|span| ancestors(&spans, span).any(|id| consumed.contains(&id)))
                && !named(&spans, "webhook.deliver").is_empty()
                && is_one_tree(&spans, first_root)
        },
    )
    .await;
    assert!(
        receiver.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the CRM got the webhook"
    );
    let first = trace_spans(first_trace);
    let frame = named(&first, "ws message");
    assert_eq!(frame.len(), 1, "one gateway span for the frame");
    let frame = frame[0];
    assert_eq!(
        frame.parent_span_id, first_root,
        "the frame continues the browser's span"
    );
    assert!(
        frame.links.iter().any(|link| link.span_context.is_valid()),
        "the frame links to its connection's span"
    );
    let append = named(&first, APPEND);
    assert_eq!(append.len(), 1);
    assert_eq!(
        append[0].parent_span_id,
        frame.span_context.span_id(),
        "history's span is a child of the gateway's frame span"
    );
    let transaction = named(&first, "db.append_message");
    assert_eq!(
        transaction.len(),
        1,
        "the database work is a span of the trace"
    );
    assert_eq!(
        transaction[0].parent_span_id,
        append[0].span_context.span_id()
    );
    // The webhook to the CRM continues the trace of the change behind its event.
    for webhook in named(&first, "webhook.deliver") {
        assert!(
            first
                .iter()
                .any(|other| other.span_context.span_id() == webhook.parent_span_id),
            "the webhook span hangs off a span of the message's trace"
        );
    }
    // Routing consumed the event history published (outbox → NATS) inside the same trace, and
    // its gRPC calls continue from that consumer span.
    let consumed: HashSet<SpanId> = named(&first, "nats.consume")
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    assert!(
        named(&first, assign)
            .iter()
            .any(|span| ancestors(&first, span).any(|id| consumed.contains(&id))),
        "routing's AssignConversation call descends from a NATS consumer span"
    );
    assert_one_tree(&first, first_root);

    // The agent follows the conversation now: the second message is delivered live, and that
    // delivery is part of the second message's trace.
    let (second_trace, second_root, traceparent) = browser_span();
    visitor
        .send(json!({"type": "message", "client_msg_id": "m2", "text": "Order 1042", "traceparent": traceparent}))
        .await;
    let ack = visitor.expect("ack").await;
    assert_eq!(ack["trace_id"], second_trace.to_string());
    let delivered = loop {
        let message = agent.expect("message").await;
        if message["client_msg_id"] == "m2" {
            break message;
        }
    };
    assert_eq!(
        delivered["trace_id"],
        second_trace.to_string(),
        "the live message names the sender's trace"
    );
    wait_until(
        Duration::from_secs(20),
        "the gateway's live delivery span in the second message's trace",
        || async {
            let spans = trace_spans(second_trace);
            !named(&spans, "ws.deliver").is_empty() && is_one_tree(&spans, second_root)
        },
    )
    .await;
    let second = trace_spans(second_trace);
    let append: Vec<SpanId> = named(&second, APPEND)
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    assert_eq!(append.len(), 1);
    let deliveries = named(&second, "ws.deliver");
    assert!(
        deliveries.iter().all(|span| second
            .iter()
            .any(|other| other.span_context.span_id() == span.parent_span_id)),
        "live deliveries continue a span of the sender's trace"
    );
    assert_one_tree(&second, second_root);
    drop(spans);
}

/// Registers a webhook for every event to a receiver on loopback; returns its request count.
async fn webhook_receiver(
    system: &super::System,
    token: &str,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use switchboard_proto::integrations::v1 as pb;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let count = count.clone();
            move || {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { axum::http::StatusCode::NO_CONTENT }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let workspace_id = super::workspace_of(system, token).await;
    let mut integrations = system.integrations.clone();
    integrations
        .update_settings(pb::UpdateSettingsRequest {
            workspace_id: workspace_id.clone(),
            settings: Some(pb::Settings {
                allow_private_network: true,
            }),
        })
        .await
        .expect("settings");
    integrations
        .create_webhook(pb::CreateWebhookRequest {
            workspace_id,
            url,
            ..Default::default()
        })
        .await
        .expect("webhook");
    count
}
