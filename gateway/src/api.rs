//! The public conversation API for integrations (API tokens) and agents (sessions).
//!
//! | Route | Needs | Does |
//! |---|---|---|
//! | `GET /v1/conversations` | read | conversations in creation order, filtered by `status`, `visitor_id`, `agent_id`; cursor `after`, `limit` ≤ 500; `next_after` while more follow |
//! | `GET /v1/conversations/{id}` | read | one conversation |
//! | `GET /v1/conversations/{id}/messages` | read | messages with `seq > after_seq`, in order; `has_more` |
//! | `POST /v1/conversations/{id}/messages` | write | `{"client_msg_id", "text", "sender_name"?}`: an API token sends as a bot (kind `system`, its name), an agent as itself (it must hold the conversation); a retry with the same `client_msg_id` returns the original (`duplicate: true`) |
//! | `POST /v1/conversations/{id}/close` | write | closes it (an agent only its own) |
//!
//! Everything is confined to the caller's workspace: another workspace's ids answer 404.

use crate::error::ApiError;
use crate::http::{json_body, query_params as query};
use crate::principal::{Need, Principal, require};
use crate::state::Gateway;
use crate::ws::view::rfc3339_or_null;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_proto::common::v1::{ConversationStatus, PageRequest, SenderKind};
use switchboard_proto::history::v1 as history_pb;

/// Largest page.
const MAX_LIMIT: u32 = 500;

/// Routes of this module.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/conversations", get(list_conversations))
        .route("/v1/conversations/{id}", get(get_conversation))
        .route(
            "/v1/conversations/{id}/messages",
            get(list_messages).post(send_message),
        )
        .route("/v1/conversations/{id}/close", post(close_conversation))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
}

fn not_found(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "conversation_not_found")
}

fn limit(limit: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match limit.unwrap_or(default) {
        limit @ 1..=MAX_LIMIT => Ok(limit),
        _ => Err(bad_request("limit: must be between 1 and 500")),
    }
}

/// A conversation as the public API shows it.
pub(crate) fn conversation_json(conversation: &history_pb::Conversation) -> Value {
    json!({
        "id": conversation.id,
        "visitor_id": conversation.visitor_id,
        "department_id": conversation.department_id,
        "status": crate::ws::view::status(conversation.status),
        "assigned_agent_id": conversation.assigned_agent_id,
        "last_seq": conversation.last_seq,
        "created_at": rfc3339_or_null(conversation.created_at.as_ref()),
        "updated_at": rfc3339_or_null(conversation.updated_at.as_ref()),
        "closed_at": rfc3339_or_null(conversation.closed_at.as_ref()),
        "tags": conversation.tags,
        "offline": conversation.offline,
        "contact_email": conversation.contact_email,
        "rating_score": conversation.rating_score,
    })
}

