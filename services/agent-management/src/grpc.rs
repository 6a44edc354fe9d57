//! gRPC adapter of agent management: validates requests, calls the store, converts results.

use crate::hours::{BusinessHours, Interval};
use crate::store::{
    AgentChanges, AgentRecord, Availability, DepartmentChanges, NewAgent, Role, RoutingSettings,
    Status, Store, Strategy, hours_from_stored, skills_from_stored,
};
use crate::{
    AgentError, api_tokens, audit,
    db::entity::{canned_reply, department, workspace},
};
use std::sync::Arc;
use switchboard_platform::actor::RequestActor;
use switchboard_platform::grpc::{invalid_argument, parse_uuid, timestamp};
use switchboard_proto::agent::v1::{
    self as pb, agent_management_service_server::AgentManagementService,
};
use switchboard_proto::common::v1::{AgentRole, AgentStatus};
use tonic::{Request, Response, Status as GrpcStatus};
use uuid::Uuid;

/// Longest name, email or password accepted.
const MAX_FIELD_LEN: usize = 200;
/// Shortest password accepted.
const MIN_PASSWORD_LEN: usize = 8;
/// Largest `max_concurrent` accepted.
const MAX_CONCURRENT_LIMIT: u32 = 100;
/// Most skills on an agent or department.
const MAX_SKILLS: usize = 50;
/// Longest skill name.
const MAX_SKILL_LEN: usize = 64;
/// Longest sticky window: 30 days.
const MAX_STICKY_WINDOW_SECS: u32 = 30 * 24 * 3600;

type GrpcResult<T> = Result<Response<T>, GrpcStatus>;

/// Implements `switchboard.agent.v1.AgentManagementService`.
#[derive(Debug, Clone)]
pub struct AgentGrpc {
    store: Arc<Store>,
}

impl AgentGrpc {
    /// Returns the adapter over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }
}

/// Converts a domain status to protobuf.
pub fn status_to_proto(status: Status) -> AgentStatus {
    match status {
        Status::Online => AgentStatus::Online,
        Status::Away => AgentStatus::Away,
        Status::Offline => AgentStatus::Offline,
    }
}

fn status_from_stored(status: &str) -> AgentStatus {
    match status {
        "online" => AgentStatus::Online,
        "away" => AgentStatus::Away,
        _ => AgentStatus::Offline,
    }
}

fn status_from_proto(field: &str, value: i32) -> Result<Option<Status>, GrpcStatus> {
    match AgentStatus::try_from(value) {
        Ok(AgentStatus::Unspecified) => Ok(None),
        Ok(AgentStatus::Online) => Ok(Some(Status::Online)),
        Ok(AgentStatus::Away) => Ok(Some(Status::Away)),
        Ok(AgentStatus::Offline) => Ok(Some(Status::Offline)),
        Err(_) => Err(invalid_argument(field, "unknown status")),
    }
}

fn workspace_to_proto(model: workspace::Model) -> pb::Workspace {
    pb::Workspace {
        id: model.id.to_string(),
        name: model.name,
        site_key: model.site_key,
        created_at: Some(timestamp(model.created_at)),
    }
}

fn department_to_proto(model: department::Model) -> pb::Department {
    let strategy = match Strategy::from_stored(&model.strategy) {
        Strategy::LeastLoaded => pb::RoutingStrategy::LeastLoaded,
        Strategy::RoundRobin => pb::RoutingStrategy::RoundRobin,
        Strategy::LongestIdle => pb::RoutingStrategy::LongestIdle,
    };
    pb::Department {
        id: model.id.to_string(),
        workspace_id: model.workspace_id.to_string(),
        name: model.name,
        strategy: strategy as i32,
        sticky_window_secs: u32::try_from(model.sticky_window_secs).unwrap_or(0),
        required_skills: skills_from_stored(&model.required_skills),
        business_hours: hours_from_stored(model.business_hours.as_deref()).map(hours_to_proto),
        fallback_department_id: model.fallback_department_id.map(|id| id.to_string()),
    }
}

fn hours_to_proto(hours: BusinessHours) -> pb::BusinessHours {
    pb::BusinessHours {
        time_zone: hours.time_zone,
        intervals: hours
            .intervals
            .into_iter()
            .map(|interval| pb::OpeningInterval {
                weekday: interval.weekday,
                open: interval.open,
                close: interval.close,
            })
            .collect(),
    }
}

/// Converts and validates business hours from a request.
fn hours_from_proto(hours: pb::BusinessHours) -> Result<BusinessHours, GrpcStatus> {
    let hours = BusinessHours {
        time_zone: hours.time_zone.trim().to_owned(),
        intervals: hours
            .intervals
            .into_iter()
            .map(|interval| Interval {
                weekday: interval.weekday,
                open: interval.open,
                close: interval.close,
            })
            .collect(),
    };
    hours
        .validate()
        .map_err(|(field, reason)| invalid_argument(field, &reason))?;
    Ok(hours)
}

