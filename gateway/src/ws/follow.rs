//! Following one conversation for one socket: live events from the bus, in `seq` order, with
//! gaps filled from conversation-history.
//!
//! A follower subscribes *before* it reads history, then delivers everything history has after
//! the starting point, then live events, dropping any `seq` it already delivered. A live message
//! that skips numbers (a lost or reordered delivery) makes it read the missing ones from history
//! first. So a socket sees each message once, in order, with no gap — or is closed (1013) when
//! history cannot be read, and resumes later.

use super::Outbound;
use super::protocol::{AgentRef, ServerFrame};
use super::view;
use crate::state::Gateway;
use futures_util::StreamExt;
use prost::Message as _;
use std::sync::Arc;
use switchboard_platform::bus::Event;
use switchboard_proto::common::v1::SenderKind;
use switchboard_proto::events::v1::{Envelope, QueuePosition, envelope::Payload};
use switchboard_proto::history::v1 as history_pb;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Page size when reading history.
const PAGE: u32 = 500;

/// Who is following, for typing echo suppression and error reporting.
#[derive(Debug, Clone)]
pub struct Follower {
    pub gateway: Arc<Gateway>,
    pub outbound: Outbound,
    pub workspace_id: Uuid,
    /// This socket's id; its own typing events are not echoed back.
    pub connection_id: String,
    /// Agents also receive internal notes.
    pub is_agent: bool,
}

/// Where a follower starts.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Deliver messages with `seq > after_seq`.
    pub after_seq: u64,
    /// Send `resumed` once the backlog is delivered (answer to a `resume` frame).
    pub announce: bool,
}

/// Read receipt as carried on the live subject.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ReadEvent {
    pub conversation_id: String,
    pub reader: super::protocol::Sender,
    pub seq: u64,
    pub connection_id: String,
}

/// Typing indicator as carried on the live subject.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct TypingEvent {
    pub conversation_id: String,
    pub state: bool,
    pub sender: super::protocol::Sender,
    pub connection_id: String,
}

/// Subscribes to the conversation, then spawns the task that delivers it.
pub async fn start(
    follower: Follower,
    conversation_id: Uuid,
    start: Start,
) -> Result<JoinHandle<()>, ()> {
    let id = conversation_id.to_string();
    let subjects = &follower.gateway.subjects;
    let stored = follower
        .gateway
        .bus
        .subscribe(&subjects.conversation_all(&id))
        .await;
    let live = follower
        .gateway
        .bus
        .subscribe(&subjects.conversation_live(&id))
        .await;
    let (Ok(stored), Ok(live)) = (stored, live) else {
        tracing::warn!(conversation_id = %id, "cannot subscribe to conversation");
        return Err(());
    };
    let events = futures_util::stream::select(stored, live);
    Ok(tokio::spawn(run(follower, conversation_id, start, events)))
}