/// A message as the public API shows it.
pub(crate) fn message_json(message: &history_pb::Message) -> Value {
    let kind = match SenderKind::try_from(message.sender_kind) {
        Ok(SenderKind::Visitor) => "visitor",
        Ok(SenderKind::Agent) => "agent",
        _ => "system",
    };
    json!({
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender": { "kind": kind, "id": message.sender_id, "name": message.sender_name },
        "client_msg_id": message.client_msg_id,
        "text": message.text,
        "created_at": rfc3339_or_null(message.created_at.as_ref()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationQuery {
    status: Option<String>,
    visitor_id: Option<String>,
    agent_id: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

async fn list_conversations(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    filters: Result<Query<ConversationQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&gateway, &headers, Need::Read).await?;
    let filters = query(filters)?;
    let status = match filters.status.as_deref() {
        None | Some("") => ConversationStatus::Unspecified,
        Some("queued") => ConversationStatus::Queued,
        Some("assigned") => ConversationStatus::Assigned,
        Some("closed") => ConversationStatus::Closed,
        Some(_) => return Err(bad_request("status: must be queued, assigned or closed")),
    };
    let page = gateway
        .peers
        .history
        .clone()
        .list_conversations(history_pb::ListConversationsRequest {
            workspace_id: caller.workspace_id().to_owned(),
            visitor_id: filters.visitor_id,
            agent_id: filters.agent_id,
            status: status as i32,
            page: Some(PageRequest {
                limit: limit(filters.limit, 100)?,
            }),
            after_id: Some(filters.after.unwrap_or_default()),
        })
        .await
        .map_err(not_found)?
        .into_inner();
    Ok(Json(json!({
        "conversations": page.conversations.iter().map(conversation_json).collect::<Vec<_>>(),
        "next_after": page.next_after_id,
    })))
}

async fn fetch(
    gateway: &Gateway,
    caller: &Principal,
    id: &str,
) -> Result<history_pb::Conversation, ApiError> {
    gateway
        .peers
        .history
        .clone()
        .get_conversation(history_pb::GetConversationRequest {
            workspace_id: caller.workspace_id().to_owned(),
            conversation_id: id.to_owned(),
        })
        .await
        .map_err(not_found)?
        .into_inner()
        .conversation
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "conversation_not_found",
                "conversation not found",
            )
        })
}

async fn get_conversation(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&gateway, &headers, Need::Read).await?;
    let conversation = fetch(&gateway, &caller, &id).await?;
    Ok(Json(
        json!({ "conversation": conversation_json(&conversation) }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageQuery {
    after_seq: Option<u64>,
    limit: Option<u32>,
}

async fn list_messages(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    filters: Result<Query<MessageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&gateway, &headers, Need::Read).await?;
    let filters = query(filters)?;
    let page = gateway
        .peers
        .history
        .clone()
        .list_messages(history_pb::ListMessagesRequest {
            workspace_id: caller.workspace_id().to_owned(),
            conversation_id: id,
            after_seq: filters.after_seq.unwrap_or(0),
            page: Some(PageRequest {
                limit: limit(filters.limit, 100)?,
            }),
        })
        .await
        .map_err(not_found)?
        .into_inner();
    Ok(Json(json!({
        "messages": page.messages.iter().map(message_json).collect::<Vec<_>>(),
        "has_more": page.has_more,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    client_msg_id: String,
    text: String,
    sender_name: Option<String>,
}

async fn send_message(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = require(&gateway, &headers, Need::Write).await?;
    let body = json_body(body)?;
    if body.client_msg_id.is_empty() || body.client_msg_id.len() > 64 {
        return Err(bad_request("client_msg_id: must be 1 to 64 characters"));
    }
    let text = body.text.trim();
    if text.is_empty() {
        return Err(bad_request("text: must not be empty"));
    }
    if text.len() > gateway.config.max_text_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_large",
            format!("text: at most {} bytes", gateway.config.max_text_bytes),
        ));
    }
    let (sender_kind, sender_id, default_name) = match &caller {
        Principal::Agent { agent, .. } => (SenderKind::Agent, agent.id.clone(), agent.name.clone()),
        Principal::Token { token, .. } => (
            SenderKind::System,
            format!("token:{}", token.id),
            token.name.clone(),
        ),
    };
    let sender_name = body
        .sender_name
        .filter(|name| !name.trim().is_empty() && matches!(caller, Principal::Token { .. }))
        .unwrap_or(default_name);
    let appended = gateway
        .peers
        .history
        .clone()
        .append_message(history_pb::AppendMessageRequest {
            workspace_id: caller.workspace_id().to_owned(),
            conversation_id: id,
            sender_kind: sender_kind as i32,
            sender_id,
            client_msg_id: body.client_msg_id,
            text: text.to_owned(),
            sender_name,
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::PermissionDenied => ApiError::new(
                StatusCode::FORBIDDEN,
                "not_assigned",
                "the conversation is not assigned to you",
            ),
            tonic::Code::FailedPrecondition => ApiError::new(
                StatusCode::CONFLICT,
                "conversation_closed",
                "the conversation is closed",
            ),
            _ => not_found(status),
        })?
        .into_inner();
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({
            "message": appended.message.as_ref().map(message_json),
            "duplicate": appended.duplicate,
        })),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    request_rating: Option<bool>,
}

async fn close_conversation(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&gateway, &headers, Need::Write).await?;
    // The body is optional, and read only once the caller is known to be allowed.
    let body: CloseBody = if body.iter().all(u8::is_ascii_whitespace) {
        CloseBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", error.to_string())
        })?
    };
    let conversation = fetch(&gateway, &caller, &id).await?;
    if let Principal::Agent { agent, .. } = &caller
        && conversation.assigned_agent_id.as_deref() != Some(agent.id.as_str())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_assigned",
            "the conversation is not assigned to you",
        ));
    }
    let request_rating = body.request_rating.unwrap_or(false);
    let closed = gateway
        .peers
        .history
        .clone()
        .close_conversation(history_pb::CloseConversationRequest {
            workspace_id: caller.workspace_id().to_owned(),
            conversation_id: conversation.id,
            request_rating,
        })
        .await
        .map_err(not_found)?
        .into_inner();
    Ok(Json(json!({
        "conversation": closed.conversation.as_ref().map(conversation_json),
    })))
}
