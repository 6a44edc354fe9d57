//! REST API of the agent console beyond the WebSocket: canned replies and conversation tags.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /v1/canned-replies` | the caller's personal replies, then the workspace's |
//! | `POST /v1/canned-replies` | `{"shortcut","text","scope"}`; `scope` `personal` (default) or `workspace` (admins and supervisors) |
//! | `PATCH /v1/canned-replies/{id}` | `{"shortcut"?,"text"?}`; own personal replies, or workspace ones for admins and supervisors |
//! | `DELETE /v1/canned-replies/{id}` | same rights as `PATCH` |
//! | `PUT /v1/conversations/{id}/tags` | `{"tags":[…]}`; by the agent holding the conversation, or admins and supervisors |
//! | `POST /v1/announcements` | `{"text","department_id"?}` to every online agent (of the department); admins and supervisors; 202 |
//! | `GET /v1/search?q=…&limit=…` | messages of the workspace containing every word of `q` (2-200 characters), newest first |
//! | `GET /v1/directory` | colleagues (`id`, `name`, `status`, `load`, `max_concurrent`; enabled agents only) and departments, for transfers |
//!
//! Another workspace's ids answer 404 like ids that do not exist.

use crate::error::ApiError;
use crate::http::{authenticate, json_body};
use crate::state::Gateway;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::AgentRole;
use switchboard_proto::history::v1 as history_pb;

/// Routes of the console API.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/canned-replies", get(list).post(create))
        .route("/v1/canned-replies/{id}", patch(update).delete(remove))
        .route("/v1/conversations/{id}/tags", put(set_tags))
        .route("/v1/directory", get(directory))
        .route("/v1/search", get(search))
        .route("/v1/visitors/{id}", get(visitor))
        .route("/v1/announcements", post(announce))
}

/// The authenticated caller.
struct Caller {
    workspace_id: String,
    agent_id: String,
    name: String,
    /// Admin or supervisor: may manage what the whole workspace shares.
    manages_workspace: bool,
}

async fn caller(gateway: &Gateway, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let session = authenticate(gateway, headers).await?;
    let (Some(agent), Some(workspace)) = (session.agent, session.workspace) else {
        return Err(ApiError::unauthorized());
    };
    let manages_workspace =
        [AgentRole::Admin as i32, AgentRole::Supervisor as i32].contains(&agent.role);
    Ok(Caller {
        workspace_id: workspace.id,
        agent_id: agent.id,
        name: agent.name,
        manages_workspace,
    })
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

/// Full-text search over the workspace's messages, for agents.
async fn search(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let messages = gateway
        .peers
        .history
        .clone()
        .search_messages(history_pb::SearchMessagesRequest {
            workspace_id: caller.workspace_id,
            query: query.q,
            page: Some(switchboard_proto::common::v1::PageRequest {
                limit: query.limit.unwrap_or(50),
            }),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .messages;
    let results: Vec<Value> = messages
        .iter()
        .map(|message| serde_json::to_value(crate::ws::view::message(message)).unwrap_or_default())
        .collect();
    Ok(Json(json!({ "results": results })))
}

/// A visitor of the caller's workspace with its conversations, newest first: whether the site
/// verified who it is (signed identity), its name, email and page, and its past chats.
async fn visitor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    axum::extract::Path(visitor_id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let visitor = gateway
        .peers
        .history
        .clone()
        .get_visitor(history_pb::GetVisitorRequest {
            workspace_id: caller.workspace_id.clone(),
            visitor_id: visitor_id.clone(),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "visitor_not_found"))?
        .into_inner()
        .visitor
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "visitor_not_found",
                "visitor not found",
            )
        })?;
    let conversations = gateway
        .peers
        .history
        .clone()
        .list_conversations(history_pb::ListConversationsRequest {
            workspace_id: caller.workspace_id,
            visitor_id: Some(visitor_id),
            page: Some(switchboard_proto::common::v1::PageRequest { limit: 50 }),
            ..Default::default()
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "visitor_not_found"))?
        .into_inner()
        .conversations;
    let verified = visitor
        .metadata
        .get("verified")
        .is_some_and(|value| value == "true")
        && visitor.external_id.is_some();
    Ok(Json(json!({
        "visitor": {
            "id": visitor.id,
            "name": visitor.display_name,
            "verified": verified,
            // The site's own id, only for a verified customer.
            "external_id": if verified { visitor.external_id.clone() } else { None },
            "email": visitor.metadata.get("email"),
            "page_url": visitor.metadata.get("page_url"),
        },
        "conversations": conversations.iter().map(crate::ws::view::conversation).collect::<Vec<_>>(),
    })))
}

