//! Errors as the browser sees them: an HTTP status and a stable snake_case code.
//!
//! Body: `{"error": {"code": "invalid_credentials", "message": "…"}}`. Codes are part of the
//! public API and never change meaning; messages are for humans and never carry internal text
//! (a gRPC `INTERNAL` from a service is already opaque, and is reported as `internal`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tonic::Code;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (rate limits).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// Returns an error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` of `seconds`.
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Returns `401 unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, invalid or expired token",
        )
    }

    /// Maps a service's gRPC status to a client error; `what` names the object for NOT_FOUND.
    pub fn from_status(status: &tonic::Status, what: &'static str) -> Self {
        match status.code() {
            Code::InvalidArgument => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                status.message(),
            ),
            Code::NotFound => Self::new(StatusCode::NOT_FOUND, what, status.message()),
            Code::AlreadyExists => {
                Self::new(StatusCode::CONFLICT, "already_exists", status.message())
            }
            Code::PermissionDenied => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", status.message())
            }
            Code::Unauthenticated => Self::unauthorized(),
            Code::FailedPrecondition => Self::new(
                StatusCode::CONFLICT,
                "failed_precondition",
                status.message(),
            ),
            Code::ResourceExhausted => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down")
            }
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "service temporarily unavailable, retry",
            ),
            _ => {
                tracing::error!(code = ?status.code(), message = status.message(), "service call failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_opaque() {
        let leaked = tonic::Status::internal(
            "duplicate key value violates unique constraint \"agent_email\"",
        );
        let error = ApiError::from_status(&leaked, "agent_not_found");
        assert_eq!(error.code, "internal");
        assert!(!error.message.contains("constraint"));
    }

    #[test]
    fn maps_codes_to_stable_names() {
        let cases = [
            (Code::NotFound, "agent_not_found", StatusCode::NOT_FOUND),
            (
                Code::Unauthenticated,
                "unauthorized",
                StatusCode::UNAUTHORIZED,
            ),
            (
                Code::Unavailable,
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Code::InvalidArgument,
                "invalid_argument",
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (code, name, http) in cases {
            let error = ApiError::from_status(&tonic::Status::new(code, "x"), "agent_not_found");
            assert_eq!((error.code, error.status), (name, http));
        }
    }
}