fn strategy_from_proto(value: i32) -> Result<Strategy, GrpcStatus> {
    match pb::RoutingStrategy::try_from(value) {
        Ok(pb::RoutingStrategy::Unspecified | pb::RoutingStrategy::LeastLoaded) => {
            Ok(Strategy::LeastLoaded)
        }
        Ok(pb::RoutingStrategy::RoundRobin) => Ok(Strategy::RoundRobin),
        Ok(pb::RoutingStrategy::LongestIdle) => Ok(Strategy::LongestIdle),
        Err(_) => Err(invalid_argument("strategy", "unknown routing strategy")),
    }
}

fn role_from_proto(value: i32) -> Result<Role, GrpcStatus> {
    match AgentRole::try_from(value) {
        Ok(AgentRole::Admin) => Ok(Role::Admin),
        Ok(AgentRole::Supervisor) => Ok(Role::Supervisor),
        Ok(AgentRole::Agent | AgentRole::Unspecified) => Ok(Role::Agent),
        Err(_) => Err(invalid_argument("role", "unknown role")),
    }
}

fn sticky_window(value: u32) -> Result<i32, GrpcStatus> {
    if value > MAX_STICKY_WINDOW_SECS {
        return Err(invalid_argument(
            "sticky_window_secs",
            "must be at most 30 days",
        ));
    }
    i32::try_from(value).map_err(|_| invalid_argument("sticky_window_secs", "out of range"))
}

/// Returns `max_concurrent` checked against its limit; `default` replaces 0 when given.
fn capacity(value: u32, default: Option<i32>) -> Result<i32, GrpcStatus> {
    match (value, default) {
        (0, Some(default)) => Ok(default),
        (n, _) if n > MAX_CONCURRENT_LIMIT => {
            Err(invalid_argument("max_concurrent", "must be at most 100"))
        }
        (n, _) => i32::try_from(n).map_err(|_| invalid_argument("max_concurrent", "out of range")),
    }
}

/// Normalises a skill list: trimmed, lowercased, deduplicated, sorted; each non-empty, short
/// and free of control characters.
fn skills(field: &'static str, values: &[String]) -> Result<Vec<String>, GrpcStatus> {
    if values.len() > MAX_SKILLS {
        return Err(invalid_argument(field, "at most 50 skills"));
    }
    let mut normalised = Vec::with_capacity(values.len());
    for value in values {
        let value = value.trim().to_lowercase();
        if value.is_empty() || value.chars().count() > MAX_SKILL_LEN {
            return Err(invalid_argument(
                field,
                "each skill must be 1 to 64 characters",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(invalid_argument(
                field,
                "skills must not contain control characters",
            ));
        }
        normalised.push(value);
    }
    normalised.sort();
    normalised.dedup();
    Ok(normalised)
}

/// Longest presence lease a gateway may ask for.
const MAX_LEASE_SECS: u32 = 3600;

fn connection_id(value: &str) -> Result<String, GrpcStatus> {
    let value = required("connection_id", value)?;
    if value.len() > 128 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid_argument(
            "connection_id",
            "must be at most 128 printable ASCII characters",
        ));
    }
    Ok(value)
}

/// Longest canned reply text, in bytes.
const MAX_CANNED_TEXT: usize = 4096;

fn canned_shortcut(value: &str) -> Result<String, GrpcStatus> {
    let value = value.trim().trim_start_matches('/').to_lowercase();
    let valid = (1..=32).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(invalid_argument(
            "shortcut",
            "must be 1 to 32 of a-z, 0-9, '-' and '_'",
        ));
    }
    Ok(value)
}

fn canned_text(value: &str) -> Result<String, GrpcStatus> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_CANNED_TEXT {
        return Err(invalid_argument("text", "must be 1 to 4096 bytes"));
    }
    Ok(value.to_owned())
}

fn canned_to_proto(model: canned_reply::Model) -> pb::CannedReply {
    pb::CannedReply {
        id: model.id.to_string(),
        workspace_id: model.workspace_id.to_string(),
        owner_agent_id: (model.scope != canned_reply::WORKSPACE_SCOPE).then_some(model.scope),
        shortcut: model.shortcut,
        text: model.text,
        updated_at: Some(timestamp(model.updated_at)),
    }
}

