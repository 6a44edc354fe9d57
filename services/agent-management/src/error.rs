//! Errors of agent management and their one mapping to gRPC status codes.

use switchboard_platform::grpc;
use tonic::Status;

/// Result alias of this crate.
pub type AgentResult<T, E = AgentError> = std::result::Result<T, E>;

/// Everything that can go wrong in agent management.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent is disabled")]
    AgentDisabled,
    #[error("agent not found")]
    AgentNotFound,
    #[error("api token not found")]
    ApiTokenNotFound,
    #[error("audit event not found")]
    AuditEventNotFound,
    #[error("canned reply not found")]
    CannedReplyNotFound,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("department not found")]
    DepartmentNotFound,
    #[error("email already registered")]
    EmailTaken,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("the workspace needs an enabled admin")]
    LastAdmin,
    #[error("session invalid or expired")]
    SessionInvalid,
    #[error("session not found")]
    SessionNotFound,
    #[error("a two-factor code is required")]
    TotpRequired,
    #[error("invalid two-factor code")]
    InvalidTotp,
    #[error("start-up failed: {0}")]
    Startup(String),
    #[error("too many failed logins; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    #[error("workspace not found")]
    WorkspaceNotFound,
}

impl AgentError {
    /// Returns a validation error for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            reason: reason.into(),
        }
    }
}

impl From<AgentError> for Status {
    fn from(error: AgentError) -> Self {
        match &error {
            AgentError::AgentNotFound => grpc::not_found("agent"),
            AgentError::CannedReplyNotFound => grpc::not_found("canned reply"),
            AgentError::AuditEventNotFound => grpc::not_found("audit event"),
            AgentError::ApiTokenNotFound => grpc::not_found("api token"),
            AgentError::AgentDisabled => Status::permission_denied("agent is disabled"),
            AgentError::DepartmentNotFound => grpc::not_found("department"),
            AgentError::WorkspaceNotFound => grpc::not_found("workspace"),
            AgentError::EmailTaken => Status::already_exists("email already registered"),
            AgentError::InvalidCredentials => Status::unauthenticated("invalid email or password"),
            AgentError::SessionInvalid => Status::unauthenticated("session invalid or expired"),
            AgentError::SessionNotFound => grpc::not_found("session"),
            AgentError::TotpRequired | AgentError::InvalidTotp => {
                let reason = if matches!(error, AgentError::TotpRequired) {
                    "totp_required"
                } else {
                    "invalid_totp"
                };
                grpc::unauthenticated(error.to_string(), reason)
            }
            AgentError::InvalidField { field, reason } => grpc::invalid_argument(field, reason),
            AgentError::LastAdmin => {
                Status::failed_precondition("the workspace needs an enabled admin")
            }
            AgentError::TooManyAttempts { retry_after } => {
                let mut status = Status::resource_exhausted(error.to_string());
                if let Ok(value) = retry_after.to_string().parse() {
                    status.metadata_mut().insert("retry-after", value);
                }
                status
            }
            AgentError::Db(db) => grpc::db_status(db),
            AgentError::Hashing(_) | AgentError::Startup(_) => grpc::internal(&error),
        }
    }
}