async fn run(
    follower: Follower,
    conversation_id: Uuid,
    start: Start,
    mut events: futures_util::stream::Select<
        switchboard_platform::bus::Subscription,
        switchboard_platform::bus::Subscription,
    >,
) {
    let mut last = start.after_seq;
    match catch_up(&follower, conversation_id, &mut last).await {
        Ok(complete) => {
            if start.announce {
                let outcome = if complete { "recovered" } else { "partial" };
                metrics::counter!("switchboard_ws_resumes_total", "outcome" => outcome)
                    .increment(1);
                follower.outbound.send(&ServerFrame::Resumed {
                    conversation_id: conversation_id.to_string(),
                    recovered: complete,
                    last_seq: last,
                });
            }
        }
        Err(()) => return history_down(&follower),
    }
    if follower.is_agent && send_notes(&follower, conversation_id).await.is_err() {
        return history_down(&follower);
    }
    send_read_marks(&follower, conversation_id).await;
    loop {
        let event = tokio::select! {
            () = follower.outbound.closed() => return,
            event = events.next() => event,
        };
        let Some(event) = event else { return };
        if event.subject.ends_with(".typing") {
            typing(&follower, &event.payload);
            continue;
        }
        if event.subject.ends_with(".read") {
            read_receipt(&follower, &event.payload);
            continue;
        }
        if event.subject.ends_with(".queue") {
            queue_position(&follower, &event.payload);
            continue;
        }
        let Ok(envelope) = Envelope::decode(event.payload.as_ref()) else {
            tracing::warn!(subject = %event.subject, "undecodable event ignored");
            continue;
        };
        match envelope.payload {
            Some(Payload::MessageAppended(appended)) => {
                let Some(message) = appended.message else {
                    continue;
                };
                if message.seq <= last {
                    continue;
                }
                if message.seq == last + 1 {
                    last = message.seq;
                    deliver_live(&follower, &message, &event);
                } else if catch_up(&follower, conversation_id, &mut last)
                    .await
                    .is_err()
                {
                    return history_down(&follower);
                }
            }
            Some(Payload::ConversationAssigned(assigned)) => {
                if let Some(conversation) = assigned.conversation {
                    state_changed(&follower, &conversation).await;
                }
            }
            Some(Payload::ConversationRequeued(requeued)) => {
                if let Some(conversation) = requeued.conversation {
                    state_changed(&follower, &conversation).await;
                }
            }
            Some(Payload::ConversationTransferred(transferred)) => {
                if let Some(conversation) = transferred.conversation {
                    state_changed(&follower, &conversation).await;
                }
            }
            Some(Payload::NoteAdded(added)) => {
                if follower.is_agent
                    && let Some(note) = added.note
                {
                    follower.outbound.send(&view::note(&note));
                }
            }
            Some(Payload::ConversationClosed(closed)) => {
                if let Some(conversation) = closed.conversation {
                    state_changed(&follower, &conversation).await;
                }
                return;
            }
            _ => {}
        }
    }
}

/// Delivers every stored message after `last`; returns whether all were delivered (false when
/// the replay limit stopped it).
async fn catch_up(follower: &Follower, conversation_id: Uuid, last: &mut u64) -> Result<bool, ()> {
    let limit = follower.gateway.config.replay_limit.max(1);
    let mut delivered = 0usize;
    loop {
        // Never read past the limit: a replay stops after exactly `limit` messages.
        let page_size = u32::try_from(limit - delivered).map_or(PAGE, |left| left.min(PAGE));
        let request = history_pb::ListMessagesRequest {
            workspace_id: follower.workspace_id.to_string(),
            conversation_id: conversation_id.to_string(),
            after_seq: *last,
            page: Some(switchboard_proto::common::v1::PageRequest { limit: page_size }),
        };
        let page = match follower
            .gateway
            .peers
            .history
            .clone()
            .list_messages(request)
            .await
        {
            Ok(page) => page.into_inner(),
            Err(status) => {
                tracing::warn!(%conversation_id, %status, "cannot read history");
                return Err(());
            }
        };
        for message in &page.messages {
            if message.seq != *last + 1 {
                // History itself is gapless; anything else is a bug worth shouting about.
                tracing::error!(%conversation_id, expected = *last + 1, got = message.seq, "history returned a gap");
                return Err(());
            }
            *last = message.seq;
            if !follower
                .outbound
                .send_waiting(&view::message(message))
                .await
            {
                return Ok(false);
            }
            delivered += 1;
        }
        if !page.has_more {
            return Ok(true);
        }
        if delivered >= limit {
            return Ok(false);
        }
    }
}

/// Queues a live message to the socket, in a span that continues the sender's trace (the
/// event's `traceparent`, from the outbox that published it).
fn deliver_live(follower: &Follower, message: &history_pb::Message, event: &Event) {
    let span = tracing::info_span!(
        "ws.deliver",
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.destination.name = %event.subject,
        conversation_id = %message.conversation_id,
        seq = message.seq,
    );
    let mut frame = view::message(message);
    if let Some(traceparent) = &event.trace_parent {
        switchboard_platform::trace::continue_trace(&span, traceparent);
        if let ServerFrame::Message { trace_id, .. } = &mut frame {
            *trace_id = view::trace_id_of(traceparent);
        }
    }
    let _entered = span.enter();
    record_delivery_latency(message);
    follower.outbound.send(&frame);
}

