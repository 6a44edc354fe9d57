//! Admin REST API behind the admin dashboard: agents, departments and a live overview.
//!
//! Every route needs the bearer token of an agent with role `admin`; agents get 403 `forbidden`.
//! Routes only ever touch the caller's own workspace.

use crate::error::ApiError;
use crate::http::{agent_json, authenticate, json_body};
use crate::state::Gateway;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::{AgentRole, AgentStatus, ConversationStatus, PageRequest};
use switchboard_proto::history::v1 as history_pb;
use switchboard_proto::routing::v1 as routing_pb;

/// Largest page used when counting conversations for the overview.
const COUNT_PAGE: u32 = 500;

/// Routes under `/v1/admin`.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/v1/admin/overview", get(overview))
        .route("/v1/admin/agents", get(list_agents).post(create_agent))
        .route(
            "/v1/admin/departments",
            get(list_departments).post(create_department),
        )
}

/// Returns the caller's workspace id when the caller is an admin.
async fn admin(gateway: &Gateway, headers: &HeaderMap) -> Result<String, ApiError> {
    let session = authenticate(gateway, headers).await?;
    let is_admin = session
        .agent
        .as_ref()
        .is_some_and(|agent| agent.role == AgentRole::Admin as i32);
    if !is_admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "administrators only",
        ));
    }
    session
        .workspace
        .map(|workspace| workspace.id)
        .ok_or_else(ApiError::unauthorized)
}

fn service_error(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "not_found")
}

async fn agents_with_load(
    gateway: &Gateway,
    workspace_id: &str,
) -> Result<Vec<(agent_pb::Agent, usize)>, ApiError> {
    let agents = gateway
        .peers
        .agents
        .clone()
        .list_agents(agent_pb::ListAgentsRequest {
            workspace_id: workspace_id.to_owned(),
            ..Default::default()
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .agents;
    let assignments = gateway
        .peers
        .routing
        .clone()
        .list_assignments(routing_pb::ListAssignmentsRequest {
            workspace_id: workspace_id.to_owned(),
            agent_id: None,
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .assignments;
    let mut load: HashMap<String, usize> = HashMap::new();
    for assignment in assignments {
        *load.entry(assignment.agent_id).or_default() += 1;
    }
    Ok(agents
        .into_iter()
        .map(|agent| {
            let held = load.get(&agent.id).copied().unwrap_or(0);
            (agent, held)
        })
        .collect())
}

async fn list_agents(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let agents: Vec<Value> = agents_with_load(&gateway, &workspace_id)
        .await?
        .into_iter()
        .map(|(agent, load)| {
            let mut value = agent_json(agent);
            value["load"] = json!(load);
            value
        })
        .collect();
    Ok(Json(json!({ "agents": agents })))
}

#[derive(Debug, Deserialize)]
struct NewAgent {
    name: String,
    email: String,
    password: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    max_concurrent: Option<u32>,
    #[serde(default)]
    department_ids: Vec<String>,
}

async fn create_agent(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewAgent>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let body = json_body(body)?;
    let role = match body.role.as_deref() {
        None | Some("agent") => AgentRole::Agent,
        Some("admin") => AgentRole::Admin,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "role: must be agent or admin",
            ));
        }
    };
    let created = gateway
        .peers
        .agents
        .clone()
        .create_agent(agent_pb::CreateAgentRequest {
            workspace_id,
            name: body.name,
            email: body.email,
            password: body.password,
            role: role as i32,
            max_concurrent: body.max_concurrent.unwrap_or(3),
            department_ids: body.department_ids,
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "department_ids: unknown department",
            ),
            _ => service_error(status),
        })?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "agent": created.agent.map(agent_json) })),
    ))
}

async fn list_departments(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let departments: Vec<Value> = gateway
        .peers
        .agents
        .clone()
        .list_departments(agent_pb::ListDepartmentsRequest { workspace_id })
        .await
        .map_err(service_error)?
        .into_inner()
        .departments
        .into_iter()
        .map(|department| json!({ "id": department.id, "name": department.name }))
        .collect();
    Ok(Json(json!({ "departments": departments })))
}

#[derive(Debug, Deserialize)]
struct NewDepartment {
    name: String,
}

async fn create_department(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewDepartment>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let body = json_body(body)?;
    let department = gateway
        .peers
        .agents
        .clone()
        .create_department(agent_pb::CreateDepartmentRequest {
            workspace_id,
            name: body.name,
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .department;
    let department =
        department.map(|department| json!({ "id": department.id, "name": department.name }));
    Ok((
        StatusCode::CREATED,
        Json(json!({ "department": department })),
    ))
}

async fn count_conversations(
    gateway: &Gateway,
    workspace_id: &str,
    status: ConversationStatus,
) -> Result<usize, ApiError> {
    Ok(gateway
        .peers
        .history
        .clone()
        .list_conversations(history_pb::ListConversationsRequest {
            workspace_id: workspace_id.to_owned(),
            status: status as i32,
            page: Some(PageRequest { limit: COUNT_PAGE }),
            ..Default::default()
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .conversations
        .len())
}

async fn overview(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = admin(&gateway, &headers).await?;
    let agents = agents_with_load(&gateway, &workspace_id).await?;
    let online = agents
        .iter()
        .filter(|(agent, _)| agent.status == AgentStatus::Online as i32)
        .count();
    let queue = gateway
        .peers
        .routing
        .clone()
        .list_queue(routing_pb::ListQueueRequest {
            workspace_id: workspace_id.clone(),
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .entries;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| now.as_secs())
        .unwrap_or(0);
    let longest_wait = queue
        .iter()
        .filter_map(|entry| entry.enqueued_at.as_ref())
        .map(|at| now.saturating_sub(u64::try_from(at.seconds).unwrap_or(now)))
        .max()
        .unwrap_or(0);
    let queued = count_conversations(&gateway, &workspace_id, ConversationStatus::Queued).await?;
    let assigned =
        count_conversations(&gateway, &workspace_id, ConversationStatus::Assigned).await?;
    Ok(Json(json!({
        "agents_total": agents.len(),
        "agents_online": online,
        "queue_length": queue.len(),
        "longest_wait_seconds": longest_wait,
        "open_conversations": queued + assigned,
        "assigned_conversations": assigned,
    })))
}
