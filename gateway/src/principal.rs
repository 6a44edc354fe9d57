//! Who a REST request acts as: a signed-in agent (session token) or an integration (API token
//! `sbk_…`), and what it may do.
//!
//! | need | agent session | API token scopes |
//! |---|---|---|
//! | [`Need::Read`] | any agent | `read`, `write` or `admin` |
//! | [`Need::Write`] | any agent | `write` or `admin` |
//! | [`Need::Admin`] | role `admin` | `admin` |
//!
//! API tokens are rate-limited per token on each gateway (the token's `rate_per_minute`, with
//! bursts of ten seconds' worth): beyond it 429 `rate_limited` with `Retry-After`. Refused tokens
//! answer 401 with a code saying why: `unauthorized` (unknown), `token_revoked`, `token_expired`.

use crate::error::ApiError;
use crate::http::bearer;
use crate::state::Gateway;
use crate::ws::limits::RateLimiter;
use axum::http::{HeaderMap, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use switchboard_platform::actor::RequestActor;
use switchboard_proto::agent::v1 as agent_pb;
use switchboard_proto::common::v1::AgentRole;

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
    Admin,
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Agent {
        agent: agent_pb::Agent,
        workspace: agent_pb::Workspace,
    },
    Token {
        token: agent_pb::ApiToken,
        workspace: agent_pb::Workspace,
    },
}

impl Principal {
    /// The caller's workspace id.
    pub fn workspace_id(&self) -> &str {
        match self {
            Self::Agent { workspace, .. } | Self::Token { workspace, .. } => &workspace.id,
        }
    }

    /// The id recorded as actor in the audit log: the agent id, or `token:<id>`.
    pub fn actor_id(&self) -> String {
        match self {
            Self::Agent { agent, .. } => agent.id.clone(),
            Self::Token { token, .. } => format!("token:{}", token.id),
        }
    }

    /// Whether the caller may do what `need` names.
    pub fn allows(&self, need: Need) -> bool {
        match self {
            Self::Agent { agent, .. } => {
                need != Need::Admin || agent.role == AgentRole::Admin as i32
            }
            Self::Token { token, .. } => {
                let has = |scope: &str| token.scopes.iter().any(|held| held == scope);
                has("admin")
                    || match need {
                        Need::Read => has("read") || has("write"),
                        Need::Write => has("write"),
                        Need::Admin => false,
                    }
            }
        }
    }

    /// The caller for the services' audit log.
    pub fn actor(&self, headers: &HeaderMap) -> RequestActor {
        crate::client::actor(headers, Some(self.actor_id()))
    }
}

/// Per-token request buckets of this gateway.
#[derive(Debug, Default)]
pub struct TokenLimits {
    buckets: Mutex<HashMap<String, RateLimiter>>,
}

/// Buckets kept before idle ones are dropped.
const MAX_BUCKETS: usize = 10_000;

impl TokenLimits {
    /// Takes one request from the token's bucket; `Err(seconds)` to wait when it is empty.
    fn take(&self, token: &agent_pb::ApiToken) -> Result<(), u64> {
        let per_minute = token.rate_per_minute.max(1);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("token limits lock");
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&token.id) {
            // Full buckets are no different from new ones: drop them to stay bounded.
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        let bucket = buckets
            .entry(token.id.clone())
            .or_insert_with(|| RateLimiter::per_minute(per_minute, (per_minute / 6).max(1), now));
        if bucket.allow(now) {
            Ok(())
        } else {
            Err((60 / u64::from(per_minute)).max(1))
        }
    }
}

/// Returns the caller of a request if it may do `need`: 401 without valid credentials, 403
/// when its role or scopes do not allow it, 429 past its token's rate.
pub async fn require(
    gateway: &Gateway,
    headers: &HeaderMap,
    need: Need,
) -> Result<Principal, ApiError> {
    let presented = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let principal = if presented.starts_with("sbk_") {
        token_principal(gateway, presented).await?
    } else {
        let session = crate::http::authenticate(gateway, headers).await?;
        match (session.agent, session.workspace) {
            (Some(agent), Some(workspace)) => Principal::Agent { agent, workspace },
            _ => return Err(ApiError::unauthorized()),
        }
    };
    if !principal.allows(need) {
        let message = match (&principal, need) {
            (Principal::Agent { .. }, _) => "administrators only",
            (Principal::Token { .. }, Need::Admin) => "this token lacks the admin scope",
            (Principal::Token { .. }, _) => "this token lacks the write scope",
        };
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", message));
    }
    Ok(principal)
}

async fn token_principal(gateway: &Gateway, presented: &str) -> Result<Principal, ApiError> {
    let response = gateway
        .peers
        .agents
        .clone()
        .authenticate_api_token(agent_pb::AuthenticateApiTokenRequest {
            token: presented.to_owned(),
        })
        .await;
    let response = match response {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == tonic::Code::Unauthenticated => {
            return Err(
                match switchboard_platform::grpc::unauthenticated_reason(&status) {
                    Some("revoked") => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "token_revoked",
                        "this API token was revoked",
                    ),
                    Some("expired") => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "token_expired",
                        "this API token has expired",
                    ),
                    _ => ApiError::unauthorized(),
                },
            );
        }
        Err(status) => return Err(ApiError::from_status(&status, "not_found")),
    };
    let (Some(token), Some(workspace)) = (response.api_token, response.workspace) else {
        return Err(ApiError::unauthorized());
    };
    if let Err(retry_after) = gateway.token_limits.take(&token) {
        metrics::counter!("switchboard_api_rate_limited_total").increment(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this token allows {} requests a minute",
                token.rate_per_minute
            ),
        )
        .with_retry_after(retry_after));
    }
    Ok(Principal::Token { token, workspace })
}
