//! Audit log, data retention and visitor privacy (export, erasure) for admins.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /v1/admin/audit` | a page of the audit log, newest first (`action`, `actor_id`, `since`, `until`, `before`, `limit`) |
//! | `GET /v1/admin/audit/export` | every matching entry as NDJSON, newest first |
//! | `GET /v1/admin/visitors/{id}/export` | everything stored about a visitor, as one JSON document |
//! | `DELETE /v1/admin/visitors/{id}` | erases a visitor: messages, notes, conversations, identity, metadata |
//! | `GET/PUT /v1/admin/retention` | how many days closed conversations are kept (`0` = forever) |
//!
//! Export, erasure, retention changes and audit exports are recorded in the audit log *before*
//! they run (outcome `requested`; refused with 503 `audit_unavailable` if that fails) and then
//! completed with their outcome, so none of them can happen unlogged.

use crate::admin::admin_actor;
use crate::error::ApiError;
use crate::http::{json_body, query_params as query};
use crate::state::Gateway;
use crate::ws::view::rfc3339;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_platform::actor::RequestActor;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::{PageRequest, SenderKind};
use switchboard_proto::history::v1 as history_pb;

/// Page size used when reading a visitor's data or the audit log for an export.
const EXPORT_PAGE: u32 = 500;
/// Most conversations one visitor export includes (a visitor with more is exported in part,
/// which the document says).
const MAX_EXPORT_CONVERSATIONS: usize = 1_000;

/// Routes of this module.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/admin/audit", get(audit_page))
        .route("/v1/admin/audit/export", get(audit_export))
        .route(
            "/v1/admin/visitors/{visitor_id}",
            axum::routing::delete(erase_visitor),
        )
        .route(
            "/v1/admin/visitors/{visitor_id}/export",
            get(export_visitor),
        )
        .route("/v1/admin/retention", get(get_retention).put(put_retention))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
}

fn service_error(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "not_found")
}

/// An action recorded in the audit log before it runs.
struct Audited {
    workspace_id: String,
    id: u64,
}

/// Records `action` on `target` as `requested`; 503 `audit_unavailable` when the log cannot
/// be written (the action must then not run).
async fn begin_audit(
    gateway: &Gateway,
    actor: &RequestActor,
    workspace_id: &str,
    action: &str,
    target: Option<(&str, &str)>,
    detail: HashMap<String, String>,
) -> Result<Audited, ApiError> {
    let request = agent_pb::RecordAuditEventRequest {
        workspace_id: workspace_id.to_owned(),
        action: action.to_owned(),
        target_kind: target.map(|(kind, _)| kind.to_owned()),
        target_id: target.map(|(_, id)| id.to_owned()),
        outcome: "requested".to_owned(),
        detail,
    };
    match gateway
        .peers
        .agents
        .clone()
        .record_audit_event(actor.request(request))
        .await
    {
        Ok(response) => Ok(Audited {
            workspace_id: workspace_id.to_owned(),
            id: response.into_inner().id,
        }),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            Err(bad_request(status.message()))
        }
        Err(status) => {
            tracing::error!(code = ?status.code(), message = status.message(), action, "cannot write the audit log");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the audit log cannot be written; nothing was done, retry",
            ))
        }
    }
}

impl Audited {
    /// Completes the entry with `outcome`; a failure is logged (the entry stays `requested`).
    async fn finish(self, gateway: &Gateway, succeeded: bool, detail: HashMap<String, String>) {
        let request = agent_pb::CompleteAuditEventRequest {
            workspace_id: self.workspace_id,
            id: self.id,
            outcome: if succeeded { "succeeded" } else { "failed" }.to_owned(),
            detail,
        };
        if let Err(status) = gateway
            .peers
            .agents
            .clone()
            .complete_audit_event(request)
            .await
        {
            tracing::warn!(id = self.id, code = ?status.code(), "cannot complete an audit entry");
        }
    }
}

