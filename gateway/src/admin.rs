//! Admin REST API behind the admin dashboard: agents, departments and a live overview.
//!
//! Every route needs the bearer token of an agent with role `admin`; agents get 403 `forbidden`.
//! Routes only ever touch the caller's own workspace.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /v1/admin/overview` | live counters of the workspace |
//! | `GET /v1/admin/identity-secret` | the secret the site signs visitor identities with |
//! | `GET/POST /v1/admin/agents` | list (with load) / create agents |
//! | `PATCH /v1/admin/agents/{id}` | change name, role, capacity, skills, departments, disabled |
//! | `POST /v1/admin/agents/{id}/password` | set a new password (ends the agent's sessions) |
//! | `GET/POST /v1/admin/departments` | list / create departments with routing settings |
//! | `PATCH /v1/admin/departments/{id}` | change a department's name or routing settings |

use crate::error::ApiError;
use crate::http::{agent_json, json_body};
use crate::state::Gateway;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_platform::actor::RequestActor;
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
        .route("/v1/admin/identity-secret", get(identity_secret))
        .route("/v1/admin/agents", get(list_agents).post(create_agent))
        .route("/v1/admin/agents/{agent_id}", patch(update_agent))
        .route("/v1/admin/agents/{agent_id}/password", post(reset_password))
        .route(
            "/v1/admin/departments",
            get(list_departments).post(create_department),
        )
        .route(
            "/v1/admin/departments/{department_id}",
            patch(update_department),
        )
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
}

fn role_from_json(role: &str) -> Result<AgentRole, ApiError> {
    match role {
        "agent" => Ok(AgentRole::Agent),
        "supervisor" => Ok(AgentRole::Supervisor),
        "admin" => Ok(AgentRole::Admin),
        _ => Err(bad_request("role: must be agent, supervisor or admin")),
    }
}

/// Checks a capacity given as any JSON integer, so a negative one gets a clear error.
fn capacity_from_json(value: i64) -> Result<u32, ApiError> {
    match u32::try_from(value) {
        Ok(capacity @ 1..=100) => Ok(capacity),
        _ => Err(bad_request("max_concurrent: must be between 1 and 100")),
    }
}

fn strategy_from_json(strategy: &str) -> Result<agent_pb::RoutingStrategy, ApiError> {
    match strategy {
        "least_loaded" => Ok(agent_pb::RoutingStrategy::LeastLoaded),
        "round_robin" => Ok(agent_pb::RoutingStrategy::RoundRobin),
        "longest_idle" => Ok(agent_pb::RoutingStrategy::LongestIdle),
        _ => Err(bad_request(
            "strategy: must be least_loaded, round_robin or longest_idle",
        )),
    }
}

fn sticky_window_from_json(value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .map_err(|_| bad_request("sticky_window_secs: must be between 0 and 2592000"))
}

/// Business hours in the admin API: `{"time_zone", "intervals": [{"weekday", "open", "close"}]}`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct HoursJson {
    time_zone: String,
    intervals: Vec<IntervalJson>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct IntervalJson {
    weekday: u32,
    open: String,
    close: String,
}

