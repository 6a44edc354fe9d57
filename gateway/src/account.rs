//! An agent's own account security: sessions and two-factor; and the admin's levers on another
//! agent's (end its sessions, reset its two-factor after a lost phone).
//!
//! | Route | Does |
//! |---|---|
//! | `GET /v1/me/sessions` | my live sessions (where and when opened; `current` marks this one) |
//! | `DELETE /v1/me/sessions/{id}` | ends one of my sessions |
//! | `POST /v1/me/sessions/revoke-others` | ends every session of mine but this one |
//! | `GET /v1/me/two-factor` | `{"enabled"}` |
//! | `POST /v1/me/two-factor/setup` | a new pending secret and its `otpauth://` URI |
//! | `POST /v1/me/two-factor/enable` | `{"code"}`: confirms the pending secret |
//! | `POST /v1/me/two-factor/disable` | `{"code"}`: turns it off |
//! | `POST /v1/admin/agents/{id}/sessions/revoke` | ends every session of an agent (admin) |
//! | `POST /v1/admin/agents/{id}/two-factor/reset` | turns an agent's two-factor off (admin) |
//!
//! Everything here is in the audit log. These routes need an agent's session: API tokens have
//! no sessions or second factor.

use crate::admin::admin_actor;
use crate::error::ApiError;
use crate::http::{authenticate, bearer, json_body};
use crate::state::Gateway;
use crate::ws::view::rfc3339;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_platform::actor::RequestActor;
use switchboard_proto::agent::v1 as agent_pb;

/// Routes of this module.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/me/sessions", get(list_sessions))
        .route("/v1/me/sessions/{session_id}", delete(revoke_session))
        .route("/v1/me/sessions/revoke-others", post(revoke_other_sessions))
        .route("/v1/me/two-factor", get(two_factor))
        .route("/v1/me/two-factor/setup", post(setup_two_factor))
        .route("/v1/me/two-factor/enable", post(enable_two_factor))
        .route("/v1/me/two-factor/disable", post(disable_two_factor))
        .route(
            "/v1/admin/agents/{agent_id}/sessions/revoke",
            post(admin_revoke_sessions),
        )
        .route(
            "/v1/admin/agents/{agent_id}/two-factor/reset",
            post(admin_reset_two_factor),
        )
}

/// The signed-in agent: (workspace id, agent id, its token, the actor for the audit log).
struct Me {
    workspace_id: String,
    agent_id: String,
    token: String,
    actor: RequestActor,
}

async fn me(gateway: &Gateway, headers: &HeaderMap) -> Result<Me, ApiError> {
    let session = authenticate(gateway, headers).await?;
    let (Some(agent), Some(workspace)) = (session.agent, session.workspace) else {
        return Err(ApiError::unauthorized());
    };
    Ok(Me {
        workspace_id: workspace.id,
        actor: crate::client::actor(headers, Some(agent.id.clone())),
        agent_id: agent.id,
        token: bearer(headers).unwrap_or_default().to_owned(),
    })
}

fn service_error(status: tonic::Status) -> ApiError {
    // A wrong code while setting up or turning off two-factor is a bad request, not a sign-out.
    if switchboard_platform::grpc::unauthenticated_reason(&status) == Some("invalid_totp") {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_totp",
            "the authenticator code is wrong or was used already",
        );
    }
    ApiError::from_status(&status, "session_not_found")
}

async fn list_sessions(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = me(&gateway, &headers).await?;
    let sessions = gateway
        .peers
        .agents
        .clone()
        .list_sessions(agent_pb::ListSessionsRequest {
            workspace_id: me.workspace_id,
            agent_id: me.agent_id,
            current_token: Some(me.token),
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .sessions;
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|session| {
            json!({
                "id": session.id,
                "created_at": rfc3339(session.created_at.as_ref()),
                "expires_at": rfc3339(session.expires_at.as_ref()),
                "client_ip": session.client_ip,
                "user_agent": session.user_agent,
                "current": session.current,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

async fn revoke(
    gateway: &Gateway,
    actor: &RequestActor,
    request: agent_pb::RevokeSessionsRequest,
) -> Result<Json<Value>, ApiError> {
    let revoked = gateway
        .peers
        .agents
        .clone()
        .revoke_sessions(actor.request(request))
        .await
        .map_err(service_error)?
        .into_inner()
        .revoked;
    Ok(Json(json!({ "revoked": revoked })))
}

async fn revoke_session(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = me(&gateway, &headers).await?;
    let request = agent_pb::RevokeSessionsRequest {
        workspace_id: me.workspace_id,
        agent_id: me.agent_id,
        session_id: Some(session_id),
        keep_token: None,
    };
    revoke(&gateway, &me.actor, request).await
}

async fn revoke_other_sessions(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = me(&gateway, &headers).await?;
    let request = agent_pb::RevokeSessionsRequest {
        workspace_id: me.workspace_id,
        agent_id: me.agent_id,
        session_id: None,
        keep_token: Some(me.token),
    };
    revoke(&gateway, &me.actor, request).await
}

async fn admin_revoke_sessions(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let request = agent_pb::RevokeSessionsRequest {
        workspace_id,
        agent_id,
        session_id: None,
        keep_token: None,
    };
    revoke(&gateway, &actor, request)
        .await
        .map_err(|error| match error.code {
            "session_not_found" => {
                ApiError::new(StatusCode::NOT_FOUND, "agent_not_found", error.message)
            }
            _ => error,
        })
}

async fn two_factor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = me(&gateway, &headers).await?;
    let state = gateway
        .peers
        .agents
        .clone()
        .get_two_factor(agent_pb::GetTwoFactorRequest {
            workspace_id: me.workspace_id,
            agent_id: me.agent_id,
        })
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(json!({ "enabled": state.enabled })))
}

async fn setup_two_factor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = me(&gateway, &headers).await?;
    let setup = gateway
        .peers
        .agents
        .clone()
        .begin_two_factor(agent_pb::BeginTwoFactorRequest {
            workspace_id: me.workspace_id,
            agent_id: me.agent_id,
        })
        .await
        .map_err(service_error)?
        .into_inner();
    Ok(Json(
        json!({ "secret": setup.secret, "otpauth_uri": setup.otpauth_uri }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

async fn enable_two_factor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let me = me(&gateway, &headers).await?;
    let body = json_body(body)?;
    gateway
        .peers
        .agents
        .clone()
        .enable_two_factor(me.actor.request(agent_pb::EnableTwoFactorRequest {
            workspace_id: me.workspace_id,
            agent_id: me.agent_id,
            code: body.code,
        }))
        .await
        .map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_two_factor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let me = me(&gateway, &headers).await?;
    let body = json_body(body)?;
    gateway
        .peers
        .agents
        .clone()
        .disable_two_factor(me.actor.request(agent_pb::DisableTwoFactorRequest {
            workspace_id: me.workspace_id,
            agent_id: me.agent_id,
            code: Some(body.code),
        }))
        .await
        .map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_reset_two_factor(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    gateway
        .peers
        .agents
        .clone()
        .disable_two_factor(actor.request(agent_pb::DisableTwoFactorRequest {
            workspace_id,
            agent_id,
            code: None,
        }))
        .await
        .map_err(|status| ApiError::from_status(&status, "agent_not_found"))?;
    Ok(StatusCode::NO_CONTENT)
}
