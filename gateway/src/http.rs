//! HTTP routes of the gateway.
//!
//! | route | answer |
//! |---|---|
//! | `GET /healthz` | 200 when every service reports SERVING, else 503; per-service detail |
//! | `POST /v1/auth/login` | `{"email","password","totp"?}` → `{"token","expires_at","agent"}`; 401 `invalid_credentials`, `totp_required`, `invalid_totp`; 429 `too_many_attempts` |
//! | `POST /v1/auth/logout` | ends the bearer's session |
//! | `/v1/me/sessions`, `/v1/me/two-factor` | the caller's sessions and two-factor ([`crate::account`]) |
//! | `GET /v1/me` | the bearer's agent and workspace (with `site_key`); 401 `unauthorized` |
//! | `/v1/admin/*` | agents, departments, live overview for admins ([`crate::admin`]) |
//! | `/v1/conversations…` | the public conversation API for integrations and agents ([`crate::api`]) |
//! | `/v1/admin/api-tokens` | API tokens for integrations ([`crate::tokens`], scopes in [`crate::principal`]) |
//! | `/v1/admin/audit`, `/v1/admin/visitors/{id}`, `/v1/admin/retention` | audit log, visitor export and erasure, retention ([`crate::privacy`]) |
//! | `GET /v1/queue` | conversations of the bearer's workspace waiting for an agent, oldest first |
//! | `/v1/canned-replies`, `/v1/conversations/{id}/tags` | console tools ([`crate::console`]) |
//! | `GET /v1/visitor/ws`, `GET /v1/agent/ws` | the WebSocket protocol ([`crate::ws`]) |
//! | `GET /metrics` | Prometheus metrics of this process |

use crate::error::ApiError;
use crate::state::Gateway;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::{AgentRole, AgentStatus};
use tower_http::trace::TraceLayer;

/// Builds the gateway's router.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let max_body = gateway.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me))
        .route("/v1/queue", get(queue))
        .route("/v1/visitor/ws", get(crate::ws::visitor_socket))
        .route("/v1/agent/ws", get(crate::ws::agent_socket))
        .merge(crate::web::routes())
        .merge(crate::admin::routes())
        .merge(crate::webhooks::routes())
        .merge(crate::console::routes())
        .merge(crate::privacy::routes())
        .merge(crate::tokens::routes())
        .merge(crate::api::routes())
        .merge(crate::account::routes())
        .merge(switchboard_platform::metrics::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            crate::client::client_address,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(gateway)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn healthz(State(gateway): State<Arc<Gateway>>) -> Response {
    let checks = gateway.peers.health().await;
    let healthy = checks.iter().all(|(_, serving)| *serving);
    let detail: serde_json::Map<String, Value> = checks
        .into_iter()
        .map(|(name, serving)| {
            (
                name.to_owned(),
                json!(if serving { "serving" } else { "not_serving" }),
            )
        })
        .collect();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "status": if healthy { "ok" } else { "unavailable" }, "services": detail })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    email: String,
    password: String,
    /// The authenticator code, for agents with two-factor on.
    totp: Option<String>,
}

/// Returns the JSON body, or a 400 with a stable code saying what is wrong with it.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(body)| body).map_err(|rejection| {
        let code = match rejection {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            _ => "invalid_body",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, rejection.body_text())
    })
}

/// Returns the query parameters, or a 400 `invalid_argument` saying what is wrong with them.
pub fn query_params<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|axum::extract::Query(query)| query)
        .map_err(|rejection| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                rejection.body_text(),
            )
        })
}

async fn login(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<Value>, Response> {
    let body = json_body(body).map_err(IntoResponse::into_response)?;
    let actor = crate::client::actor(&headers, None);
    let response = gateway
        .peers
        .agents
        .clone()
        .login(actor.request(agent_pb::LoginRequest {
            email: body.email,
            password: body.password,
            totp_code: body.totp,
        }))
        .await
        .map_err(|status| match status.code() {
            tonic::Code::Unauthenticated => {
                match switchboard_platform::grpc::unauthenticated_reason(&status) {
                    Some("totp_required") => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "totp_required",
                        "enter the code from your authenticator app",
                    ),
                    Some("invalid_totp") => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_totp",
                        "the authenticator code is wrong or was used already",
                    ),
                    _ => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_credentials",
                        "invalid email or password",
                    ),
                }
                .into_response()
            }
            // Locked after repeated failures: say when to try again.
            tonic::Code::ResourceExhausted => {
                let retry_after = status
                    .metadata()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<u64>().ok())
                    .unwrap_or(60);
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("too many failed logins; try again in {retry_after} s"),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry_after.into());
                response
            }
            _ => ApiError::from_status(&status, "not_found").into_response(),
        })?
        .into_inner();
    Ok(Json(json!({
        "token": response.token,
        "expires_at": response.expires_at.map(|at| at.seconds),
        "agent": response.agent.map(agent_json),
    })))
}

/// Returns the bearer token of a request, if well-formed.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

async fn logout(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or_else(ApiError::unauthorized)?;
    gateway
        .peers
        .agents
        .clone()
        .logout(
            crate::client::actor(&headers, None).request(agent_pb::LogoutRequest {
                token: token.to_owned(),
            }),
        )
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let response = authenticate(&gateway, &headers).await?;
    Ok(Json(json!({
        "agent": response.agent.map(agent_json),
        "workspace": response.workspace.map(|workspace| json!({
            "id": workspace.id,
            "name": workspace.name,
            "site_key": workspace.site_key,
        })),
    })))
}

/// Returns the public JSON form of an agent (never its password hash, which it does not have).
pub fn agent_json(agent: agent_pb::Agent) -> Value {
    let role = match AgentRole::try_from(agent.role) {
        Ok(AgentRole::Admin) => "admin",
        Ok(AgentRole::Supervisor) => "supervisor",
        _ => "agent",
    };
    let status = match AgentStatus::try_from(agent.status) {
        Ok(AgentStatus::Online) => "online",
        Ok(AgentStatus::Away) => "away",
        _ => "offline",
    };
    json!({
        "id": agent.id,
        "workspace_id": agent.workspace_id,
        "name": agent.name,
        "email": agent.email,
        "role": role,
        "status": status,
        "max_concurrent": agent.max_concurrent,
        "department_ids": agent.department_ids,
        "skills": agent.skills,
        "disabled": agent.disabled,
    })
}

/// Returns the agent and workspace of a bearer token, or 401.
pub async fn authenticate(
    gateway: &Gateway,
    headers: &HeaderMap,
) -> Result<agent_pb::ValidateTokenResponse, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    gateway
        .peers
        .agents
        .clone()
        .validate_token(agent_pb::ValidateTokenRequest {
            token: token.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| ApiError::from_status(&status, "not_found"))
}

async fn queue(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let session = authenticate(&gateway, &headers).await?;
    let workspace_id = session
        .workspace
        .map(|workspace| workspace.id)
        .unwrap_or_default();
    let entries = gateway
        .peers
        .routing
        .clone()
        .list_queue(switchboard_proto::routing::v1::ListQueueRequest { workspace_id })
        .await
        .map_err(|status| ApiError::from_status(&status, "not_found"))?
        .into_inner()
        .entries;
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "conversation_id": entry.conversation_id,
                "department_id": entry.department_id,
                "enqueued_at": entry.enqueued_at.map(|at| at.seconds),
                "position": entry.position,
                "priority": entry.priority,
                "visitor_id": entry.visitor_id,
            })
        })
        .collect();
    Ok(Json(json!({ "entries": entries })))
}