/// Runs `action` (a call to another service) recorded in the audit log: `requested` before it
/// runs (refused when that cannot be written), then its outcome. The outer error is the audit
/// log's; the inner result is the call's.
pub(crate) async fn audited<T>(
    gateway: &Gateway,
    actor: &RequestActor,
    workspace_id: &str,
    name: &str,
    target: Option<(&str, &str)>,
    detail: HashMap<String, String>,
    action: impl std::future::Future<Output = Result<T, tonic::Status>>,
) -> Result<Result<T, tonic::Status>, ApiError> {
    let audited = begin_audit(gateway, actor, workspace_id, name, target, detail).await?;
    let result = action.await;
    let detail = match &result {
        Ok(_) => HashMap::new(),
        Err(status) => HashMap::from([("error".to_owned(), format!("{:?}", status.code()))]),
    };
    audited.finish(gateway, result.is_ok(), detail).await;
    Ok(result)
}

/// Filters of the audit routes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    action: Option<String>,
    actor_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<u64>,
    limit: Option<u32>,
}

fn parse_time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<prost_types::Timestamp>, ApiError> {
    value
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|at| switchboard_platform::grpc::timestamp(at.to_utc()))
                .map_err(|_| bad_request(format!("{field}: must be an RFC 3339 time")))
        })
        .transpose()
}

impl AuditQuery {
    fn request(&self, workspace_id: String) -> Result<agent_pb::ListAuditEventsRequest, ApiError> {
        Ok(agent_pb::ListAuditEventsRequest {
            workspace_id,
            before_id: self.before,
            action_prefix: self.action.clone().filter(|action| !action.is_empty()),
            actor_id: self.actor_id.clone().filter(|actor| !actor.is_empty()),
            since: parse_time("since", self.since.as_deref())?,
            until: parse_time("until", self.until.as_deref())?,
            limit: self.limit.unwrap_or(100),
        })
    }
}

fn audit_json(event: &agent_pb::AuditEvent) -> Value {
    json!({
        "id": event.id,
        "occurred_at": rfc3339(event.occurred_at.as_ref()),
        "actor_id": event.actor_id,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "outcome": event.outcome,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent,
        "detail": event.detail,
    })
}

async fn audit_page(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    filters: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, _) = admin_actor(&gateway, &headers).await?;
    let filters = query(filters)?;
    let page = gateway
        .peers
        .agents
        .clone()
        .list_audit_events(filters.request(workspace_id)?)
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(json!({
        "events": page.events.iter().map(audit_json).collect::<Vec<_>>(),
        "next_before": page.next_before_id,
    })))
}