fn uuids(field: &'static str, values: &[String]) -> Result<Vec<Uuid>, GrpcStatus> {
    let mut ids = values
        .iter()
        .map(|id| parse_uuid(field, id))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn agent_to_proto(record: AgentRecord) -> pb::Agent {
    let agent = record.agent;
    pb::Agent {
        id: agent.id.to_string(),
        workspace_id: agent.workspace_id.to_string(),
        name: agent.name,
        email: agent.email,
        role: match Role::from_stored(&agent.role) {
            Role::Admin => AgentRole::Admin,
            Role::Supervisor => AgentRole::Supervisor,
            Role::Agent => AgentRole::Agent,
        } as i32,
        max_concurrent: u32::try_from(agent.max_concurrent).unwrap_or(0),
        department_ids: record
            .department_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        status: status_from_stored(&agent.status) as i32,
        created_at: Some(timestamp(agent.created_at)),
        skills: skills_from_stored(&agent.skills),
        disabled: agent.disabled,
    }
}

/// Returns the trimmed `value`, or `INVALID_ARGUMENT` when empty or too long.
fn required(field: &'static str, value: &str) -> Result<String, GrpcStatus> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid_argument(field, "must not be empty"));
    }
    if value.chars().count() > MAX_FIELD_LEN {
        return Err(invalid_argument(field, "is too long"));
    }
    Ok(value.to_owned())
}

fn email(value: &str) -> Result<String, GrpcStatus> {
    let value = required("email", value)?;
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !value.contains(char::is_whitespace)
    });
    if !valid {
        return Err(invalid_argument("email", "must be an email address"));
    }
    Ok(value.to_lowercase())
}

fn password(value: &str) -> Result<String, GrpcStatus> {
    if value.chars().count() < MIN_PASSWORD_LEN {
        return Err(invalid_argument(
            "password",
            "must have at least 8 characters",
        ));
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(invalid_argument("password", "is too long"));
    }
    Ok(value.to_owned())
}

#[tonic::async_trait]
impl AgentManagementService for AgentGrpc {
    async fn create_workspace(
        &self,
        request: Request<pb::CreateWorkspaceRequest>,
    ) -> GrpcResult<pb::CreateWorkspaceResponse> {
        let name = required("name", &request.get_ref().name)?;
        let workspace = self.store.create_workspace(&name).await?;
        let secret = workspace.secret.clone();
        Ok(Response::new(pb::CreateWorkspaceResponse {
            workspace: Some(workspace_to_proto(workspace)),
            secret,
        }))
    }

    async fn get_workspace(
        &self,
        request: Request<pb::GetWorkspaceRequest>,
    ) -> GrpcResult<pb::GetWorkspaceResponse> {
        let id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let workspace = self.store.workspace(id).await?;
        Ok(Response::new(pb::GetWorkspaceResponse {
            workspace: Some(workspace_to_proto(workspace)),
        }))
    }

    async fn get_workspace_by_site_key(
        &self,
        request: Request<pb::GetWorkspaceBySiteKeyRequest>,
    ) -> GrpcResult<pb::GetWorkspaceBySiteKeyResponse> {
        let site_key = required("site_key", &request.get_ref().site_key)?;
        let workspace = self.store.workspace_by_site_key(&site_key).await?;
        Ok(Response::new(pb::GetWorkspaceBySiteKeyResponse {
            workspace: Some(workspace_to_proto(workspace)),
        }))
    }