/// Who a conversation can be transferred to: enabled agents with their load, and departments.
async fn directory(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let agents: Vec<Value> = crate::admin::agents_with_load(&gateway, &caller.workspace_id)
        .await?
        .into_iter()
        .filter(|(agent, _)| !agent.disabled)
        .map(|(agent, load)| {
            json!({
                "id": agent.id,
                "name": agent.name,
                "status": crate::ws::view::agent_status(agent.status),
                "load": load,
                "max_concurrent": agent.max_concurrent,
                "department_ids": agent.department_ids,
            })
        })
        .collect();
    let departments: Vec<Value> = gateway
        .peers
        .agents
        .clone()
        .list_departments(agent_pb::ListDepartmentsRequest {
            workspace_id: caller.workspace_id,
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .departments
        .into_iter()
        .map(|department| json!({ "id": department.id, "name": department.name }))
        .collect();
    Ok(Json(
        json!({ "agents": agents, "departments": departments }),
    ))
}

/// Longest announcement, in characters.
const MAX_ANNOUNCEMENT_CHARS: usize = 2000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAnnouncement {
    text: String,
    #[serde(default)]
    department_id: Option<String>,
}

/// Sends an announcement to the online agents of the workspace or of one department.
async fn announce(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewAnnouncement>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = caller(&gateway, &headers).await?;
    if !caller.manages_workspace {
        return Err(forbidden("only admins and supervisors send announcements"));
    }
    let body = json_body(body)?;
    let text = body.text.trim();
    if text.is_empty() || text.chars().count() > MAX_ANNOUNCEMENT_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            "text: must be 1 to 2000 characters",
        ));
    }
    if let Some(department_id) = &body.department_id {
        let known = gateway
            .peers
            .agents
            .clone()
            .list_departments(agent_pb::ListDepartmentsRequest {
                workspace_id: caller.workspace_id.clone(),
            })
            .await
            .map_err(|status| ApiError::from_status(&status, "not_found"))?
            .into_inner()
            .departments
            .iter()
            .any(|department| &department.id == department_id);
        if !known {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "department not found",
            ));
        }
    }
    let announcement = crate::ws::protocol::Announcement {
        id: uuid::Uuid::now_v7().to_string(),
        text: text.to_owned(),
        author: crate::ws::protocol::AnnouncementAuthor {
            id: caller.agent_id,
            name: caller.name,
        },
        department_id: body.department_id,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let payload = serde_json::to_vec(&announcement).unwrap_or_default();
    gateway
        .bus
        .publish_live(
            &gateway
                .subjects
                .workspace_announcements(&caller.workspace_id),
            payload.into(),
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "cannot publish announcement");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "service temporarily unavailable, retry",
            )
        })?;
    metrics::counter!("switchboard_announcements_total").increment(1);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "announcement": announcement })),
    ))
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn reply_json(reply: agent_pb::CannedReply) -> Value {
    json!({
        "id": reply.id,
        "shortcut": reply.shortcut,
        "text": reply.text,
        "scope": if reply.owner_agent_id.is_some() { "personal" } else { "workspace" },
    })
}

async fn list(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let replies = gateway
        .peers
        .agents
        .clone()
        .list_canned_replies(agent_pb::ListCannedRepliesRequest {
            workspace_id: caller.workspace_id,
            agent_id: Some(caller.agent_id),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .replies;
    let replies: Vec<Value> = replies.into_iter().map(reply_json).collect();
    Ok(Json(json!({ "replies": replies })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReply {
    shortcut: String,
    text: String,
    #[serde(default)]
    scope: Option<String>,
}

async fn create(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewReply>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let body = json_body(body)?;
    let owner = match body.scope.as_deref() {
        None | Some("personal") => Some(caller.agent_id.clone()),
        Some("workspace") if caller.manages_workspace => None,
        Some("workspace") => {
            return Err(forbidden(
                "only admins and supervisors share replies with the workspace",
            ));
        }
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "scope: must be personal or workspace",
            ));
        }
    };
    let reply = gateway
        .peers
        .agents
        .clone()
        .create_canned_reply(agent_pb::CreateCannedReplyRequest {
            workspace_id: caller.workspace_id,
            owner_agent_id: owner,
            shortcut: body.shortcut,
            text: body.text,
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .reply;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "reply": reply.map(reply_json) })),
    ))
}

/// Loads a reply and checks the caller may change it.
async fn editable(gateway: &Gateway, caller: &Caller, id: &str) -> Result<(), ApiError> {
    let reply = gateway
        .peers
        .agents
        .clone()
        .get_canned_reply(agent_pb::GetCannedReplyRequest {
            workspace_id: caller.workspace_id.clone(),
            id: id.to_owned(),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .reply
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "canned reply not found")
        })?;
    match reply.owner_agent_id {
        Some(owner) if owner == caller.agent_id => Ok(()),
        // Someone else's personal reply "does not exist" for the caller.
        Some(_) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "canned reply not found",
        )),
        None if caller.manages_workspace => Ok(()),
        None => Err(forbidden(
            "only admins and supervisors change the workspace's replies",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyPatch {
    shortcut: Option<String>,
    text: Option<String>,
}

async fn update(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ReplyPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let body = json_body(body)?;
    editable(&gateway, &caller, &id).await?;
    let reply = gateway
        .peers
        .agents
        .clone()
        .update_canned_reply(agent_pb::UpdateCannedReplyRequest {
            workspace_id: caller.workspace_id,
            id,
            shortcut: body.shortcut,
            text: body.text,
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .reply;
    Ok(Json(json!({ "reply": reply.map(reply_json) })))
}

async fn remove(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    editable(&gateway, &caller, &id).await?;
    gateway
        .peers
        .agents
        .clone()
        .delete_canned_reply(agent_pb::DeleteCannedReplyRequest {
            workspace_id: caller.workspace_id,
            id,
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tags {
    tags: Vec<String>,
}

async fn set_tags(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Tags>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(&gateway, &headers).await?;
    let body = json_body(body)?;
    let conversation = gateway
        .peers
        .history
        .clone()
        .get_conversation(history_pb::GetConversationRequest {
            workspace_id: caller.workspace_id.clone(),
            conversation_id: id.clone(),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .conversation
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "conversation not found")
        })?;
    let holds = conversation.assigned_agent_id.as_deref() == Some(caller.agent_id.as_str());
    if !holds && !caller.manages_workspace {
        return Err(forbidden("the conversation is not assigned to you"));
    }
    let updated = gateway
        .peers
        .history
        .clone()
        .set_conversation_tags(history_pb::SetConversationTagsRequest {
            workspace_id: caller.workspace_id,
            conversation_id: id,
            tags: body.tags,
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .conversation
        .unwrap_or_default();
    Ok(Json(
        json!({ "conversation": { "id": updated.id, "tags": updated.tags } }),
    ))
}
