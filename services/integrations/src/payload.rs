//! What a webhook receiver gets: the Standard Webhooks JSON body of each event type.
//!
//! `{"type": "message.created", "timestamp": "…", "data": {…}}`, where `data` holds the
//! conversation (and the message, or the rating). Internal notes, requeues, transfers and agent
//! presence are not sent: they are agents' business, not the integration's.

use serde_json::{Value, json};
use switchboard_proto::common::v1::{ConversationStatus, SenderKind};
use switchboard_proto::events::v1::{Envelope, envelope::Payload};
use switchboard_proto::history::v1 as history_pb;

/// Every event type a webhook can subscribe to.
pub const EVENT_TYPES: [&str; 6] = [
    "conversation.opened",
    "conversation.assigned",
    "conversation.closed",
    "message.created",
    "offline_message.created",
    "conversation.rated",
];

/// One event ready to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub event_type: &'static str,
    /// Deliveries with the same key go out in order: the conversation.
    pub conversation_id: String,
    /// The JSON body.
    pub body: String,
}

/// Returns the webhook form of `envelope`, or `None` for events integrations do not receive.
pub fn outgoing(envelope: &Envelope) -> Option<Outgoing> {
    let (event_type, conversation, message) = match envelope.payload.as_ref()? {
        Payload::ConversationOpened(opened) => {
            let conversation = opened.conversation.as_ref()?;
            let kind = if conversation.offline {
                "offline_message.created"
            } else {
                "conversation.opened"
            };
            (kind, Some(conversation), None)
        }
        Payload::ConversationAssigned(assigned) => (
            "conversation.assigned",
            assigned.conversation.as_ref(),
            None,
        ),
        Payload::ConversationClosed(closed) => {
            ("conversation.closed", closed.conversation.as_ref(), None)
        }
        Payload::ConversationRated(rated) => {
            ("conversation.rated", rated.conversation.as_ref(), None)
        }
        Payload::MessageAppended(appended) => {
            let message = appended.message.as_ref()?;
            ("message.created", None, Some(message))
        }
        _ => return None,
    };
    let conversation_id = conversation
        .map(|conversation| conversation.id.clone())
        .or_else(|| message.map(|message| message.conversation_id.clone()))?;
    let mut data = json!({ "workspace_id": envelope.workspace_id });
    if let Some(conversation) = conversation {
        data["conversation"] = conversation_json(conversation);
    }
    if let Some(message) = message {
        data["conversation_id"] = json!(message.conversation_id);
        data["message"] = message_json(message);
    }
    let body = json!({
        "type": event_type,
        "timestamp": timestamp(envelope.occurred_at.as_ref()),
        "data": data,
    });
    Some(Outgoing {
        event_type,
        conversation_id,
        body: body.to_string(),
    })
}

fn conversation_json(conversation: &history_pb::Conversation) -> Value {
    let status = match ConversationStatus::try_from(conversation.status) {
        Ok(ConversationStatus::Queued) => "queued",
        Ok(ConversationStatus::Assigned) => "assigned",
        Ok(ConversationStatus::Closed) => "closed",
        _ => "unknown",
    };
    json!({
        "id": conversation.id,
        "visitor_id": conversation.visitor_id,
        "department_id": conversation.department_id,
        "status": status,
        "agent_id": conversation.assigned_agent_id,
        "last_seq": conversation.last_seq,
        "offline": conversation.offline,
        "contact_email": conversation.contact_email,
        "tags": conversation.tags,
        "rating": conversation.rating_score.map(|score| json!({
            "score": score,
            "comment": conversation.rating_comment,
        })),
        "created_at": timestamp(conversation.created_at.as_ref()),
        "closed_at": conversation.closed_at.as_ref().map(|at| timestamp(Some(at))),
    })
}

fn message_json(message: &history_pb::Message) -> Value {
    let kind = match SenderKind::try_from(message.sender_kind) {
        Ok(SenderKind::Agent) => "agent",
        Ok(SenderKind::System) => "system",
        _ => "visitor",
    };
    json!({
        "seq": message.seq,
        "client_msg_id": message.client_msg_id,
        "sender": { "kind": kind, "id": message.sender_id, "name": message.sender_name },
        "text": message.text,
        "created_at": timestamp(message.created_at.as_ref()),
    })
}

/// Returns a protobuf time as a UTC time; now when absent or invalid.
pub fn time_or_now(at: Option<&prost_types::Timestamp>) -> chrono::DateTime<chrono::Utc> {
    at.and_then(|at| chrono::DateTime::from_timestamp(at.seconds, at.nanos.max(0) as u32))
        .unwrap_or_else(chrono::Utc::now)
}

fn timestamp(at: Option<&prost_types::Timestamp>) -> String {
    time_or_now(at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_proto::events::v1::{ConversationOpened, MessageAppended, NoteAdded};

    fn conversation(offline: bool) -> history_pb::Conversation {
        history_pb::Conversation {
            id: "c1".into(),
            workspace_id: "w1".into(),
            visitor_id: "v1".into(),
            status: ConversationStatus::Queued as i32,
            offline,
            ..Default::default()
        }
    }

    #[test]
    fn an_opened_conversation_is_an_offline_message_when_nobody_could_answer() {
        let envelope = |offline| Envelope {
            event_id: "e1".into(),
            workspace_id: "w1".into(),
            payload: Some(Payload::ConversationOpened(ConversationOpened {
                conversation: Some(conversation(offline)),
            })),
            ..Default::default()
        };
        let online = outgoing(&envelope(false)).expect("delivered");
        assert_eq!(online.event_type, "conversation.opened");
        assert_eq!(online.conversation_id, "c1");
        let body: Value = serde_json::from_str(&online.body).expect("json");
        assert_eq!(body["type"], "conversation.opened");
        assert_eq!(body["data"]["conversation"]["status"], "queued");
        assert_eq!(
            outgoing(&envelope(true)).expect("delivered").event_type,
            "offline_message.created"
        );
    }

    #[test]
    fn messages_carry_their_conversation_and_notes_are_never_sent() {
        let message = Envelope {
            workspace_id: "w1".into(),
            payload: Some(Payload::MessageAppended(MessageAppended {
                message: Some(history_pb::Message {
                    conversation_id: "c1".into(),
                    seq: 3,
                    text: "hello".into(),
                    ..Default::default()
                }),
            })),
            ..Default::default()
        };
        let out = outgoing(&message).expect("delivered");
        assert_eq!(
            (out.event_type, out.conversation_id.as_str()),
            ("message.created", "c1")
        );
        let body: Value = serde_json::from_str(&out.body).expect("json");
        assert_eq!(body["data"]["message"]["seq"], 3);
        assert_eq!(body["data"]["message"]["text"], "hello");
        let note = Envelope {
            payload: Some(Payload::NoteAdded(NoteAdded::default())),
            ..Default::default()
        };
        assert_eq!(outgoing(&note), None);
    }
}
