//! Admin REST API of webhooks and the event feed, backed by the integrations service.
//!
//! Every route needs the bearer token of an admin of the workspace (others get 403
//! `forbidden`) and only ever touches the caller's workspace.
//!
//! | Route | Does |
//! |---|---|
//! | `GET/POST /v1/admin/webhooks` | list / create endpoints (the answer to POST carries the secret, once) |
//! | `PATCH/DELETE /v1/admin/webhooks/{id}` | change URL, events, description, enabled / delete |
//! | `POST /v1/admin/webhooks/{id}/rotate-secret` | new secret; the old one still signs for 24 h |
//! | `GET /v1/admin/webhooks/{id}/deliveries?status=&cursor=&limit=` | delivery log, newest first |
//! | `POST /v1/admin/webhook-deliveries/{id}/replay` | send a delivery again |
//! | `GET/PUT /v1/admin/integrations/settings` | `{"allow_private_network": bool}` |
//! | `GET /v1/events?after=&limit=&wait=` | the workspace's event feed after a cursor; `wait` (seconds, at most 25) long-polls |

use crate::admin::{admin, admin_actor};
use crate::error::ApiError;
use crate::http::{json_body, query_params};
use crate::principal::{Need, Principal, require};
use crate::privacy::audited;
use crate::state::Gateway;
use crate::ws::view::rfc3339_or_null;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_proto::integrations::v1 as pb;

/// Routes of webhooks and integration settings.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/admin/webhooks", get(list).post(create))
        .route(
            "/v1/admin/webhooks/{webhook_id}",
            patch(update).delete(delete),
        )
        .route(
            "/v1/admin/webhooks/{webhook_id}/rotate-secret",
            post(rotate_secret),
        )
        .route(
            "/v1/admin/webhooks/{webhook_id}/deliveries",
            get(deliveries),
        )
        .route(
            "/v1/admin/webhook-deliveries/{delivery_id}/replay",
            post(replay),
        )
        .route(
            "/v1/admin/integrations/settings",
            get(get_settings).put(put_settings),
        )
        .route("/v1/events", get(events))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    after: Option<String>,
    limit: Option<u32>,
    /// Seconds to wait for an event when there is none yet (long poll, at most 25).
    wait: Option<u32>,
}

/// `GET /v1/events`: an integration that was away passes its last cursor and gets exactly what
/// it missed, in order (410 `cursor_expired` when that is older than the retention window).
async fn events(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    // Every event of the workspace: admins, and integrations holding any API token scope.
    let principal = require(&gateway, &headers, Need::Read).await?;
    if matches!(principal, Principal::Agent { .. }) && !principal.allows(Need::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the event feed is for administrators and API tokens",
        ));
    }
    let workspace_id = principal.workspace_id().to_owned();
    let query = query_params(query)?;
    let page = gateway
        .peers
        .integrations
        .clone()
        .list_events(pb::ListEventsRequest {
            workspace_id,
            after_cursor: query.after.unwrap_or_default(),
            limit: query.limit.unwrap_or(0),
            // Under the gRPC channel's 30 s deadline.
            wait_ms: query.wait.unwrap_or(0).min(25) * 1000,
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::FailedPrecondition => ApiError::new(
                StatusCode::GONE,
                "cursor_expired",
                "events after this cursor were dropped by the retention window; start again without a cursor",
            ),
            _ => service_error(status),
        })?
        .into_inner();
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|event| {
            let body: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
            json!({
                "cursor": event.cursor,
                "type": event.event_type,
                "conversation_id": event.conversation_id,
                "occurred_at": rfc3339_or_null(event.occurred_at.as_ref()),
                "data": body["data"],
            })
        })
        .collect();
    Ok(Json(
        json!({ "events": events, "next_cursor": page.next_cursor }),
    ))
}

fn service_error(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "not_found")
}