/// Every matching entry as NDJSON, read page by page while the response streams.
async fn audit_export(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    filters: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let mut filters = query(filters)?;
    filters.limit = Some(EXPORT_PAGE);
    let first = filters.request(workspace_id.clone())?;
    // Exporting the log is itself an auditable act (it reveals who did what from where).
    let audited = begin_audit(
        &gateway,
        &actor,
        &workspace_id,
        "audit.export",
        None,
        HashMap::new(),
    )
    .await?;
    audited.finish(&gateway, true, HashMap::new()).await;
    let client = gateway.peers.agents.clone();
    let pages = futures_util::stream::unfold(Some(first), move |next| {
        let mut client = client.clone();
        async move {
            let request = next?;
            match client.list_audit_events(request.clone()).await {
                Ok(page) => {
                    let page = page.into_inner();
                    let mut chunk = String::new();
                    for event in &page.events {
                        chunk.push_str(&audit_json(event).to_string());
                        chunk.push('\n');
                    }
                    let next = page
                        .next_before_id
                        .map(|before| agent_pb::ListAuditEventsRequest {
                            before_id: Some(before),
                            ..request
                        });
                    Some((Ok::<_, std::io::Error>(chunk), next))
                }
                // The status line is sent already: end the body early so the client sees a
                // truncated export rather than a silently short one.
                Err(status) => Some((Err(std::io::Error::other(status.code().to_string())), None)),
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(pages),
    )
        .into_response())
}

fn sender_kind(kind: i32) -> &'static str {
    match SenderKind::try_from(kind) {
        Ok(SenderKind::Visitor) => "visitor",
        Ok(SenderKind::Agent) => "agent",
        _ => "system",
    }
}

/// Reads everything stored about one visitor from conversation history.
async fn visitor_document(
    gateway: &Gateway,
    workspace_id: &str,
    visitor_id: &str,
) -> Result<Value, ApiError> {
    let mut history = gateway.peers.history.clone();
    let visitor = history
        .get_visitor(history_pb::GetVisitorRequest {
            workspace_id: workspace_id.to_owned(),
            visitor_id: visitor_id.to_owned(),
        })
        .await
        .map_err(|status| ApiError::from_status(&status, "visitor_not_found"))?
        .into_inner()
        .visitor
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "visitor_not_found",
                "visitor not found",
            )
        })?;
    let mut conversations = Vec::new();
    let mut cursor = String::new();
    let mut complete = true;
    loop {
        let page = history
            .list_conversations(history_pb::ListConversationsRequest {
                workspace_id: workspace_id.to_owned(),
                visitor_id: Some(visitor_id.to_owned()),
                page: Some(PageRequest { limit: EXPORT_PAGE }),
                after_id: Some(cursor.clone()),
                ..Default::default()
            })
            .await
            .map_err(service_error)?
            .into_inner();
        conversations.extend(page.conversations);
        match page.next_after_id {
            Some(next) if conversations.len() < MAX_EXPORT_CONVERSATIONS => cursor = next,
            Some(_) => {
                complete = false;
                break;
            }
            None => break,
        }
    }
    let mut documents = Vec::with_capacity(conversations.len());
    for conversation in &conversations {
        let mut messages = Vec::new();
        let mut after_seq = 0;
        loop {
            let page = history
                .list_messages(history_pb::ListMessagesRequest {
                    workspace_id: workspace_id.to_owned(),
                    conversation_id: conversation.id.clone(),
                    after_seq,
                    page: Some(PageRequest { limit: EXPORT_PAGE }),
                })
                .await
                .map_err(service_error)?
                .into_inner();
            let has_more = page.has_more;
            let page = page.messages;
            let Some(last) = page.last() else { break };
            after_seq = last.seq;
            messages.extend(page.iter().map(|message| {
                json!({
                    "seq": message.seq,
                    "sender_kind": sender_kind(message.sender_kind),
                    "sender_id": message.sender_id,
                    "sender_name": message.sender_name,
                    "client_msg_id": message.client_msg_id,
                    "text": message.text,
                    "created_at": rfc3339(message.created_at.as_ref()),
                })
            }));
            if !has_more {
                break;
            }
        }
        let notes = history
            .list_notes(history_pb::ListNotesRequest {
                workspace_id: workspace_id.to_owned(),
                conversation_id: conversation.id.clone(),
            })
            .await
            .map_err(service_error)?
            .into_inner()
            .notes;
        documents.push(json!({
            "id": conversation.id,
            "status": crate::ws::view::status(conversation.status),
            "department_id": conversation.department_id,
            "assigned_agent_id": conversation.assigned_agent_id,
            "created_at": rfc3339(conversation.created_at.as_ref()),
            "closed_at": rfc3339(conversation.closed_at.as_ref()),
            "tags": conversation.tags,
            "offline": conversation.offline,
            "contact_email": conversation.contact_email,
            "rating_score": conversation.rating_score,
            "rating_comment": conversation.rating_comment,
            "messages": messages,
            "notes": notes.iter().map(|note| json!({
                "author_id": note.author_id,
                "author_name": note.author_name,
                "text": note.text,
                "created_at": rfc3339(note.created_at.as_ref()),
            })).collect::<Vec<_>>(),
        }));
    }
    Ok(json!({
        "format": "switchboard.visitor-export.v1",
        "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "complete": complete,
        "visitor": {
            "id": visitor.id,
            "external_id": visitor.external_id,
            "display_name": visitor.display_name,
            "metadata": visitor.metadata,
            "created_at": rfc3339(visitor.created_at.as_ref()),
        },
        "conversations": documents,
    }))
}