/// Records commit → socket queue latency of a live message.
fn record_delivery_latency(message: &history_pb::Message) {
    let Some(created) = message.created_at.as_ref() else {
        return;
    };
    let Some(created) = chrono::DateTime::from_timestamp(
        created.seconds,
        u32::try_from(created.nanos).unwrap_or(0),
    ) else {
        return;
    };
    let latency = (chrono::Utc::now() - created).to_std().unwrap_or_default();
    metrics::histogram!("switchboard_message_delivery_seconds").record(latency.as_secs_f64());
}

fn history_down(follower: &Follower) {
    metrics::counter!("switchboard_ws_follow_failures_total").increment(1);
    follower
        .outbound
        .close_with(1013, "history unavailable; reconnect and resume");
}

/// Sends the notes of a conversation (agents, after the message replay).
async fn send_notes(follower: &Follower, conversation_id: Uuid) -> Result<(), ()> {
    let request = history_pb::ListNotesRequest {
        workspace_id: follower.workspace_id.to_string(),
        conversation_id: conversation_id.to_string(),
    };
    let notes = match follower
        .gateway
        .peers
        .history
        .clone()
        .list_notes(request)
        .await
    {
        Ok(response) => response.into_inner().notes,
        Err(status) => {
            tracing::warn!(%conversation_id, %status, "cannot read notes");
            return Err(());
        }
    };
    for note in &notes {
        follower.outbound.send(&view::note(note));
    }
    Ok(())
}

/// Tells the socket a conversation's state and holder.
pub async fn state_changed(follower: &Follower, conversation: &history_pb::Conversation) {
    let agent = match &conversation.assigned_agent_id {
        Some(agent_id) => Some(AgentRef {
            id: agent_id.clone(),
            name: follower
                .gateway
                .agent_name(&conversation.workspace_id, agent_id)
                .await,
        }),
        None => None,
    };
    follower.outbound.send(&ServerFrame::Conversation {
        conversation_id: conversation.id.clone(),
        status: view::status(conversation.status),
        agent,
        rating_requested: conversation.rating_requested && conversation.rating_score.is_none(),
    });
}

fn read_receipt(follower: &Follower, payload: &[u8]) {
    let Ok(event) = serde_json::from_slice::<ReadEvent>(payload) else {
        return;
    };
    if event.connection_id == follower.connection_id {
        return;
    }
    follower.outbound.send(&ServerFrame::Read {
        conversation_id: event.conversation_id,
        reader: event.reader,
        seq: event.seq,
    });
}

/// Sends every participant's read mark (after a replay). Best effort: receipts are a hint.
async fn send_read_marks(follower: &Follower, conversation_id: Uuid) {
    let request = history_pb::ListReadsRequest {
        workspace_id: follower.workspace_id.to_string(),
        conversation_id: conversation_id.to_string(),
    };
    let Ok(marks) = follower
        .gateway
        .peers
        .history
        .clone()
        .list_reads(request)
        .await
    else {
        return;
    };
    for mark in marks.into_inner().marks {
        let agent = mark.reader_kind == SenderKind::Agent as i32;
        let name = if agent {
            follower
                .gateway
                .agent_name(&follower.workspace_id.to_string(), &mark.reader_id)
                .await
        } else {
            "Visitor".to_owned()
        };
        follower.outbound.send(&ServerFrame::Read {
            conversation_id: conversation_id.to_string(),
            reader: super::protocol::Sender {
                kind: if agent { "agent" } else { "visitor" }.to_owned(),
                id: mark.reader_id,
                name,
            },
            seq: mark.last_read_seq,
        });
    }
}

fn queue_position(follower: &Follower, payload: &[u8]) {
    let Ok(position) = QueuePosition::decode(payload) else {
        tracing::warn!("undecodable queue position ignored");
        return;
    };
    follower.outbound.send(&ServerFrame::Queue {
        conversation_id: position.conversation_id,
        position: position.position,
        expected_wait_secs: position.expected_wait_secs,
    });
}

fn typing(follower: &Follower, payload: &[u8]) {
    let Ok(event) = serde_json::from_slice::<TypingEvent>(payload) else {
        return;
    };
    if event.connection_id == follower.connection_id {
        return;
    }
    follower.outbound.send(&ServerFrame::Typing {
        conversation_id: event.conversation_id,
        state: event.state,
        sender: event.sender,
    });
}