impl From<HoursJson> for agent_pb::BusinessHours {
    fn from(hours: HoursJson) -> Self {
        Self {
            time_zone: hours.time_zone,
            intervals: hours
                .intervals
                .into_iter()
                .map(|interval| agent_pb::OpeningInterval {
                    weekday: interval.weekday,
                    open: interval.open,
                    close: interval.close,
                })
                .collect(),
        }
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Department as the admin API shows it.
pub fn department_json(department: agent_pb::Department) -> Value {
    let strategy = match agent_pb::RoutingStrategy::try_from(department.strategy) {
        Ok(agent_pb::RoutingStrategy::RoundRobin) => "round_robin",
        Ok(agent_pb::RoutingStrategy::LongestIdle) => "longest_idle",
        _ => "least_loaded",
    };
    json!({
        "id": department.id,
        "name": department.name,
        "strategy": strategy,
        "sticky_window_secs": department.sticky_window_secs,
        "required_skills": department.required_skills,
        "fallback_department_id": department.fallback_department_id,
        "business_hours": department.business_hours.map(|hours| json!({
            "time_zone": hours.time_zone,
            "intervals": hours.intervals.iter().map(|interval| json!({
                "weekday": interval.weekday, "open": interval.open, "close": interval.close,
            })).collect::<Vec<_>>(),
        })),
    })
}

/// Maps "unknown department" on agent writes to a field error rather than a 404 of the agent.
fn agent_write_error(status: tonic::Status) -> ApiError {
    if status.code() == tonic::Code::NotFound && status.message().starts_with("department") {
        bad_request("department_ids: unknown department")
    } else {
        service_error(status)
    }
}

/// Returns the caller's workspace id and actor id (agent id, or `token:<id>` for an API token
/// with the admin scope) when the caller is an admin.
async fn admin_with_id(
    gateway: &Gateway,
    headers: &HeaderMap,
) -> Result<(String, String), ApiError> {
    let principal =
        crate::principal::require(gateway, headers, crate::principal::Need::Admin).await?;
    Ok((principal.workspace_id().to_owned(), principal.actor_id()))
}

/// Returns the caller's workspace and, for the audit log, the caller (agent id, address, user
/// agent) when the caller is an admin.
pub(crate) async fn admin_actor(
    gateway: &Gateway,
    headers: &HeaderMap,
) -> Result<(String, RequestActor), ApiError> {
    let (workspace_id, agent_id) = admin_with_id(gateway, headers).await?;
    Ok((workspace_id, crate::client::actor(headers, Some(agent_id))))
}

/// Returns the workspace of the admin whose bearer token `headers` carry (401/403 otherwise).
pub(crate) async fn admin(gateway: &Gateway, headers: &HeaderMap) -> Result<String, ApiError> {
    Ok(admin_with_id(gateway, headers).await?.0)
}

/// The secret a site signs its signed-in customers' ids with (`data-user-hash` = hex
/// HMAC-SHA256(secret, user id)), so agents see verified customers and their past chats.
async fn identity_secret(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let secret = gateway
        .peers
        .agents
        .clone()
        .get_identity_secret(actor.request(agent_pb::GetIdentitySecretRequest { workspace_id }))
        .await
        .map_err(service_error)?
        .into_inner()
        .secret;
    Ok(Json(
        json!({ "secret": secret, "algorithm": "HMAC-SHA256, lowercase hex" }),
    ))
}

fn service_error(status: tonic::Status) -> ApiError {
    ApiError::from_status(&status, "not_found")
}

/// Returns the workspace's agents, each with the number of conversations it holds.
pub(crate) async fn agents_with_load(
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
            include_ended: false,
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
    max_concurrent: Option<i64>,
    #[serde(default)]
    department_ids: Vec<String>,
    #[serde(default)]
    skills: Vec<String>,
}

async fn create_agent(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewAgent>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let role = role_from_json(body.role.as_deref().unwrap_or("agent"))?;
    let max_concurrent = body.max_concurrent.map_or(Ok(3), capacity_from_json)?;
    let created = gateway
        .peers
        .agents
        .clone()
        .create_agent(actor.request(agent_pb::CreateAgentRequest {
            workspace_id,
            name: body.name,
            email: body.email,
            password: body.password,
            role: role as i32,
            max_concurrent,
            department_ids: body.department_ids,
            skills: body.skills,
        }))
        .await
        .map_err(agent_write_error)?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "agent": created.agent.map(agent_json) })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentPatch {
    name: Option<String>,
    role: Option<String>,
    max_concurrent: Option<i64>,
    skills: Option<Vec<String>>,
    department_ids: Option<Vec<String>>,
    disabled: Option<bool>,
}

async fn update_agent(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
    body: Result<Json<AgentPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, caller_id) = admin_with_id(&gateway, &headers).await?;
    let actor = crate::client::actor(&headers, Some(caller_id.clone()));
    let body = json_body(body)?;
    let demoted = body.role.as_deref().is_some_and(|role| role != "admin");
    if agent_id == caller_id && (body.disabled == Some(true) || demoted) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "failed_precondition",
            "you cannot disable or demote yourself",
        ));
    }
    let request = agent_pb::UpdateAgentRequest {
        workspace_id,
        agent_id,
        name: body.name,
        role: body
            .role
            .as_deref()
            .map(role_from_json)
            .transpose()?
            .map(|role| role as i32),
        max_concurrent: body.max_concurrent.map(capacity_from_json).transpose()?,
        skills: body.skills.map(|values| agent_pb::StringList { values }),
        department_ids: body
            .department_ids
            .map(|values| agent_pb::StringList { values }),
        disabled: body.disabled,
    };
    let updated = gateway
        .peers
        .agents
        .clone()
        .update_agent(actor.request(request))
        .await
        .map_err(agent_write_error)?
        .into_inner();
    Ok(Json(json!({ "agent": updated.agent.map(agent_json) })))
}