async fn export_visitor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(visitor_id): Path<String>,
) -> Result<Response, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let audited = begin_audit(
        &gateway,
        &actor,
        &workspace_id,
        "visitor.export",
        Some(("visitor", &visitor_id)),
        HashMap::new(),
    )
    .await?;
    let document = visitor_document(&gateway, &workspace_id, &visitor_id).await;
    audited
        .finish(&gateway, document.is_ok(), HashMap::new())
        .await;
    let disposition = format!(
        "attachment; filename=\"visitor-{}.json\"",
        visitor_id.replace(['"', '\\', '\r', '\n'], "")
    );
    Ok((
        [(header::CONTENT_DISPOSITION, disposition)],
        Json(document?),
    )
        .into_response())
}

async fn erase_visitor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(visitor_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let audited = begin_audit(
        &gateway,
        &actor,
        &workspace_id,
        "visitor.erase",
        Some(("visitor", &visitor_id)),
        HashMap::new(),
    )
    .await?;
    let erased = gateway
        .peers
        .history
        .clone()
        .erase_visitor(history_pb::EraseVisitorRequest {
            workspace_id,
            visitor_id,
        })
        .await
        .map(tonic::Response::into_inner);
    let detail = erased.as_ref().map_or_else(
        |_| HashMap::new(),
        |erased| {
            HashMap::from([
                ("conversations".to_owned(), erased.conversations.to_string()),
                ("messages".to_owned(), erased.messages.to_string()),
                ("notes".to_owned(), erased.notes.to_string()),
            ])
        },
    );
    audited.finish(&gateway, erased.is_ok(), detail).await;
    let erased = erased.map_err(|status| ApiError::from_status(&status, "visitor_not_found"))?;
    Ok(Json(json!({
        "erased": {
            "conversations": erased.conversations,
            "messages": erased.messages,
            "notes": erased.notes,
        }
    })))
}

fn retention_json(policy: Option<history_pb::RetentionPolicy>) -> Value {
    let policy = policy.unwrap_or_default();
    json!({
        "days": policy.days,
        "updated_at": crate::ws::view::rfc3339_or_null(policy.updated_at.as_ref()),
    })
}

async fn get_retention(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, _) = admin_actor(&gateway, &headers).await?;
    let policy = gateway
        .peers
        .history
        .clone()
        .get_retention(history_pb::GetRetentionRequest { workspace_id })
        .await
        .map_err(service_error)?
        .into_inner()
        .policy;
    Ok(Json(retention_json(policy)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionBody {
    days: i64,
}

async fn put_retention(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<RetentionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let days = u32::try_from(body.days)
        .ok()
        .filter(|days| *days <= 3650)
        .ok_or_else(|| bad_request("days: must be 0 (keep forever) or between 1 and 3650"))?;
    let audited = begin_audit(
        &gateway,
        &actor,
        &workspace_id,
        "retention.update",
        Some(("workspace", &workspace_id)),
        HashMap::from([("days".to_owned(), days.to_string())]),
    )
    .await?;
    let policy = gateway
        .peers
        .history
        .clone()
        .set_retention(history_pb::SetRetentionRequest { workspace_id, days })
        .await
        .map(tonic::Response::into_inner);
    audited
        .finish(&gateway, policy.is_ok(), HashMap::new())
        .await;
    Ok(Json(retention_json(policy.map_err(service_error)?.policy)))
}
