//! Service messages to protocol frames.

use super::protocol::{AgentRef, ConversationView, Sender, ServerFrame};
use switchboard_proto::common::v1::{AgentStatus, ConversationStatus, SenderKind};
use switchboard_proto::history::v1 as history_pb;

/// Converts an internal note to its frame.
pub fn note(note: &history_pb::Note) -> ServerFrame {
    ServerFrame::Note {
        conversation_id: note.conversation_id.clone(),
        id: note.id.clone(),
        author: AgentRef {
            id: note.author_id.clone(),
            name: note.author_name.clone(),
        },
        text: note.text.clone(),
        created_at: rfc3339(note.created_at.as_ref()),
    }
}

/// Returns the protocol name of a conversation status.
pub fn status(status: i32) -> &'static str {
    match ConversationStatus::try_from(status) {
        Ok(ConversationStatus::Assigned) => "assigned",
        Ok(ConversationStatus::Closed) => "closed",
        _ => "queued",
    }
}

/// Returns a conversation as clients see it.
pub fn conversation(conversation: &history_pb::Conversation) -> ConversationView {
    ConversationView {
        id: conversation.id.clone(),
        visitor_id: conversation.visitor_id.clone(),
        department: conversation.department_id.clone(),
        status: status(conversation.status),
        agent_id: conversation.assigned_agent_id.clone(),
        last_seq: conversation.last_seq,
        offline: conversation.offline,
        contact_email: conversation.contact_email.clone(),
        tags: conversation.tags.clone(),
    }
}

/// Returns a conversation as its visitor sees it: without internal tags.
pub fn visitor_conversation(conversation: &history_pb::Conversation) -> ConversationView {
    ConversationView {
        tags: Vec::new(),
        contact_email: None,
        ..self::conversation(conversation)
    }
}

/// Returns the `message` frame of a stored message.
pub fn message(message: &history_pb::Message) -> ServerFrame {
    let kind = match SenderKind::try_from(message.sender_kind) {
        Ok(SenderKind::Agent) => "agent",
        Ok(SenderKind::System) => "system",
        _ => "visitor",
    };
    let name = if message.sender_name.is_empty() {
        match kind {
            "agent" => "Agent",
            "system" => "Switchboard",
            _ => "Visitor",
        }
        .to_owned()
    } else {
        message.sender_name.clone()
    };
    ServerFrame::Message {
        conversation_id: message.conversation_id.clone(),
        seq: message.seq,
        client_msg_id: message.client_msg_id.clone(),
        sender: Sender {
            kind: kind.to_owned(),
            id: message.sender_id.clone(),
            name,
        },
        text: message.text.clone(),
        created_at: rfc3339(message.created_at.as_ref()),
        trace_id: None,
    }
}

/// Returns the trace id (32 hex digits) a W3C `traceparent` names.
pub fn trace_id_of(traceparent: &str) -> Option<String> {
    switchboard_platform::trace::is_traceparent(traceparent).then(|| traceparent[3..35].to_owned())
}

/// Formats a protobuf timestamp as RFC 3339 with milliseconds (empty when absent).
/// Returns a protobuf time as RFC 3339 with milliseconds, or an empty string when absent.
pub(crate) fn rfc3339(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|at| {
        chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
    })
    .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    .unwrap_or_default()
}

/// Returns a protobuf time as a JSON RFC 3339 string, or `null` when absent.
pub(crate) fn rfc3339_or_null(at: Option<&prost_types::Timestamp>) -> serde_json::Value {
    let text = rfc3339(at);
    if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(text)
    }
}

/// Returns the protocol name of an agent status.
pub fn agent_status(status: i32) -> &'static str {
    match AgentStatus::try_from(status) {
        Ok(AgentStatus::Online) => "online",
        Ok(AgentStatus::Away) => "away",
        _ => "offline",
    }
}

/// Parses a protocol agent status.
pub fn agent_status_from(status: &str) -> Option<AgentStatus> {
    match status {
        "online" => Some(AgentStatus::Online),
        "away" => Some(AgentStatus::Away),
        "offline" => Some(AgentStatus::Offline),
        _ => None,
    }
}