fn webhook_json(webhook: &pb::Webhook) -> Value {
    json!({
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events,
        "enabled": webhook.enabled,
        "description": webhook.description,
        "created_at": rfc3339_or_null(webhook.created_at.as_ref()),
        "previous_secret_expires_at": rfc3339_or_null(webhook.previous_secret_expires_at.as_ref()),
    })
}

fn status_name(status: i32) -> &'static str {
    match pb::DeliveryStatus::try_from(status) {
        Ok(pb::DeliveryStatus::Pending) => "pending",
        Ok(pb::DeliveryStatus::Delivered) => "delivered",
        Ok(pb::DeliveryStatus::Dead) => "dead",
        _ => "unknown",
    }
}

fn delivery_json(delivery: &pb::Delivery) -> Value {
    json!({
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "message_id": delivery.message_id,
        "event_type": delivery.event_type,
        "conversation_id": delivery.conversation_id,
        "status": status_name(delivery.status),
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": rfc3339_or_null(delivery.created_at.as_ref()),
        "next_attempt_at": rfc3339_or_null(delivery.next_attempt_at.as_ref()),
        "delivered_at": rfc3339_or_null(delivery.delivered_at.as_ref()),
        "payload": delivery.payload,
    })
}

async fn list(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let listed = gateway
        .peers
        .integrations
        .clone()
        .list_webhooks(pb::ListWebhooksRequest { workspace_id })
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(
        json!({ "webhooks": listed.webhooks.iter().map(webhook_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    description: String,
}

async fn create(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewWebhook>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let detail = HashMap::from([
        ("url".to_owned(), redacted_url(&body.url)),
        ("events".to_owned(), body.events.join(",")),
    ]);
    let request = pb::CreateWebhookRequest {
        workspace_id: workspace_id.clone(),
        url: body.url,
        events: body.events,
        description: body.description,
    };
    let mut integrations = gateway.peers.integrations.clone();
    let created = audited(
        &gateway,
        &actor,
        &workspace_id,
        "webhook.create",
        None,
        detail,
        integrations.create_webhook(request),
    )
    .await?
    .map_err(service_error)?
    .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "webhook": created.webhook.as_ref().map(webhook_json),
            "secret": created.secret,
        })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
}

async fn update(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
    body: Result<Json<WebhookPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let mut detail = HashMap::new();
    if let Some(url) = &body.url {
        detail.insert("url".to_owned(), redacted_url(url));
    }
    if let Some(events) = &body.events {
        detail.insert("events".to_owned(), events.join(","));
    }
    if let Some(enabled) = body.enabled {
        detail.insert("enabled".to_owned(), enabled.to_string());
    }
    let request = pb::UpdateWebhookRequest {
        workspace_id: workspace_id.clone(),
        webhook_id: webhook_id.clone(),
        url: body.url,
        events: body.events.map(|events| pb::EventFilter { events }),
        enabled: body.enabled,
        description: body.description,
    };
    let mut integrations = gateway.peers.integrations.clone();
    let updated = audited(
        &gateway,
        &actor,
        &workspace_id,
        "webhook.update",
        Some(("webhook", &webhook_id)),
        detail,
        integrations.update_webhook(request),
    )
    .await?
    .map_err(service_error)?
    .into_inner();
    Ok(Json(
        json!({ "webhook": updated.webhook.as_ref().map(webhook_json) }),
    ))
}

async fn delete(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let request = pb::DeleteWebhookRequest {
        workspace_id: workspace_id.clone(),
        webhook_id: webhook_id.clone(),
    };
    let mut integrations = gateway.peers.integrations.clone();
    audited(
        &gateway,
        &actor,
        &workspace_id,
        "webhook.delete",
        Some(("webhook", &webhook_id)),
        HashMap::new(),
        integrations.delete_webhook(request),
    )
    .await?
    .map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let request = pb::RotateWebhookSecretRequest {
        workspace_id: workspace_id.clone(),
        webhook_id: webhook_id.clone(),
    };
    let mut integrations = gateway.peers.integrations.clone();
    let rotated = audited(
        &gateway,
        &actor,
        &workspace_id,
        "webhook.rotate_secret",
        Some(("webhook", &webhook_id)),
        HashMap::new(),
        integrations.rotate_webhook_secret(request),
    )
    .await?
    .map_err(service_error)?
    .into_inner();
    Ok(Json(json!({
        "webhook": rotated.webhook.as_ref().map(webhook_json),
        "secret": rotated.secret,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn deliveries(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
    query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let query = query_params(query)?;
    let status = match query.status.as_deref() {
        None | Some("") => pb::DeliveryStatus::Unspecified,
        Some("pending") => pb::DeliveryStatus::Pending,
        Some("delivered") => pb::DeliveryStatus::Delivered,
        Some("dead") => pb::DeliveryStatus::Dead,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "status: must be pending, delivered or dead",
            ));
        }
    };
    let page = gateway
        .peers
        .integrations
        .clone()
        .list_deliveries(pb::ListDeliveriesRequest {
            workspace_id,
            webhook_id,
            status: status as i32,
            limit: query.limit.unwrap_or(0),
            cursor: query.cursor.unwrap_or_default(),
        })
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(json!({
        "deliveries": page.deliveries.iter().map(delivery_json).collect::<Vec<_>>(),
        "next_cursor": (!page.next_cursor.is_empty()).then_some(page.next_cursor),
    })))
}

async fn replay(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(delivery_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let request = pb::ReplayDeliveryRequest {
        workspace_id: workspace_id.clone(),
        delivery_id: delivery_id.clone(),
    };
    let mut integrations = gateway.peers.integrations.clone();
    let replayed = audited(
        &gateway,
        &actor,
        &workspace_id,
        "webhook.replay",
        Some(("delivery", &delivery_id)),
        HashMap::new(),
        integrations.replay_delivery(request),
    )
    .await?
    .map_err(service_error)?
    .into_inner();
    Ok(Json(
        json!({ "delivery": replayed.delivery.as_ref().map(delivery_json) }),
    ))
}

async fn get_settings(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let settings = gateway
        .peers
        .integrations
        .clone()
        .get_settings(pb::GetSettingsRequest { workspace_id })
        .await
        .map_err(service_error)?
        .into_inner()
        .settings
        .unwrap_or_default();
    Ok(Json(
        json!({ "allow_private_network": settings.allow_private_network }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    allow_private_network: bool,
}

async fn put_settings(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<SettingsBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let request = pb::UpdateSettingsRequest {
        workspace_id: workspace_id.clone(),
        settings: Some(pb::Settings {
            allow_private_network: body.allow_private_network,
        }),
    };
    let mut integrations = gateway.peers.integrations.clone();
    let settings = audited(
        &gateway,
        &actor,
        &workspace_id,
        "integrations.settings_update",
        Some(("workspace", &workspace_id)),
        HashMap::from([(
            "allow_private_network".to_owned(),
            body.allow_private_network.to_string(),
        )]),
        integrations.update_settings(request),
    )
    .await?
    .map_err(service_error)?
    .into_inner()
    .settings
    .unwrap_or_default();
    Ok(Json(
        json!({ "allow_private_network": settings.allow_private_network }),
    ))
}

/// A webhook URL for the audit log: without credentials, query or fragment (any may hold a
/// token), at most 200 bytes.
fn redacted_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let mut redacted = if scheme.is_empty() {
        format!("{host}/{path}")
    } else {
        format!("{scheme}://{host}/{path}")
    };
    if redacted.len() > 200 {
        let mut end = 200;
        while !redacted.is_char_boundary(end) {
            end -= 1;
        }
        redacted.truncate(end);
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn audit_urls_lose_credentials_and_queries() {
        assert_eq!(
            redacted_url("https://user:pw@hooks.example:8443/in/crm?token=s3cret#x"),
            "https://hooks.example:8443/in/crm"
        );
        assert_eq!(
            redacted_url("https://hooks.example"),
            "https://hooks.example/"
        );
    }
}
