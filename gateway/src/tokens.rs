//! API tokens for integrations, managed by admins.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /v1/admin/api-tokens` | the workspace's tokens (never their secrets), newest first |
//! | `POST /v1/admin/api-tokens` | `{"name", "scopes": ["read"|"write"|"admin"], "rate_per_minute"?, "expires_in_days"?}` → 201 with `token`, shown once |
//! | `DELETE /v1/admin/api-tokens/{id}` | revokes it (idempotent): the next request with it gets 401 `token_revoked` |
//!
//! Use a token as `Authorization: Bearer sbk_…`; see [`crate::principal`] for what each scope
//! allows.

use crate::admin::admin_actor;
use crate::error::ApiError;
use crate::http::json_body;
use crate::state::Gateway;
use crate::ws::view::rfc3339_or_null;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_proto::agent::v1 as agent_pb;

/// Routes of this module.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/admin/api-tokens", get(list).post(create))
        .route("/v1/admin/api-tokens/{token_id}", delete(revoke))
}

fn service_error(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "token_not_found")
}

/// A token as the API shows it: never its secret.
fn token_json(token: &agent_pb::ApiToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "scopes": token.scopes,
        "prefix": token.prefix,
        "rate_per_minute": token.rate_per_minute,
        "created_by": token.created_by,
        "created_at": rfc3339_or_null(token.created_at.as_ref()),
        "last_used_at": rfc3339_or_null(token.last_used_at.as_ref()),
        "expires_at": rfc3339_or_null(token.expires_at.as_ref()),
        "revoked_at": rfc3339_or_null(token.revoked_at.as_ref()),
    })
}

async fn list(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, _) = admin_actor(&gateway, &headers).await?;
    let tokens = gateway
        .peers
        .agents
        .clone()
        .list_api_tokens(agent_pb::ListApiTokensRequest { workspace_id })
        .await
        .map_err(service_error)?
        .into_inner()
        .api_tokens;
    Ok(Json(
        json!({ "api_tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scopes: Vec<String>,
    rate_per_minute: Option<u32>,
    expires_in_days: Option<u32>,
}

async fn create(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let created = gateway
        .peers
        .agents
        .clone()
        .create_api_token(actor.request(agent_pb::CreateApiTokenRequest {
            workspace_id,
            name: body.name,
            scopes: body.scopes,
            rate_per_minute: body.rate_per_minute.unwrap_or(0),
            expires_in_days: body.expires_in_days.unwrap_or(0),
        }))
        .await
        .map_err(service_error)?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "api_token": created.api_token.as_ref().map(token_json),
            "token": created.token,
        })),
    ))
}

async fn revoke(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(token_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let revoked = gateway
        .peers
        .agents
        .clone()
        .revoke_api_token(actor.request(agent_pb::RevokeApiTokenRequest {
            workspace_id,
            id: token_id,
        }))
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(
        json!({ "api_token": revoked.api_token.as_ref().map(token_json) }),
    ))
}