#[derive(Debug, Deserialize)]
struct NewPassword {
    password: String,
}

async fn reset_password(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    gateway
        .peers
        .agents
        .clone()
        .reset_agent_password(actor.request(agent_pb::ResetAgentPasswordRequest {
            workspace_id,
            agent_id,
            new_password: body.password,
        }))
        .await
        .map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT)
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
        .map(department_json)
        .collect();
    Ok(Json(json!({ "departments": departments })))
}

#[derive(Debug, Deserialize)]
struct NewDepartment {
    name: String,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    sticky_window_secs: Option<i64>,
    #[serde(default)]
    required_skills: Vec<String>,
    #[serde(default)]
    business_hours: Option<HoursJson>,
    #[serde(default)]
    fallback_department_id: Option<String>,
}

async fn create_department(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Json<NewDepartment>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let department = gateway
        .peers
        .agents
        .clone()
        .create_department(
            actor.request(agent_pb::CreateDepartmentRequest {
                workspace_id,
                name: body.name,
                strategy: body
                    .strategy
                    .as_deref()
                    .map(strategy_from_json)
                    .transpose()?
                    .unwrap_or(agent_pb::RoutingStrategy::LeastLoaded)
                    as i32,
                sticky_window_secs: body
                    .sticky_window_secs
                    .map(sticky_window_from_json)
                    .transpose()?
                    .unwrap_or(0),
                required_skills: body.required_skills,
                business_hours: body.business_hours.map(Into::into),
                fallback_department_id: body.fallback_department_id,
            }),
        )
        .await
        .map_err(service_error)?
        .into_inner()
        .department;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "department": department.map(department_json) })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentPatch {
    name: Option<String>,
    strategy: Option<String>,
    sticky_window_secs: Option<i64>,
    required_skills: Option<Vec<String>>,
    /// `null` removes the hours (always open).
    #[serde(default, deserialize_with = "present")]
    business_hours: Option<Option<HoursJson>>,
    /// `null` removes the fallback.
    #[serde(default, deserialize_with = "present")]
    fallback_department_id: Option<Option<String>>,
}

async fn update_department(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(department_id): Path<String>,
    body: Result<Json<DepartmentPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (workspace_id, actor) = admin_actor(&gateway, &headers).await?;
    let body = json_body(body)?;
    let request = agent_pb::UpdateDepartmentRequest {
        workspace_id,
        department_id,
        name: body.name,
        strategy: body
            .strategy
            .as_deref()
            .map(strategy_from_json)
            .transpose()?
            .map(|strategy| strategy as i32),
        sticky_window_secs: body
            .sticky_window_secs
            .map(sticky_window_from_json)
            .transpose()?,
        required_skills: body
            .required_skills
            .map(|values| agent_pb::StringList { values }),
        clear_business_hours: matches!(body.business_hours, Some(None)),
        business_hours: body.business_hours.flatten().map(Into::into),
        fallback_department_id: body
            .fallback_department_id
            .map(|fallback| fallback.unwrap_or_default()),
    };
    let department = gateway
        .peers
        .agents
        .clone()
        .update_department(actor.request(request))
        .await
        .map_err(service_error)?
        .into_inner()
        .department;
    Ok(Json(
        json!({ "department": department.map(department_json) }),
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
    let minute_ago = chrono::Utc::now() - chrono::Duration::minutes(1);
    let messages_last_minute = gateway
        .peers
        .history
        .clone()
        .count_messages(history_pb::CountMessagesRequest {
            workspace_id: workspace_id.clone(),
            since: Some(switchboard_platform::grpc::timestamp(minute_ago)),
        })
        .await
        .map_err(service_error)?
        .into_inner()
        .count;
    let gateways: Vec<Value> = gateway
        .stats
        .for_workspace(&workspace_id)
        .into_iter()
        .map(|(id, counts)| json!({ "id": id, "visitors": counts.visitors, "agents": counts.agents }))
        .collect();
    Ok(Json(json!({
        "messages_last_minute": messages_last_minute,
        "gateways": gateways,
        "agents_total": agents.len(),
        "agents_online": online,
        "queue_length": queue.len(),
        "longest_wait_seconds": longest_wait,
        "open_conversations": queued + assigned,
        "assigned_conversations": assigned,
    })))
}