    async fn verify_visitor_identity(
        &self,
        request: Request<pb::VerifyVisitorIdentityRequest>,
    ) -> GrpcResult<pb::VerifyVisitorIdentityResponse> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let verified = !request.user_id.is_empty()
            && self
                .store
                .verify_identity(workspace_id, &request.user_id, &request.user_hash)
                .await?;
        Ok(Response::new(pb::VerifyVisitorIdentityResponse {
            verified,
        }))
    }

    async fn get_identity_secret(
        &self,
        request: Request<pb::GetIdentitySecretRequest>,
    ) -> GrpcResult<pb::GetIdentitySecretResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let workspace = self.store.workspace(workspace_id).await?;
        // An admin reading the secret is audited; services reading it for verification are not.
        if actor.actor_id.is_some() {
            let entry = audit::Entry::succeeded(
                workspace_id,
                "identity_secret.read",
                "workspace",
                workspace_id,
            );
            self.store.record_audit(&actor, entry).await?;
        }
        Ok(Response::new(pb::GetIdentitySecretResponse {
            secret: workspace.secret,
        }))
    }

    async fn record_audit_event(
        &self,
        request: Request<pb::RecordAuditEventRequest>,
    ) -> GrpcResult<pb::RecordAuditEventResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let action = audit_action(&request.action)?;
        let outcome = audit_outcome(&request.outcome, true)?;
        let target = match (request.target_kind, request.target_id) {
            (Some(kind), Some(id)) => Some((
                bounded("target_kind", kind, 64)?,
                bounded("target_id", id, 200)?,
            )),
            (None, None) => None,
            _ => {
                return Err(invalid_argument(
                    "target_kind",
                    "target_kind and target_id go together",
                ));
            }
        };
        let entry = audit::Entry {
            workspace_id,
            action,
            target,
            outcome,
            detail: audit_detail(request.detail)?,
        };
        let id = self.store.record_audit(&actor, entry).await?;
        Ok(Response::new(pb::RecordAuditEventResponse {
            id: u64::try_from(id).unwrap_or_default(),
        }))
    }

    async fn complete_audit_event(
        &self,
        request: Request<pb::CompleteAuditEventRequest>,
    ) -> GrpcResult<pb::CompleteAuditEventResponse> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = i64::try_from(request.id).map_err(|_| invalid_argument("id", "unknown id"))?;
        let outcome = audit_outcome(&request.outcome, false)?;
        self.store
            .complete_audit(workspace_id, id, outcome, audit_detail(request.detail)?)
            .await?;
        Ok(Response::new(pb::CompleteAuditEventResponse {}))
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> GrpcResult<pb::ListAuditEventsResponse> {
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let filter = audit::Filter {
            before_id: request
                .before_id
                .map(|id| i64::try_from(id).unwrap_or(i64::MAX)),
            action_prefix: request
                .action_prefix
                .map(|prefix| bounded("action_prefix", prefix, 64))
                .transpose()?,
            actor_id: request
                .actor_id
                .map(|actor| bounded("actor_id", actor, 64))
                .transpose()?,
            since: request.since.map(from_timestamp).transpose()?,
            until: request.until.map(from_timestamp).transpose()?,
        };
        let limit = match request.limit {
            0 => 100,
            limit if u64::from(limit) <= audit::MAX_PAGE => u64::from(limit),
            _ => return Err(invalid_argument("limit", "must be between 1 and 500")),
        };
        let (events, next) = self.store.audit_events(workspace_id, filter, limit).await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: events.into_iter().map(audit_event_to_proto).collect(),
            next_before_id: next.and_then(|id| u64::try_from(id).ok()),
        }))
    }

    async fn create_api_token(
        &self,
        request: Request<pb::CreateApiTokenRequest>,
    ) -> GrpcResult<pb::CreateApiTokenResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid_argument("name", "must be 1 to 100 characters"));
        }
        let scopes = api_tokens::parse_scopes(&request.scopes)?;
        let rate_per_minute = match request.rate_per_minute {
            0 => api_tokens::DEFAULT_RATE_PER_MINUTE,
            rate if rate <= api_tokens::MAX_RATE_PER_MINUTE => rate,
            _ => {
                return Err(invalid_argument("rate_per_minute", "must be at most 60000"));
            }
        };
        if request.expires_in_days > api_tokens::MAX_EXPIRY_DAYS {
            return Err(invalid_argument("expires_in_days", "must be at most 3650"));
        }
        let expires_at = (request.expires_in_days > 0).then(|| {
            chrono::Utc::now() + chrono::Duration::days(i64::from(request.expires_in_days))
        });
        let new = api_tokens::NewToken {
            workspace_id,
            name: name.to_owned(),
            scopes,
            rate_per_minute,
            expires_at,
        };
        let (token, secret) = self.store.create_api_token(&actor, new).await?;
        Ok(Response::new(pb::CreateApiTokenResponse {
            api_token: Some(api_token_to_proto(token)),
            token: secret,
        }))
    }

    async fn list_api_tokens(
        &self,
        request: Request<pb::ListApiTokensRequest>,
    ) -> GrpcResult<pb::ListApiTokensResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let tokens = self.store.api_tokens(workspace_id).await?;
        Ok(Response::new(pb::ListApiTokensResponse {
            api_tokens: tokens.into_iter().map(api_token_to_proto).collect(),
        }))
    }

    async fn revoke_api_token(
        &self,
        request: Request<pb::RevokeApiTokenRequest>,
    ) -> GrpcResult<pb::RevokeApiTokenResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("id", &request.id)?;
        let token = self
            .store
            .revoke_api_token(&actor, workspace_id, id)
            .await?;
        Ok(Response::new(pb::RevokeApiTokenResponse {
            api_token: Some(api_token_to_proto(token)),
        }))
    }

    async fn authenticate_api_token(
        &self,
        request: Request<pb::AuthenticateApiTokenRequest>,
    ) -> GrpcResult<pb::AuthenticateApiTokenResponse> {
        let presented = request.get_ref().token.trim();
        let outcome = if presented.len() > MAX_FIELD_LEN {
            Err(api_tokens::Refusal::Unknown)
        } else {
            self.store.authenticate_api_token(presented).await?
        };
        match outcome {
            Ok((token, workspace)) => Ok(Response::new(pb::AuthenticateApiTokenResponse {
                api_token: Some(api_token_to_proto(token)),
                workspace: Some(workspace_to_proto(workspace)),
            })),
            Err(refusal) => {
                let reason = match refusal {
                    api_tokens::Refusal::Unknown => "unknown",
                    api_tokens::Refusal::Revoked => "revoked",
                    api_tokens::Refusal::Expired => "expired",
                };
                Err(switchboard_platform::grpc::unauthenticated(
                    format!("api token {reason}"),
                    reason,
                ))
            }
        }
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> GrpcResult<pb::ListSessionsResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let sessions = self
            .store
            .sessions(workspace_id, agent_id, request.current_token.as_deref())
            .await?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: sessions
                .into_iter()
                .map(|(session, current)| pb::Session {
                    id: crate::store::session_id(&session.token_hash),
                    created_at: Some(timestamp(session.created_at)),
                    expires_at: Some(timestamp(session.expires_at)),
                    client_ip: session.client_ip,
                    user_agent: session.user_agent,
                    current,
                })
                .collect(),
        }))
    }

    async fn revoke_sessions(
        &self,
        request: Request<pb::RevokeSessionsRequest>,
    ) -> GrpcResult<pb::RevokeSessionsResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        if let Some(id) = &request.session_id
            && (id.len() != 16 || !id.bytes().all(|byte| byte.is_ascii_hexdigit()))
        {
            return Err(invalid_argument("session_id", "must be 16 hex digits"));
        }
        let revoked = self
            .store
            .revoke_sessions(
                &actor,
                workspace_id,
                agent_id,
                request.session_id.as_deref(),
                request.keep_token.as_deref(),
            )
            .await?;
        Ok(Response::new(pb::RevokeSessionsResponse {
            revoked: u32::try_from(revoked).unwrap_or(u32::MAX),
        }))
    }

    async fn get_two_factor(
        &self,
        request: Request<pb::GetTwoFactorRequest>,
    ) -> GrpcResult<pb::GetTwoFactorResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.get_ref().agent_id)?;
        self.store.agent(workspace_id, agent_id).await?;
        Ok(Response::new(pb::GetTwoFactorResponse {
            enabled: self.store.two_factor_enabled(agent_id).await?,
        }))
    }

    async fn begin_two_factor(
        &self,
        request: Request<pb::BeginTwoFactorRequest>,
    ) -> GrpcResult<pb::BeginTwoFactorResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.get_ref().agent_id)?;
        let (secret, otpauth_uri) = self.store.begin_two_factor(workspace_id, agent_id).await?;
        Ok(Response::new(pb::BeginTwoFactorResponse {
            secret,
            otpauth_uri,
        }))
    }

    async fn enable_two_factor(
        &self,
        request: Request<pb::EnableTwoFactorRequest>,
    ) -> GrpcResult<pb::EnableTwoFactorResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        self.store
            .enable_two_factor(&actor, workspace_id, agent_id, &request.code)
            .await?;
        Ok(Response::new(pb::EnableTwoFactorResponse {}))
    }

    async fn disable_two_factor(
        &self,
        request: Request<pb::DisableTwoFactorRequest>,
    ) -> GrpcResult<pb::DisableTwoFactorResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        self.store
            .disable_two_factor(&actor, workspace_id, agent_id, request.code.as_deref())
            .await?;
        Ok(Response::new(pb::DisableTwoFactorResponse {}))
    }

    async fn get_default_workspace(
        &self,
        _request: Request<pb::GetDefaultWorkspaceRequest>,
    ) -> GrpcResult<pb::GetDefaultWorkspaceResponse> {
        let workspace = self.store.default_workspace().await?;
        Ok(Response::new(pb::GetDefaultWorkspaceResponse {
            workspace: Some(workspace_to_proto(workspace)),
        }))
    }

    async fn bootstrap(
        &self,
        request: Request<pb::BootstrapRequest>,
    ) -> GrpcResult<pb::BootstrapResponse> {
        let request = request.into_inner();
        let workspace_name = required("workspace_name", &request.workspace_name)?;
        let admin_name = required("admin_name", &request.admin_name)?;
        let email = email(&request.admin_email)?;
        let password = password(&request.admin_password)?;
        let outcome = self
            .store
            .bootstrap(&workspace_name, &admin_name, &email, &password)
            .await?;
        Ok(Response::new(pb::BootstrapResponse {
            created: outcome.created,
            workspace: Some(workspace_to_proto(outcome.workspace)),
            admin: outcome.admin.map(agent_to_proto),
        }))
    }

    async fn create_department(
        &self,
        request: Request<pb::CreateDepartmentRequest>,
    ) -> GrpcResult<pb::CreateDepartmentResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let name = required("name", &request.name)?;
        let settings = RoutingSettings {
            strategy: strategy_from_proto(request.strategy)?,
            sticky_window_secs: sticky_window(request.sticky_window_secs)?,
            required_skills: skills("required_skills", &request.required_skills)?,
            business_hours: request.business_hours.map(hours_from_proto).transpose()?,
            fallback_department_id: request
                .fallback_department_id
                .as_deref()
                .map(|id| parse_uuid("fallback_department_id", id))
                .transpose()?,
        };
        let department = self
            .store
            .create_department(&actor, workspace_id, &name, settings)
            .await?;
        Ok(Response::new(pb::CreateDepartmentResponse {
            department: Some(department_to_proto(department)),
        }))
    }

    async fn update_department(
        &self,
        request: Request<pb::UpdateDepartmentRequest>,
    ) -> GrpcResult<pb::UpdateDepartmentResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let department_id = parse_uuid("department_id", &request.department_id)?;
        let changes = DepartmentChanges {
            name: request
                .name
                .as_deref()
                .map(|name| required("name", name))
                .transpose()?,
            strategy: request.strategy.map(strategy_from_proto).transpose()?,
            sticky_window_secs: request.sticky_window_secs.map(sticky_window).transpose()?,
            required_skills: request
                .required_skills
                .map(|list| skills("required_skills", &list.values))
                .transpose()?,
            business_hours: match (request.clear_business_hours, request.business_hours) {
                (true, None) => Some(None),
                (true, Some(_)) => {
                    return Err(invalid_argument(
                        "business_hours",
                        "cannot set and clear business hours at once",
                    ));
                }
                (false, hours) => hours.map(hours_from_proto).transpose()?.map(Some),
            },
            fallback_department_id: match request.fallback_department_id.as_deref() {
                None => None,
                Some("") => Some(None),
                Some(id) => Some(Some(parse_uuid("fallback_department_id", id)?)),
            },
        };
        let department = self
            .store
            .update_department(&actor, workspace_id, department_id, changes)
            .await?;
        Ok(Response::new(pb::UpdateDepartmentResponse {
            department: Some(department_to_proto(department)),
        }))
    }

    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> GrpcResult<pb::ListDepartmentsResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let departments = self.store.departments(workspace_id).await?;
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments: departments.into_iter().map(department_to_proto).collect(),
        }))
    }

    async fn create_agent(
        &self,
        request: Request<pb::CreateAgentRequest>,
    ) -> GrpcResult<pb::CreateAgentResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let role = role_from_proto(request.role)?;
        let max_concurrent = capacity(request.max_concurrent, Some(3))?;
        let department_ids = uuids("department_ids", &request.department_ids)?;
        let new = NewAgent {
            workspace_id: parse_uuid("workspace_id", &request.workspace_id)?,
            name: required("name", &request.name)?,
            email: email(&request.email)?,
            password: password(&request.password)?,
            role,
            max_concurrent,
            department_ids,
            skills: skills("skills", &request.skills)?,
        };
        let agent = self.store.create_agent(&actor, new).await?;
        Ok(Response::new(pb::CreateAgentResponse {
            agent: Some(agent_to_proto(agent)),
        }))
    }

    async fn update_agent(
        &self,
        request: Request<pb::UpdateAgentRequest>,
    ) -> GrpcResult<pb::UpdateAgentResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let changes = AgentChanges {
            name: request
                .name
                .as_deref()
                .map(|name| required("name", name))
                .transpose()?,
            role: request.role.map(role_from_proto).transpose()?,
            max_concurrent: request
                .max_concurrent
                .map(|value| capacity(value, None))
                .transpose()?,
            skills: request
                .skills
                .map(|list| skills("skills", &list.values))
                .transpose()?,
            department_ids: request
                .department_ids
                .map(|list| uuids("department_ids", &list.values))
                .transpose()?,
            disabled: request.disabled,
        };
        let agent = self
            .store
            .update_agent(&actor, workspace_id, agent_id, changes)
            .await?;
        Ok(Response::new(pb::UpdateAgentResponse {
            agent: Some(agent_to_proto(agent)),
        }))
    }

    async fn reset_agent_password(
        &self,
        request: Request<pb::ResetAgentPasswordRequest>,
    ) -> GrpcResult<pb::ResetAgentPasswordResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.into_inner();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let new_password = password(&request.new_password)?;
        self.store
            .reset_password(&actor, workspace_id, agent_id, &new_password)
            .await?;
        Ok(Response::new(pb::ResetAgentPasswordResponse {}))
    }

    async fn get_agent(
        &self,
        request: Request<pb::GetAgentRequest>,
    ) -> GrpcResult<pb::GetAgentResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.get_ref().agent_id)?;
        let agent = self.store.agent(workspace_id, agent_id).await?;
        Ok(Response::new(pb::GetAgentResponse {
            agent: Some(agent_to_proto(agent)),
        }))
    }

    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> GrpcResult<pb::ListAgentsResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let department_id = request
            .department_id
            .as_deref()
            .map(|id| parse_uuid("department_id", id))
            .transpose()?;
        let status = status_from_proto("status", request.status)?;
        let agents = self
            .store
            .agents(workspace_id, department_id, status)
            .await?;
        Ok(Response::new(pb::ListAgentsResponse {
            agents: agents.into_iter().map(agent_to_proto).collect(),
        }))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> GrpcResult<pb::LoginResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        let request = request.get_ref();
        if request.email.trim().is_empty()
            || request.password.is_empty()
            || request.password.len() > MAX_FIELD_LEN
        {
            return Err(AgentError::InvalidCredentials.into());
        }
        let outcome = self
            .store
            .login(
                &actor,
                &request.email,
                &request.password,
                request.totp_code.as_deref(),
            )
            .await?;
        Ok(Response::new(pb::LoginResponse {
            token: outcome.token,
            agent: Some(agent_to_proto(outcome.agent)),
            expires_at: Some(timestamp(outcome.expires_at)),
        }))
    }

    async fn validate_token(
        &self,
        request: Request<pb::ValidateTokenRequest>,
    ) -> GrpcResult<pb::ValidateTokenResponse> {
        let token = request.get_ref().token.trim();
        if token.is_empty() || token.len() > MAX_FIELD_LEN {
            return Err(AgentError::SessionInvalid.into());
        }
        let (agent, workspace) = self.store.validate(token).await?;
        Ok(Response::new(pb::ValidateTokenResponse {
            agent: Some(agent_to_proto(agent)),
            workspace: Some(workspace_to_proto(workspace)),
        }))
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> GrpcResult<pb::LogoutResponse> {
        let actor = RequestActor::from_metadata(request.metadata());
        self.store
            .logout(&actor, request.get_ref().token.trim())
            .await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn renew_presence(
        &self,
        request: Request<pb::RenewPresenceRequest>,
    ) -> GrpcResult<pb::RenewPresenceResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let connection_id = connection_id(&request.connection_id)?;
        if !(1..=MAX_LEASE_SECS).contains(&request.ttl_secs) {
            return Err(invalid_argument("ttl_secs", "must be 1 to 3600"));
        }
        let status = self
            .store
            .renew_presence(
                workspace_id,
                agent_id,
                &connection_id,
                std::time::Duration::from_secs(u64::from(request.ttl_secs)),
            )
            .await?;
        Ok(Response::new(pb::RenewPresenceResponse {
            status: status_to_proto(status) as i32,
        }))
    }

    async fn end_presence(
        &self,
        request: Request<pb::EndPresenceRequest>,
    ) -> GrpcResult<pb::EndPresenceResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let connection_id = connection_id(&request.connection_id)?;
        self.store
            .end_presence(workspace_id, agent_id, &connection_id)
            .await?;
        Ok(Response::new(pb::EndPresenceResponse {}))
    }

    async fn get_availability(
        &self,
        request: Request<pb::GetAvailabilityRequest>,
    ) -> GrpcResult<pb::GetAvailabilityResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let department_id = request
            .department_id
            .as_deref()
            .map(|id| parse_uuid("department_id", id))
            .transpose()?;
        let availability = self.store.availability(workspace_id, department_id).await?;
        let (open, reason) = match availability {
            Availability::Open => (true, ""),
            Availability::OutsideHours => (false, "outside_hours"),
            Availability::NobodyOnline => (false, "nobody_online"),
        };
        Ok(Response::new(pb::GetAvailabilityResponse {
            open,
            reason: reason.to_owned(),
        }))
    }

    async fn list_canned_replies(
        &self,
        request: Request<pb::ListCannedRepliesRequest>,
    ) -> GrpcResult<pb::ListCannedRepliesResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = request
            .agent_id
            .as_deref()
            .map(|id| parse_uuid("agent_id", id))
            .transpose()?;
        let replies = self.store.canned_replies(workspace_id, agent_id).await?;
        Ok(Response::new(pb::ListCannedRepliesResponse {
            replies: replies.into_iter().map(canned_to_proto).collect(),
        }))
    }

    async fn get_canned_reply(
        &self,
        request: Request<pb::GetCannedReplyRequest>,
    ) -> GrpcResult<pb::GetCannedReplyResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("id", &request.get_ref().id)?;
        let reply = self.store.canned_reply(workspace_id, id).await?;
        Ok(Response::new(pb::GetCannedReplyResponse {
            reply: Some(canned_to_proto(reply)),
        }))
    }

    async fn create_canned_reply(
        &self,
        request: Request<pb::CreateCannedReplyRequest>,
    ) -> GrpcResult<pb::CreateCannedReplyResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let owner = request
            .owner_agent_id
            .as_deref()
            .map(|id| parse_uuid("owner_agent_id", id))
            .transpose()?;
        let shortcut = canned_shortcut(&request.shortcut)?;
        let text = canned_text(&request.text)?;
        let reply = self
            .store
            .create_canned_reply(workspace_id, owner, &shortcut, &text)
            .await?;
        Ok(Response::new(pb::CreateCannedReplyResponse {
            reply: Some(canned_to_proto(reply)),
        }))
    }

    async fn update_canned_reply(
        &self,
        request: Request<pb::UpdateCannedReplyRequest>,
    ) -> GrpcResult<pb::UpdateCannedReplyResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let id = parse_uuid("id", &request.id)?;
        let shortcut = request
            .shortcut
            .as_deref()
            .map(canned_shortcut)
            .transpose()?;
        let text = request.text.as_deref().map(canned_text).transpose()?;
        let reply = self
            .store
            .update_canned_reply(workspace_id, id, shortcut, text)
            .await?;
        Ok(Response::new(pb::UpdateCannedReplyResponse {
            reply: Some(canned_to_proto(reply)),
        }))
    }

    async fn delete_canned_reply(
        &self,
        request: Request<pb::DeleteCannedReplyRequest>,
    ) -> GrpcResult<pb::DeleteCannedReplyResponse> {
        let workspace_id = parse_uuid("workspace_id", &request.get_ref().workspace_id)?;
        let id = parse_uuid("id", &request.get_ref().id)?;
        self.store.delete_canned_reply(workspace_id, id).await?;
        Ok(Response::new(pb::DeleteCannedReplyResponse {}))
    }

    async fn set_agent_status(
        &self,
        request: Request<pb::SetAgentStatusRequest>,
    ) -> GrpcResult<pb::SetAgentStatusResponse> {
        let request = request.get_ref();
        let workspace_id = parse_uuid("workspace_id", &request.workspace_id)?;
        let agent_id = parse_uuid("agent_id", &request.agent_id)?;
        let status = status_from_proto("status", request.status)?
            .ok_or_else(|| invalid_argument("status", "must be set"))?;
        let agent = self
            .store
            .set_status(workspace_id, agent_id, status)
            .await?;
        Ok(Response::new(pb::SetAgentStatusResponse {
            agent: Some(agent_to_proto(agent)),
        }))
    }
}

