//! Errors of conversation history and their one mapping to gRPC status codes.

use switchboard_platform::grpc;
use tonic::Status;

/// Result alias of this crate.
pub type HistoryResult<T, E = HistoryError> = std::result::Result<T, E>;

/// Everything that can go wrong in conversation history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("conversation already rated")]
    AlreadyRated,
    #[error("conversation is closed")]
    ConversationClosed,
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("the sender is not a participant of this conversation")]
    NotParticipant,
    #[error("no rating was asked for")]
    RatingNotRequested,
    #[error("seq is beyond the conversation's last message")]
    SeqBeyondLast,
    #[error("start-up failed: {0}")]
    Startup(String),
    #[error("visitor not found")]
    VisitorNotFound,
}

impl From<HistoryError> for Status {
    fn from(error: HistoryError) -> Self {
        match &error {
            HistoryError::ConversationClosed => {
                Status::failed_precondition("conversation is closed")
            }
            HistoryError::ConversationNotFound => grpc::not_found("conversation"),
            HistoryError::AlreadyRated => Status::already_exists("conversation already rated"),
            HistoryError::SeqBeyondLast => {
                grpc::invalid_argument("seq", "is beyond the conversation's last message")
            }
            HistoryError::RatingNotRequested => {
                Status::failed_precondition("no rating was asked for")
            }
            HistoryError::VisitorNotFound => grpc::not_found("visitor"),
            HistoryError::NotParticipant => {
                Status::permission_denied("the sender is not a participant of this conversation")
            }
            HistoryError::Db(db) => grpc::db_status(db),
            HistoryError::Startup(_) => grpc::internal(&error),
        }
    }
}
