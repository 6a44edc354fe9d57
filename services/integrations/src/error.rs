//! Errors of the integrations service and their one mapping to gRPC status codes.

use switchboard_platform::grpc;
use tonic::Status;

/// Result alias of this crate.
pub type IntegrationsResult<T, E = IntegrationsError> = std::result::Result<T, E>;

/// Everything that can go wrong in integrations.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationsError {
    #[error(
        "cursor: events after it were dropped by the retention window; start again from an empty cursor"
    )]
    CursorExpired,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("delivery not found")]
    DeliveryNotFound,
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("start-up failed: {0}")]
    Startup(String),
    #[error("webhook not found")]
    WebhookNotFound,
}

impl IntegrationsError {
    /// Returns a validation error for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            reason: reason.into(),
        }
    }
}

impl From<IntegrationsError> for Status {
    fn from(error: IntegrationsError) -> Self {
        match &error {
            IntegrationsError::DeliveryNotFound => grpc::not_found("delivery"),
            IntegrationsError::WebhookNotFound => grpc::not_found("webhook"),
            IntegrationsError::InvalidField { field, reason } => {
                grpc::invalid_argument(field, reason)
            }
            IntegrationsError::CursorExpired => Status::failed_precondition(error.to_string()),
            IntegrationsError::Db(db) => grpc::db_status(db),
            IntegrationsError::Startup(_) => grpc::internal(&error),
        }
    }
}
