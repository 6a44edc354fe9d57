//! Stored rows to protobuf messages.

use crate::db::entity::{conversation, message, note, read_mark, visitor};
use crate::store::status;
use switchboard_platform::grpc::timestamp;
use switchboard_proto::common::v1::{ConversationStatus, SenderKind};
use switchboard_proto::history::v1 as pb;

/// Converts a stored conversation.
pub fn conversation(model: &conversation::Model) -> pb::Conversation {
    pb::Conversation {
        id: model.id.to_string(),
        workspace_id: model.workspace_id.to_string(),
        visitor_id: model.visitor_id.to_string(),
        department_id: model.department_id.map(|id| id.to_string()),
        status: match model.status.as_str() {
            status::QUEUED => ConversationStatus::Queued,
            status::ASSIGNED => ConversationStatus::Assigned,
            status::CLOSED => ConversationStatus::Closed,
            _ => ConversationStatus::Unspecified,
        } as i32,
        assigned_agent_id: model.assigned_agent_id.map(|id| id.to_string()),
        last_seq: u64::try_from(model.last_seq).unwrap_or(0),
        created_at: Some(timestamp(model.created_at)),
        updated_at: Some(timestamp(model.updated_at)),
        closed_at: model.closed_at.map(timestamp),
        tags: serde_json::from_str(&model.tags).unwrap_or_default(),
        offline: model.offline,
        contact_email: model.contact_email.clone(),
        rating_requested: model.rating_requested,
        rating_score: model
            .rating_score
            .and_then(|score| u32::try_from(score).ok()),
        rating_comment: model.rating_comment.clone(),
    }
}

/// Converts a stored read mark.
pub fn read_mark(model: &read_mark::Model) -> pb::ReadMark {
    pb::ReadMark {
        reader_kind: match model.reader_kind.as_str() {
            "visitor" => SenderKind::Visitor,
            "agent" => SenderKind::Agent,
            _ => SenderKind::Unspecified,
        } as i32,
        reader_id: model.reader_id.clone(),
        last_read_seq: u64::try_from(model.last_read_seq).unwrap_or(0),
    }
}

/// Converts a stored note.
pub fn note(model: &note::Model) -> pb::Note {
    pb::Note {
        id: model.id.to_string(),
        conversation_id: model.conversation_id.to_string(),
        author_id: model.author_id.clone(),
        author_name: model.author_name.clone(),
        text: model.text.clone(),
        created_at: Some(timestamp(model.created_at)),
    }
}

/// Converts a stored message.
pub fn message(model: &message::Model) -> pb::Message {
    pb::Message {
        conversation_id: model.conversation_id.to_string(),
        seq: u64::try_from(model.seq).unwrap_or(0),
        sender_kind: match model.sender_kind.as_str() {
            "visitor" => SenderKind::Visitor,
            "agent" => SenderKind::Agent,
            "system" => SenderKind::System,
            _ => SenderKind::Unspecified,
        } as i32,
        sender_id: model.sender_id.clone(),
        client_msg_id: model.client_msg_id.clone(),
        text: model.text.clone(),
        created_at: Some(timestamp(model.created_at)),
        sender_name: model.sender_name.clone(),
    }
}

/// Converts a stored visitor.
pub fn visitor(model: &visitor::Model) -> pb::Visitor {
    pb::Visitor {
        id: model.id.to_string(),
        workspace_id: model.workspace_id.to_string(),
        external_id: model.external_id.clone(),
        display_name: model.display_name.clone(),
        metadata: serde_json::from_value(model.metadata.clone()).unwrap_or_default(),
        created_at: Some(timestamp(model.created_at)),
    }
}