/// Checks an audit action name: lowercase letters, digits, `_` and `.`, 3 to 64 characters.
fn audit_action(action: &str) -> Result<String, GrpcStatus> {
    let valid = (3..=64).contains(&action.len())
        && action.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._".contains(&byte)
        });
    if valid {
        Ok(action.to_owned())
    } else {
        Err(invalid_argument(
            "action",
            "must be 3 to 64 of a-z, 0-9, '_' and '.'",
        ))
    }
}

/// Checks an outcome; `requested` only when recording (completing sets a final one).
fn audit_outcome(outcome: &str, allow_requested: bool) -> Result<&'static str, GrpcStatus> {
    audit::outcome::ALL
        .into_iter()
        .find(|known| *known == outcome)
        .filter(|known| allow_requested || *known != audit::outcome::REQUESTED)
        .ok_or_else(|| invalid_argument("outcome", "unknown outcome"))
}

/// Checks an audit detail map: at most 32 entries of bounded keys and values.
fn audit_detail(
    detail: std::collections::HashMap<String, String>,
) -> Result<std::collections::BTreeMap<String, String>, GrpcStatus> {
    if detail.len() > 32
        || detail
            .iter()
            .any(|(key, value)| key.is_empty() || key.len() > 64 || value.len() > 1024)
    {
        return Err(invalid_argument("detail", "too many or too long entries"));
    }
    Ok(detail.into_iter().collect())
}

