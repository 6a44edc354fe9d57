//! Errors of routing and their one mapping to gRPC status codes.

use switchboard_platform::grpc;
use tonic::Status;

/// Result alias of this crate.
pub type RoutingResult<T, E = RoutingError> = std::result::Result<T, E>;

/// Everything that can go wrong in routing.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("agent not found")]
    AgentNotFound,
    #[error("another drain of this queue kept running")]
    Busy,
    #[error("bus error: {0}")]
    Bus(#[from] switchboard_platform::bus::BusError),
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("peer service call failed: {0}")]
    Peer(#[from] Status),
    #[error("start-up failed: {0}")]
    Startup(String),
}

impl From<RoutingError> for Status {
    fn from(error: RoutingError) -> Self {
        match &error {
            RoutingError::AgentNotFound => grpc::not_found("agent"),
            RoutingError::ConversationNotFound => grpc::not_found("conversation"),
            RoutingError::Db(db) => grpc::db_status(db),
            RoutingError::Busy => Status::unavailable("queue busy, retry"),
            // A peer's "not found" (an unknown agent or conversation id) is the caller's error.
            RoutingError::Peer(status) if status.code() == tonic::Code::NotFound => {
                Status::not_found(status.message().to_owned())
            }
            RoutingError::Peer(status) if status.code() == tonic::Code::InvalidArgument => {
                Status::invalid_argument(status.message().to_owned())
            }
            RoutingError::Peer(status) if status.code() == tonic::Code::Unavailable => {
                grpc::unavailable(&error)
            }
            RoutingError::Bus(_) | RoutingError::Peer(_) | RoutingError::Startup(_) => {
                grpc::internal(&error)
            }
        }
    }
}
