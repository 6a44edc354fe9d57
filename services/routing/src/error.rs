//! Errors of routing and their one mapping to gRPC status codes.

use switchboard_platform::grpc;
use tonic::Status;

/// Result alias of this crate.
pub type RoutingResult<T, E = RoutingError> = std::result::Result<T, E>;

/// Everything that can go wrong in routing.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("bus error: {0}")]
    Bus(#[from] switchboard_platform::bus::BusError),
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
            RoutingError::Db(db) => grpc::db_status(db),
            RoutingError::Peer(status) if status.code() == tonic::Code::Unavailable => {
                grpc::unavailable(&error)
            }
            RoutingError::Bus(_) | RoutingError::Peer(_) | RoutingError::Startup(_) => {
                grpc::internal(&error)
            }
        }
    }
}