/// Returns `value` when it is 1 to `limit` bytes.
fn bounded(field: &'static str, value: String, limit: usize) -> Result<String, GrpcStatus> {
    if value.is_empty() || value.len() > limit {
        return Err(invalid_argument(field, "is empty or too long"));
    }
    Ok(value)
}

fn from_timestamp(at: prost_types::Timestamp) -> Result<chrono::DateTime<chrono::Utc>, GrpcStatus> {
    chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
        .ok_or_else(|| invalid_argument("since", "is not a valid time"))
}

fn audit_event_to_proto(event: crate::db::entity::audit_event::Model) -> pb::AuditEvent {
    pb::AuditEvent {
        id: u64::try_from(event.id).unwrap_or_default(),
        workspace_id: event.workspace_id.to_string(),
        occurred_at: Some(timestamp(event.occurred_at)),
        actor_id: event.actor_id,
        action: event.action,
        target_kind: event.target_kind,
        target_id: event.target_id,
        outcome: event.outcome,
        client_ip: event.client_ip,
        user_agent: event.user_agent,
        detail: serde_json::from_str(&event.detail).unwrap_or_default(),
    }
}

fn api_token_to_proto(token: crate::db::entity::api_token::Model) -> pb::ApiToken {
    pb::ApiToken {
        id: token.id.to_string(),
        workspace_id: token.workspace_id.to_string(),
        name: token.name,
        scopes: token
            .scopes
            .split(',')
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect(),
        prefix: token.prefix,
        rate_per_minute: u32::try_from(token.rate_per_minute).unwrap_or(0),
        created_by: token.created_by,
        created_at: Some(timestamp(token.created_at)),
        last_used_at: token.last_used_at.map(timestamp),
        expires_at: token.expires_at.map(timestamp),
        revoked_at: token.revoked_at.map(timestamp),
    }
}
